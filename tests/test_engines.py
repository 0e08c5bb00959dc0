"""The two storage engines side by side: the same schema, migration by migration, from one list
of migrations, also for databases made before there was one list; SQL written once; copying a
SQLite database into PostgreSQL (`flask db copy`); and two app instances sharing one PostgreSQL
database and secret key, as two machines would."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest

from assessment import create_app
from assessment.core.bank import Answer
from assessment.storage import (
    accounts,
    connect,
    create_assessment,
    export_assessment,
    migrate,
    save_answer,
)
from assessment.storage.accounts.sign_ins import record_failure
from assessment.storage.clients import (
    claim_links,
    create_claim_link,
    create_client,
    start_client_assessment,
)
from assessment.storage.migrations import migrations
from assessment.storage.postgres import adapt
from assessment.storage.times import now
from assessment.support.config import database

from .workspace_fixtures import csrf_token, make_member, sign_in

DAILY = Answer("answered", "daily")


# ---- one schema, two engines -----------------------------------------------------------------

def migration_names() -> list[str]:
    return [m.name for m in migrations.all]


def count(store, table) -> int:
    return store.one(f'SELECT count(*) AS n FROM "{table}"')["n"]  # nosec B608 (a test)


def describe_difference(table, a, b):
    if a is None or b is None:
        return f"{table}: only on {'PostgreSQL' if a is None else 'SQLite'}"
    lines = [f"{table}:"]
    for key in ("primary_key", "indexes", "foreign_keys"):
        if a[key] != b[key]:
            lines.append(f"  {key}: SQLite {a[key]} / PostgreSQL {b[key]}")
    for column in sorted(set(a["columns"]) | set(b["columns"])):
        if a["columns"].get(column) != b["columns"].get(column):
            lines.append(f"  {column}: SQLite {a['columns'].get(column)} / PostgreSQL "
                         f"{b['columns'].get(column)}")
    return "\n".join(lines)


def test_both_engines_build_the_same_schema_migration_by_migration(tmp_path, postgres_cluster):
    """Tables, columns (type in broad classes, not null, default), primary keys, indexes and
    foreign keys agree after every migration, not only at the end; and every text column on
    PostgreSQL compares byte by byte, as SQLite's does."""
    lite = connect(tmp_path / "schema.sqlite")
    pg = connect(postgres_cluster.new_database())
    names = migration_names()
    try:
        for step, name in enumerate(names):
            stop = names[step + 1] if step + 1 < len(names) else None
            assert migrate(lite, stop_before=stop) == [name]
            assert migrate(pg, stop_before=stop) == [name]
            theirs = pg.schema()
            collations = {(table, column): spec.pop("collation")
                          for table, columns in theirs.items()
                          for column, spec in columns["columns"].items()}
            ours = lite.schema()
            differences = [describe_difference(t, ours.get(t), theirs.get(t))
                           for t in sorted(set(ours) | set(theirs))
                           if ours.get(t) != theirs.get(t)]
            assert not differences, f"after {name}:\n" + "\n".join(differences)
            bytewise = {key for key, collation in collations.items() if collation is not None}
            text = {(t, c) for t, spec in ours.items() for c, column in spec["columns"].items()
                    if column["type"] == "text"}
            assert bytewise == text and {collations[k] for k in text} <= {"C"}, name
        assert migrate(lite) == [] and migrate(pg) == []
    finally:
        lite.close()
        pg.close()


WRITTEN_TWICE = Path(__file__).parent / "fixtures" / "schema-written-twice"


def load_schema_written_twice(engine, target):
    """A database as the version with one migration file per engine left it."""
    script = (WRITTEN_TWICE / f"{engine}.sql").read_text()
    if engine == "sqlite":
        conn = sqlite3.connect(target)
        conn.executescript(script)
        conn.close()
    else:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(script)


