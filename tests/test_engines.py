"""The two storage engines side by side: the same schema, migration by migration; SQL written
once, meaning the same on both."""

from __future__ import annotations

import threading

import pytest

from assessment.bank import Answer
from assessment.storage import accounts, connect, create_assessment, migrate, save_answer
from assessment.storage import migrations as sqlite_migrations
from assessment.storage import postgres_migrations
from assessment.storage.clients import create_client
from assessment.storage.postgres import adapt

DAILY = Answer("answered", "daily")


# ---- one schema, two engines -----------------------------------------------------------------

def sqlite_names() -> list[str]:
    return [m.name for m in sqlite_migrations.migrations._migrations]


def test_every_migration_has_its_postgresql_mirror_of_the_same_name_in_the_same_order():
    assert [name for name, _ in postgres_migrations.MIGRATIONS] == sqlite_names()


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
    names = sqlite_names()
    try:
        for step, name in enumerate(names):
            stop = names[step + 1] if step + 1 < len(names) else None
            sqlite_migrations.migrations.apply(lite, stop_before=stop)
            postgres_migrations.migrate(pg, stop_before=stop)
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
    assert sorted(applied, key=len) == [[], [], [], sqlite_names()]


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
                [r["name"] for r in store.query("SELECT name FROM clients ORDER BY name")],
                [r["l"] for r in store.query("SELECT lower(name) AS l FROM clients ORDER BY id")],
                store.execute("SELECT count(*) FROM clients WHERE notes LIKE '100%'"
                              ).fetchone()[0],
                store.execute("SELECT require_totp FROM firms WHERE id = ?", [firm]).fetchone(),
            ))
            accounts.set_require_totp(store, firm, True)
            assert store.execute("SELECT require_totp FROM firms").fetchone()[0] == 1
        finally:
            store.close()
    assert results[0] == results[1]
    assert results[0][0] == sorted(names, key=lambda s: s.encode())
