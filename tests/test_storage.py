"""Storage on real engines, SQLite files and a PostgreSQL server: durability settings, versioned
idempotent saves (also when they race), bank snapshots, backup and restore."""

from __future__ import annotations

import re
import sqlite3
import threading
from datetime import UTC, datetime

import pytest

from assessment.core.bank import Answer, load_bank
from assessment.storage import (
    Conflict,
    NotFound,
    answers_for_scoring,
    bank_of,
    connect,
    create_assessment,
    export_assessment,
    get_assessment,
    migrate,
    save_answer,
    stored_answers,
)
from assessment.storage import accounts, clients, handoffs, times

pytestmark = pytest.mark.both_backends

DAILY = Answer("answered", "daily")
WEEKLY = Answer("answered", "weekly")


def test_connection_commits_to_disk_before_it_answers(db):
    """The durability rules: an acknowledged answer survives a crash, writers wait their turn."""
    if db.engine == "postgresql":
        assert db.one("SHOW synchronous_commit") == {"synchronous_commit": "on"}
        assert db.one("SHOW transaction_isolation") == {"transaction_isolation": "read committed"}
        return
    assert db.one("PRAGMA journal_mode") == {"journal_mode": "wal"}
    assert db.one("PRAGMA synchronous") == {"synchronous": 2}  # FULL
    assert db.one("PRAGMA foreign_keys") == {"foreign_keys": 1}
    assert db.one("PRAGMA busy_timeout")["timeout"] >= 5000


def test_a_new_database_opened_while_another_process_creates_it_still_gets_wal(tmp_path):
    """Several workers booting at once on a new database: one is creating it (holding its write
    lock, still in the default journal mode) while another asks for WAL. The second must wait its
    turn instead of failing to boot with "database is locked"."""
    path = tmp_path / "new.sqlite"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("BEGIN IMMEDIATE")
    first.execute("CREATE TABLE made_by_the_first_worker (x)")
    releases = threading.Timer(0.3, first.execute, ["COMMIT"])
    releases.start()
    try:
        second = connect(path)
    finally:
        releases.join()
        first.close()
    assert second.one("PRAGMA journal_mode") == {"journal_mode": "wal"}
    assert "made_by_the_first_worker" in second.table_names()
    second.close()


def test_migrations_run_once(db):
    assert migrate(db) == []
    assert {"banks", "assessments", "answers", "answer_writes"} <= set(db.table_names())


def test_save_returns_increasing_versions_and_keeps_the_answer(db, mini_bank):
    aid = create_assessment(db, mini_bank)
    assert save_answer(db, aid, "backup.automatic", base_version=0, answer=WEEKLY).version == 1
    assert save_answer(db, aid, "backup.automatic", base_version=1, answer=DAILY).version == 2
    assert answers_for_scoring(db, aid) == {"backup.automatic": DAILY}


def test_stale_write_is_refused_with_the_current_answer(db, mini_bank):
    """Two tabs: the second, based on an old version, must not silently overwrite the first."""
    aid = create_assessment(db, mini_bank)
    save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY)
    with pytest.raises(Conflict) as caught:
        save_answer(db, aid, "backup.automatic", base_version=0, answer=WEEKLY)
    assert caught.value.current.answer == DAILY
    assert caught.value.current.version == 1
    assert answers_for_scoring(db, aid)["backup.automatic"] == DAILY


def test_replayed_write_changes_nothing(db, mini_bank):
    """A retried request (same client key) must not bump the version or apply twice."""
    aid = create_assessment(db, mini_bank)
    first = save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY, client_key="k1")
    again = save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY, client_key="k1")
    assert (first.version, first.replayed, again.version, again.replayed) == (1, False, 1, True)
    assert stored_answers(db, aid)["backup.automatic"].version == 1


def test_unknown_assessment_is_not_found(db):
    with pytest.raises(NotFound):
        save_answer(db, "nope", "backup.automatic", base_version=0, answer=DAILY)
    with pytest.raises(NotFound):
        get_assessment(db, "nope")