def test_databases_made_when_the_schema_was_written_twice_carry_on(tmp_path, postgres_cluster):
    """Existing databases keep their record of applied migrations (same names), get only the
    migrations added since, end with the schema a new database gets, and keep their rows, with
    times stamped to the second rewritten to the millisecond and still read as the same times."""
    for engine, target, fresh in (
            ("sqlite", str(tmp_path / "before.sqlite"), tmp_path / "fresh.sqlite"),
            ("postgresql", postgres_cluster.new_database(), postgres_cluster.new_database())):
        load_schema_written_twice(engine, target)
        new = connect(fresh)
        db = connect(target)
        try:
            migrate(new)
            since = migration_names()[migration_names().index("times_in_one_form"):]
            assert [m.name for m in migrations.pending(db)] == since
            with db.write():
                firm = accounts.create_firm(db, "Northgate IT")
                user = db.insert("users", {"firm_id": firm, "email": "ana@northgate.example",
                                           "name": "Ana", "role": "admin", "password_hash": "x",
                                           "created_at": "2025-01-02T03:04:05.678+00:00"})
                for token, expires in (("live", "2999-05-06T07:08:09+00:00"),
                                       ("old", "2020-05-06T07:08:09+00:00")):
                    create_claim_link(db, firm, user)
                    db.execute("UPDATE claim_links SET token_hash = ?, created_at = ?, "
                               "expires_at = ? WHERE token_hash NOT IN ('live', 'old')",
                               [token, "2025-01-02T03:04:05+00:00", expires])
            assert migrate(db) == since
            assert db.schema() == new.schema(), engine
            assert migrations.pending(db) == [] and migrate(db) == []
            assert sorted((r["expires_at"], r["state"]) for r in claim_links(db, firm, None)) == [
                ("2020-05-06T07:08:09.000+00:00", "expired"),
                ("2999-05-06T07:08:09.000+00:00", "active")]
            assert db.one("SELECT created_at FROM users") == {
                "created_at": "2025-01-02T03:04:05.678+00:00"}
        finally:
            db.close()
            new.close()


def test_a_database_stopped_before_the_assessments_got_their_foreign_keys_keeps_its_rows(
        tmp_path, postgres_cluster):
    """SQLite cannot add a foreign key to a table, so that migration makes the table again: its
    rows, and the rows that refer to them, are all still there, and the keys hold."""
    for target in (tmp_path / "early.sqlite", postgres_cluster.new_database()):
        db = connect(target)
        try:
            migrate(db, stop_before="workspace_tables")
            with db.write():
                db.execute("INSERT INTO banks (hash, bank_id, version, snapshot, created_at) "
                           "VALUES ('h', 'b', '1', '{}', '2025-01-02T03:04:05.678+00:00')")
                db.execute("INSERT INTO assessments (id, bank_hash, created_at, updated_at) "
                           "VALUES ('a1', 'h', '2025-01-02T03:04:05.678+00:00', "
                           "'2025-01-02T03:04:05.678+00:00')")
                db.execute("INSERT INTO answers (assessment_id, question_id, source, version, "
                           "updated_at) VALUES ('a1', 'q', 'owner', 3, "
                           "'2025-01-02T03:04:05.678+00:00')")
            migrate(db)
            assert db.one("SELECT version FROM answers WHERE assessment_id = 'a1'") == {
                "version": 3}
            keys = db.schema()["assessments"]["foreign_keys"]
            assert {(("firm_id",), "firms", ("id",)), (("client_id",), "clients", ("id",))} <= keys
            with pytest.raises((sqlite3.IntegrityError, psycopg.errors.ForeignKeyViolation)):
                with db.write():
                    db.execute("UPDATE assessments SET firm_id = 99 WHERE id = 'a1'")
            assert db.integrity_ok()
        finally:
            db.close()


def test_migrations_apply_once_when_instances_start_together_on_a_new_database(
        postgres_cluster):
    url = postgres_cluster.new_database()
    applied = []
    barrier = threading.Barrier(4)

    def start():
        store = connect(url)
        barrier.wait()
        try:
            applied.append(migrate(store))
        finally:
            store.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(applied, key=len) == [[], [], [], migration_names()]


