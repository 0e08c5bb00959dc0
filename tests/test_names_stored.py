"""Names as the database keeps them: composed form, no hidden characters, and no firm that reads
as another (storage/accounts/firms.py, members.py, clients.py with support/inputs.py)."""

from __future__ import annotations

import pytest

from assessment.storage import accounts, clients
from assessment.storage.accounts import AccountError

pytestmark = pytest.mark.both_backends


def test_a_look_alike_of_another_firms_name_is_refused(db):
    accounts.create_firm(db, "Alpha Advisory")
    for look_alike in ("ALPHA  ADVISORY", "A1pha Advisory", "Álpha Advisory"):
        with pytest.raises(AccountError) as refused:
            accounts.create_firm(db, look_alike)
        assert refused.value.field == "firm"
        assert refused.value.message == accounts.FIRM_NAME_TAKEN
    # A look-alike letter from another alphabet is refused for what it is.
    with pytest.raises(AccountError, match="mixes letters of different alphabets"):
        accounts.create_firm(db, "Alpha Adv\u0456sory")
    other = accounts.create_firm(db, "Alpha Advisors")
    with pytest.raises(AccountError, match="Another firm already has this name"):
        accounts.update_branding(db, other, name="alpha advisory")
    assert [row["name"] for row in db.rows("SELECT name FROM firms ORDER BY id")] == [
        "Alpha Advisory", "Alpha Advisors"]


def test_hidden_characters_are_refused_and_names_are_kept_composed(db):
    with pytest.raises(AccountError, match=r"hidden character \(U\+202E\)"):
        accounts.create_firm(db, "Dental\u202e Care")
    firm = accounts.create_firm(db, "Zoe\u0308 Dental")  # e + combining diaeresis
    member = accounts.create_user(db, firm, "zoe@dental.example", "Zoe\u0308 Ølstad",
                                  "tulip radiator seven")
    client = clients.create_client(db, firm, name="Cafe\u0301 Nord")
    assert accounts.get_firm(db, firm)["name"] == "Zo\u00eb Dental"
    assert accounts.get_user(db, firm, member).name == "Zo\u00eb Ølstad"
    assert clients.get_client(db, firm, client)["name"] == "Caf\u00e9 Nord"
    with pytest.raises(AccountError, match="hidden character"):
        accounts.create_user(db, firm, "eve@dental.example", "Eve\u200b", "tulip radiator seven")