def test_values_round_trip(db, mini_bank):
    aid = create_assessment(db, mini_bank)
    save_answer(db, aid, "backup.scope", base_version=0,
                answer=Answer("answered", ("files", "systems")))
    save_answer(db, aid, "security.patch_days", base_version=0, answer=Answer("answered", 7))
    save_answer(db, aid, "backup.tested", base_version=0, answer=Answer.not_sure())
    assert answers_for_scoring(db, aid) == {
        "backup.scope": Answer("answered", ("files", "systems")),
        "security.patch_days": Answer("answered", 7),
        "backup.tested": Answer.not_sure(),
    }


def test_note_and_verified_keep_the_answer(db, mini_bank):
    aid = create_assessment(db, mini_bank)
    save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY)
    save_answer(db, aid, "backup.automatic", base_version=1, note="Checked the console")
    stored = stored_answers(db, aid)["backup.automatic"]
    assert (stored.answer, stored.note, stored.version) == (DAILY, "Checked the console", 2)


def test_consultant_answer_stands_beside_the_owners(db, mini_bank):
    """The client's own answer stays on record; the consultant's verified one is what scores."""
    aid = create_assessment(db, mini_bank)
    save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY, source="owner")
    save_answer(db, aid, "backup.automatic", base_version=0, answer=WEEKLY,
                source="consultant", verified=True)
    assert answers_for_scoring(db, aid)["backup.automatic"] == WEEKLY
    assert stored_answers(db, aid, "owner")["backup.automatic"].answer == DAILY
    assert stored_answers(db, aid, "consultant")["backup.automatic"].verified


def test_old_assessment_keeps_its_bank_after_the_bank_changes(db, mini_bank_dir):
    """Changing questions/ never changes an existing assessment's answers or score."""
    old_bank = load_bank(mini_bank_dir)
    aid = create_assessment(db, old_bank)
    save_answer(db, aid, "backup.automatic", base_version=0, answer=WEEKLY)
    text = (mini_bank_dir / "backup.yaml").read_text()
    (mini_bank_dir / "backup.yaml").write_text(
        text.replace("{id: weekly, label: Every week, score: 5}",
                     "{id: weekly, label: Every week, score: 1}"))
    new_bank = load_bank(mini_bank_dir)
    assert new_bank.hash != old_bank.hash
    kept = bank_of(db, get_assessment(db, aid))
    assert kept.hash == old_bank.hash
    assert kept.question_by_id["backup.automatic"].choice_by_id["weekly"].score == 5


def test_concurrent_writers_do_not_see_locked_errors(db_target, mini_bank):
    """Several connections saving at once wait for the lock instead of failing."""
    path = db_target
    setup = connect(path)
    migrate(setup)
    aid = create_assessment(setup, mini_bank)
    setup.close()
    errors = []

    def worker(n):
        db = connect(path)
        try:
            for i in range(30):
                save_answer(db, aid, f"q.w{n}_{i}", base_version=0, answer=DAILY)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check = connect(path)
    assert check.one("SELECT count(*) AS n FROM answers") == {"n": 120}
    check.close()


def test_saves_handed_in_together_share_one_commit_and_keep_their_own_outcome(tmp_path,
                                                                               mini_bank):
    """Group commit: saves from several threads that arrive while the write lock is busy are
    committed together (one flush to disk), and a save that is refused (a stale version) leaves
    the others saved."""
    from assessment.storage import sqlite as db_module

    path = tmp_path / "batch.sqlite"
    setup = connect(path)
    migrate(setup)
    aid = create_assessment(setup, mini_bank)
    save_answer(setup, aid, "q.taken", base_version=0, answer=WEEKLY)
    commits = []
    outcomes = {}

    def saver(name, question, base):
        db = connect(path)
        db.conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
        try:
            outcomes[name] = save_answer(db, aid, question, base_version=base, answer=DAILY)
        except Conflict as conflict:
            outcomes[name] = conflict
        finally:
            db.close()

    threads = [threading.Thread(target=saver, args=args) for args in
               (("first", "q.one", 0), ("second", "q.two", 0), ("stale", "q.taken", 0))]
    with db_module._WRITERS:  # another writer is busy: the three saves queue up together
        for t in threads:
            t.start()
        for _ in range(500):
            batch = db_module._FORMING.get(setup.writer_lock)
            if batch is not None and len(batch.jobs) == 3:
                break
            threading.Event().wait(0.01)
        else:
            pytest.fail("the three saves never gathered in one batch")
    for t in threads:
        t.join()

    assert commits == ["COMMIT"]  # one commit for all three
    assert outcomes["first"].version == outcomes["second"].version == 1
    assert isinstance(outcomes["stale"], Conflict)
    assert outcomes["stale"].current.answer == WEEKLY
    stored = answers_for_scoring(setup, aid)
    assert stored["q.one"] == stored["q.two"] == DAILY and stored["q.taken"] == WEEKLY
    setup.close()