def test_the_integrity_check_on_postgresql_reads_every_table_and_checks_indexes_with_amcheck(
        postgres_cluster, bank):
    store = connect(postgres_cluster.new_database())
    try:
        migrate(store)
        aid = create_assessment(store, bank)
        save_answer(store, aid, "backup.automatic", base_version=0, answer=DAILY)
        assert store.integrity_ok()
        with store.write():
            store.execute("CREATE EXTENSION amcheck")
        assert store.integrity_ok()
    finally:
        store.close()


@pytest.mark.parametrize("sql, adapted", [
    ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
    ("UPDATE t SET a = :a WHERE id = :id", "UPDATE t SET a = %(a)s WHERE id = %(id)s"),
    ("SELECT 'what?' , ':not', \"odd?name\" FROM t WHERE x = ?",
     "SELECT 'what?' , ':not', \"odd?name\" FROM t WHERE x = %s"),
    ("SELECT '100%' || ?, 5 % 2, x::text FROM t", "SELECT '100%%' || %s, 5 %% 2, x::text FROM t"),
    ("SELECT 'it''s ?' WHERE a = ?", "SELECT 'it''s ?' WHERE a = %s"),
])
def test_sqlite_placeholders_become_psycopg_ones_outside_quoted_text(sql, adapted):
    assert adapt(sql) == adapted


def test_the_same_sql_means_the_same_on_both_engines(tmp_path, postgres_url):
    """Text sorts and compares as bytes, lower() folds ASCII only, True is stored as 1, and a
    percent sign is a percent sign."""
    names = ["b", "B", "a", "É", "é", "Z", "_x", "10", "9"]
    results = []
    for target in (tmp_path / "same.sqlite", postgres_url):
        store = connect(target)
        try:
            migrate(store)
            firm = accounts.create_firm(store, "Northgate IT")
            for name in names:
                create_client(store, firm, name=name, notes="100% sure")
            results.append((
                [r["name"] for r in store.rows("SELECT name FROM clients ORDER BY name")],
                [r["l"] for r in store.rows("SELECT lower(name) AS l FROM clients ORDER BY id")],
                store.one("SELECT count(*) AS n FROM clients WHERE notes LIKE '100%'"),
                store.one("SELECT require_totp FROM firms WHERE id = ?", [firm]),
            ))
            accounts.set_require_totp(store, firm, True)
            assert store.one("SELECT require_totp FROM firms") == {"require_totp": 1}
        finally:
            store.close()
    assert results[0] == results[1]
    assert results[0][0] == sorted(names, key=lambda s: s.encode())


# ---- flask db copy ---------------------------------------------------------------------------

@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    """An app on SQLite, whatever the environment says."""
    monkeypatch.delenv("ITHEALTH_DATABASE_URL", raising=False)
    return create_app({"TESTING": True, "SECRET_KEY": "copy-secret",
                       "DATABASE": str(tmp_path / "source.sqlite")})


def fill(app, bank) -> dict:
    """A bit of everything: firms, members, a sign-in, a rate limit, clients, assessments with
    answers from both sources, a copy of an assessment, an owner's own assessment."""
    ana = make_member(app)
    make_member(app, email="ben@northgate.example", role="consultant")
    make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    db = connect(database(app.config))
    try:
        accounts.start_login(db, ana["user_id"])
        accounts.rate_limit_hit(db, "sign-in:10.0.0.1", 20, 300)
        client_id = create_client(db, ana["firm_id"], name="Acme Dental", sector="health")
        first = start_client_assessment(db, bank, ana["firm_id"], client_id, mode="interview",
                                        created_by=ana["user_id"])
        for n, question in enumerate(("backup.automatic", "backup.offsite", "mfa.email")):
            save_answer(db, first, question, base_version=0, answer=DAILY,
                        source="consultant", client_key=f"key-{n}")
        save_answer(db, first, "backup.automatic", base_version=0, answer=DAILY, note="owner")
        save_answer(db, first, "backup.automatic", base_version=1, note="checked",
                    source="consultant")
        second = start_client_assessment(db, bank, ana["firm_id"], client_id,
                                         mode="interview", created_by=ana["user_id"],
                                         copy_from=first)
        own = create_assessment(db, bank)
        save_answer(db, own, "backup.automatic", base_version=0, answer=DAILY)
        return {"ana": ana, "assessments": [first, second, own], "client_id": client_id}
    finally:
        db.close()


