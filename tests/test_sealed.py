"""Two-step secrets sealed at rest (support/sealed.py): unreadable in the database, readable with
the secret key, and still readable through a key rotation."""

from __future__ import annotations

import pytest

from assessment.support import sealed


@pytest.fixture(autouse=True)
def restore_configuration():
    yield
    sealed.configure("test-secret")


def test_a_sealed_secret_does_not_show_the_secret_and_opens_with_the_key():
    sealed.configure("key-one")
    stored = sealed.seal("JBSWY3DPEHPK3PXP")
    assert stored.startswith(sealed.PREFIX) and "JBSWY3DPEHPK3PXP" not in stored
    assert sealed.seal("JBSWY3DPEHPK3PXP") != stored  # a fresh IV each time
    assert sealed.unseal(stored) == "JBSWY3DPEHPK3PXP"
    assert not sealed.needs_resealing(stored)


def test_a_value_from_before_sealing_is_read_and_marked_for_sealing():
    sealed.configure("key-one")
    assert sealed.unseal("JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"
    assert sealed.needs_resealing("JBSWY3DPEHPK3PXP")


def test_a_rotated_key_still_opens_old_values_until_the_fallback_goes():
    sealed.configure("old-key")
    stored = sealed.seal("secret")
    sealed.configure("new-key", ["old-key"])
    assert sealed.unseal(stored) == "secret"
    assert sealed.needs_resealing(stored)
    resealed = sealed.seal(sealed.unseal(stored))
    assert not sealed.needs_resealing(resealed)
    sealed.configure("new-key")
    assert sealed.unseal(resealed) == "secret"
    with pytest.raises(sealed.SealError):
        sealed.unseal(stored)


def test_an_altered_value_is_refused():
    sealed.configure("key-one")
    stored = sealed.seal("secret")
    tampered = stored[:-5] + ("A" if stored[-5] != "A" else "B") + stored[-4:]
    with pytest.raises(sealed.SealError):
        sealed.unseal(tampered)
    with pytest.raises(sealed.SealError):
        sealed.unseal(sealed.PREFIX + "not base64 at all!")


@pytest.mark.both_backends
def test_secrets_from_before_sealing_are_sealed_at_start_up_and_still_work(db):
    import pyotp

    from assessment.storage import accounts

    sealed.configure("test-secret")
    firm = accounts.create_firm(db, "Northgate Dental")
    member = accounts.create_user(db, firm, "ana@northgate.example", "Ana Northgate",
                                  "tulip radiator seven", role="admin")
    plain = pyotp.random_base32()
    with db.write():
        db.execute("UPDATE users SET totp_enabled = 1, totp_secret = ? WHERE id = ?",
                   [plain, member])

    assert accounts.seal_two_step_secrets(db) == 1
    stored = db.one("SELECT totp_secret FROM users WHERE id = ?", [member])["totp_secret"]
    assert stored.startswith(sealed.PREFIX) and plain not in stored
    assert accounts.seal_two_step_secrets(db) == 0  # nothing left to do

    code = pyotp.TOTP(plain).now()
    assert accounts.verify_totp(db, firm, member, code) == "ok"