def test_a_batch_that_cannot_take_the_lock_fails_its_saves_and_the_next_save_works(
        tmp_path, mini_bank, monkeypatch):
    from assessment.storage import sqlite as db_module

    db = connect(tmp_path / "lock.sqlite")
    migrate(db)
    aid = create_assessment(db, mini_bank)
    real_lock = db_module._file_lock

    def broken_lock(database):
        raise OSError("the lock file could not be locked")

    monkeypatch.setattr(db_module, "_file_lock", broken_lock)
    with pytest.raises(OSError):
        save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY)
    monkeypatch.setattr(db_module, "_file_lock", real_lock)
    assert save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY).version == 1


def test_backup_and_restore(tmp_path, db, mini_bank):
    """A backup is a checked, consistent copy; restoring it brings back exactly what it held."""
    aid = create_assessment(db, mini_bank)
    save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY)
    target = tmp_path / "backups" / "copy.sqlite"
    db.backup(target)
    with pytest.raises(FileExistsError):
        db.backup(target)
    save_answer(db, aid, "backup.automatic", base_version=1, answer=WEEKLY)
    db.restore(target)
    assert db.integrity_ok()
    assert answers_for_scoring(db, aid) == {"backup.automatic": DAILY}


def test_restore_refuses_a_file_that_is_not_a_database(tmp_path, db, mini_bank):
    aid = create_assessment(db, mini_bank)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="not a (SQLite database|PostgreSQL backup)"):
        db.restore(junk)
    assert get_assessment(db, aid)["id"] == aid  # left as it was


def test_a_backup_holds_nothing_written_after_it_and_a_restore_drops_tables_added_since(
        tmp_path, db, mini_bank):
    """Restoring brings the whole database back to the backup's moment, schema included: a
    table made after the backup is gone, and migrations bring it back (empty)."""
    aid = create_assessment(db, mini_bank)
    target = tmp_path / "copy.backup"
    db.backup(target)
    later = create_assessment(db, mini_bank)
    with db.write():
        db.execute("CREATE TABLE made_later (x TEXT)")
    db.restore(target)
    assert "made_later" not in db.table_names()
    assert get_assessment(db, aid)["id"] == aid
    with pytest.raises(NotFound):
        get_assessment(db, later)
    assert migrate(db) == [] and db.integrity_ok()