def test_db_copy_moves_every_row_checks_it_and_the_app_carries_on_on_postgresql(
        sqlite_app, bank, postgres_cluster, monkeypatch, tmp_path):
    made = fill(sqlite_app, bank)
    source = connect(sqlite_app.config["DATABASE"])
    before = {aid: export_assessment(source, aid) for aid in made["assessments"]}
    counts = {t: count(source, t) for t in source.schema()}
    source.close()
    url = postgres_cluster.new_database()

    result = sqlite_app.test_cli_runner().invoke(args=["db", "copy", "--to", url])
    assert result.exit_code == 0, result.output
    assert "row counts match" in result.output and "versions of all 8 answers" in result.output
    assert "  answers: 8 rows\n" in result.output and "  banks: 1 row\n" in result.output
    assert "postgres@127.0.0.1" in result.output

    target = connect(url)
    try:
        assert {t: count(target, t) for t in target.schema()} == counts
        assert {aid: export_assessment(target, aid) for aid in made["assessments"]} == before
    finally:
        target.close()
    # The app on the copy: the member signs in, and new rows get new ids after the copied ones.
    monkeypatch.setenv("ITHEALTH_DATABASE_URL", url)
    moved = create_app({"TESTING": True, "SECRET_KEY": "copy-secret",
                        "DATABASE": str(tmp_path / "unused.sqlite")})
    assert sign_in(moved.test_client(), made["ana"]["email"]).status_code == 303
    newcomer = make_member(moved, firm="Third Firm", email="tia@third.example")
    assert newcomer["firm_id"] == 3 and newcomer["user_id"] == 4


def test_db_copy_refuses_a_database_that_is_not_empty_and_changes_nothing(
        sqlite_app, bank, postgres_cluster):
    fill(sqlite_app, bank)
    url = postgres_cluster.new_database()
    other = connect(url)
    try:
        migrate(other)
        accounts.create_firm(other, "Already Here Ltd")
        result = sqlite_app.test_cli_runner().invoke(args=["db", "copy", "--to", url])
        assert result.exit_code == 1
        assert "Error: the target database is not empty (firms: 1 row)" in result.output
        assert "nothing was copied" in result.output and "Traceback" not in result.output
        assert count(other, "firms") == 1 and count(other, "users") == 0
    finally:
        other.close()
    # Any table with rows counts, not only the app's own.
    foreign = connect(postgres_cluster.new_database())
    try:
        with foreign.write():
            foreign.execute("CREATE TABLE notes_of_another_app (x text)")
            foreign.execute("INSERT INTO notes_of_another_app VALUES ('keep me')")
        result = sqlite_app.test_cli_runner().invoke(args=["db", "copy", "--to", foreign.url])
        assert result.exit_code == 1 and "notes_of_another_app: 1 row)" in result.output
        assert foreign.table_names() == ["notes_of_another_app"]
    finally:
        foreign.close()