def test_every_stored_time_has_one_form_and_an_older_form_reads_as_the_same_time(db, mini_bank):
    """Times are stored UTC to the millisecond, all one width, so SQL's order of them is their
    order in time; a time stored to the second, as older versions stored expiries, is read as
    the same time and compared as a time."""
    firm = accounts.create_firm(db, "Northgate IT")
    with db.write():
        user = db.insert("users", {"firm_id": firm, "email": "ana@northgate.example",
                                   "name": "Ana", "role": "admin", "password_hash": "x",
                                   "created_at": times.stamp()})
    client = clients.create_client(db, firm, name="Acme Dental")
    aid = clients.start_client_assessment(db, mini_bank, firm, client, mode="self",
                                          created_by=user, resume_token_hash="h")
    save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY, client_key="k")
    clients.create_claim_link(db, firm, user, client)
    handoffs.create_handoff(db, aid, "backup")
    accounts.create_invite(db, firm, user)
    accounts.start_login(db, user)
    accounts.rate_limit_hit(db, "sign-in:10.0.0.1", 5, 60)
    with db.write():
        db.execute("UPDATE users SET locked_until = ?", [times.stamp()])
    one_form = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
    seen = 0
    for table, spec in db.schema().items():
        for column in spec["columns"]:
            if column.endswith("_at") or column in ("locked_until", "window_start"):
                for row in db.rows(f'SELECT "{column}" AS t FROM "{table}" '  # nosec B608
                                   f'WHERE "{column}" IS NOT NULL'):
                    assert one_form.fullmatch(row["t"]), (table, column, row["t"])
                    seen += 1
    assert seen >= 20
    assert times.parse("2025-03-04T14:05:00+00:00") == times.parse(
        "2025-03-04T14:05:00.000+00:00") == datetime(2025, 3, 4, 14, 5, tzinfo=UTC)
    assert times.stamp(datetime(2025, 3, 4, 14, 5)) == "2025-03-04T14:05:00.000+00:00"
    assert clients.self_link_refusal({"link_expires_at": "2020-01-31T00:00:00+00:00"}) \
        == "expired"
    assert clients.self_link_refusal({"link_expires_at": "2999-01-31T00:00:00+00:00"}) is None


def test_export_holds_answers_and_records(db, mini_bank):
    aid = create_assessment(db, mini_bank)
    save_answer(db, aid, "backup.tested", base_version=0, answer=Answer.not_sure(), note="ask")
    data = export_assessment(db, aid)
    assert data["bank"] == "example"
    assert data["answers"] == {"backup.tested": {"state": "not_sure"}}
    assert data["records"][0]["note"] == "ask"


def _race(count, action):
    """Run action(n) for n in range(count) in threads released at the same instant, each on its
    own connection; returns the outcomes (a value or the exception) by n."""
    barrier = threading.Barrier(count)
    outcomes = {}

    def run(n):
        barrier.wait()
        try:
            outcomes[n] = action(n)
        except Exception as error:  # the outcome under test
            outcomes[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_racing_saves_of_one_answer_one_wins_and_the_others_get_the_conflict(db_target,
                                                                            mini_bank):
    """Six tabs save the same question from the same version at the same instant: exactly one
    is saved (version 2), every other is refused with the winner's answer, nothing is lost or
    saved twice. On PostgreSQL, by the row lock the save takes on its assessment."""
    setup = connect(db_target)
    aid = create_assessment(setup, mini_bank)
    save_answer(setup, aid, "backup.automatic", base_version=0, answer=WEEKLY)
    choices = [Answer("answered", f"choice{n}") for n in range(6)]

    def save(n):
        db = connect(db_target)
        try:
            return save_answer(db, aid, "backup.automatic", base_version=1, answer=choices[n])
        finally:
            db.close()

    outcomes = _race(6, save)
    saved = [n for n, outcome in outcomes.items() if not isinstance(outcome, Exception)]
    assert len(saved) == 1 and outcomes[saved[0]].version == 2
    winner = choices[saved[0]]
    for n, outcome in outcomes.items():
        if n != saved[0]:
            assert isinstance(outcome, Conflict), outcome
            assert outcome.current.answer == winner and outcome.current.version == 2
    assert stored_answers(setup, aid)["backup.automatic"].answer == winner
    setup.close()


def test_a_save_sent_several_times_at_once_applies_once(db_target, mini_bank):
    """The same request (same client key) resent while the first is still in flight: applied
    once, and every copy answers with the version it got."""
    setup = connect(db_target)
    aid = create_assessment(setup, mini_bank)

    def save(n):
        db = connect(db_target)
        try:
            return save_answer(db, aid, "backup.automatic", base_version=0, answer=DAILY,
                               client_key="resent")
        finally:
            db.close()

    outcomes = _race(6, save)
    assert all(not isinstance(o, Exception) for o in outcomes.values()), outcomes
    assert {o.version for o in outcomes.values()} == {1}
    assert sum(not o.replayed for o in outcomes.values()) == 1
    assert stored_answers(setup, aid)["backup.automatic"].version == 1
    assert setup.one("SELECT count(*) AS n FROM answer_writes") == {"n": 1}
    setup.close()