def test_db_copy_needs_a_postgresql_url_and_a_source(sqlite_app, tmp_path, postgres_cluster,
                                                     monkeypatch):
    runner = sqlite_app.test_cli_runner()
    result = runner.invoke(args=["db", "copy", "--to", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2 and "give a postgresql:// URL" in result.output
    unreachable = re.sub(r":\d+/", ":1/", postgres_cluster.url("nowhere"))
    # A URL with a password comes from the environment (or standard input), not --to.
    monkeypatch.setenv("ITHEALTH_COPY_TO", unreachable.replace("postgres@", "postgres:pw@"))
    result = runner.invoke(args=["db", "copy"])
    assert result.exit_code == 1 and "cannot connect to" in result.output
    assert "pw" not in result.output and "Traceback" not in result.output


# ---- two app instances, one database ---------------------------------------------------------

@pytest.fixture
def two_instances(postgres_url, tmp_path, monkeypatch):
    """Two apps on the same PostgreSQL database and secret key, as on two machines (each has its
    own instance folder, report cache and SQLite path, which they must not need)."""
    monkeypatch.setenv("ITHEALTH_DATABASE_URL", postgres_url)
    return [create_app({"TESTING": True, "SECRET_KEY": "shared-secret",
                        "DATABASE": str(tmp_path / f"never-{n}.sqlite"),
                        "REPORT_DIR": str(tmp_path / f"reports-{n}")}) for n in (1, 2)]


def client_of(app, address="10.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_sign_in_on_one_instance_works_on_the_other_and_sign_out_there_ends_it(two_instances):
    one, two = two_instances
    ana = make_member(one)
    first = client_of(one)
    assert sign_in(first, ana["email"]).status_code == 303
    second = client_of(two)
    second.set_cookie("session", first.get_cookie("session").value)
    assert second.get("/account/").status_code == 200  # signed in through the other instance
    page = second.get("/account/").get_data(as_text=True)
    assert second.post("/account/sign-out", data={"csrf_token": csrf_token(page)}
                       ).status_code == 303
    assert first.get("/account/").status_code == 303  # ended for every instance
    assert not any(Path(app.config["DATABASE"]).exists() for app in two_instances)


def test_a_lockout_counted_on_both_instances_holds_on_each(two_instances):
    one, two = two_instances
    ana = make_member(one)
    for n in range(5):  # five wrong passwords, alternating instances
        assert sign_in(client_of((one, two)[n % 2]), ana["email"], "wrong password!").status_code \
            == 400
    for app in two_instances:  # now even the right password is refused, everywhere
        assert sign_in(client_of(app), ana["email"]).status_code == 400
    db = connect(database(one.config))
    try:
        row = db.one("SELECT failed_logins, locked_until FROM users WHERE id = ?",
                     [ana["user_id"]])
    finally:
        db.close()
    assert row["failed_logins"] == 5 and row["locked_until"]


def test_the_rate_limit_per_address_counts_requests_to_both_instances(two_instances):
    one, two = two_instances
    for app in two_instances:
        app.config.update(SIGNIN_RATE_LIMIT=6, SIGNIN_RATE_WINDOW=300)
    make_member(one)
    statuses = [sign_in(client_of((one, two)[n % 2], "10.9.9.9"), "nobody@example.com",
                        "wrong password!").status_code for n in range(8)]
    assert statuses[:6] == [400] * 6 and statuses[6:] == [429, 429]
    # Another address is not held back by this one.
    assert sign_in(client_of(two, "10.1.1.1"), "nobody@example.com", "x" * 12).status_code == 400


def test_an_owner_starts_on_one_instance_and_carries_on_on_the_other(two_instances):
    one, two = two_instances
    owner = client_of(one)
    home = owner.get("/").get_data(as_text=True)
    started = owner.post("/assessment/start", data={"csrf_token": csrf_token(home)})
    assert started.status_code == 303
    elsewhere = client_of(two)
    elsewhere.set_cookie("session", owner.get_cookie("session").value)
    assert elsewhere.get(started.headers["Location"]).status_code == 200


def test_attempts_and_failures_arriving_together_all_count(two_instances):
    """Twelve sign-in attempts and failures at the same instant, each on a connection of its
    own, as requests spread over several instances would be: every one counts, because each
    count happens in one statement that locks its row."""
    one, _ = two_instances
    ana = make_member(one)
    url = database(one.config)
    barrier = threading.Barrier(12)
    limited = []

    def attempt(n):
        db = connect(url)
        try:
            barrier.wait()
            limited.append(accounts.rate_limit_hit(db, "sign-in:10.2.2.2", 8, 300))
            record_failure(db, ana["user_id"], now())
        finally:
            db.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(limited) == [False] * 8 + [True] * 4
    db = connect(url)
    try:
        assert db.one("SELECT failed_logins FROM users WHERE id = ?",
                      [ana["user_id"]]) == {"failed_logins": 12}
    finally:
        db.close()
