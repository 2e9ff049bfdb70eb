"""pg_extension through real ansible against a throwaway PostgreSQL 15; pg_extension is the oracle."""

from conftest import pg_login


def extension(ansible, pg, check=False, diff=False, **args):
    return ansible.module("pg_extension", pg_login(pg, **args), check=check, diff=diff, become_user="postgres")


def installed(pg, name, db="postgres"):
    rows = pg.psql(f"select e.extversion, n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace "
                   f"where extname = '{name}'", db=db)
    return rows[0] if rows else None


def test_seed_pgpool_recovery_in_template1(ansible, pg):
    args = dict(name="pgpool_recovery", db="template1")
    res, _ = extension(ansible, pg, check=True, **args)
    assert res["changed"] is True and res["queries"] == ['CREATE EXTENSION "pgpool_recovery"']
    assert installed(pg, "pgpool_recovery", db="template1") is None
    res, _ = extension(ansible, pg, **args)
    assert res["changed"] is True and res["db"] == "template1" and res["prev_version"] is None
    assert installed(pg, "pgpool_recovery", db="template1") == [res["version"], "public"]
    assert extension(ansible, pg, **args)[0]["changed"] is False
    # New databases get it from template1.
    pg.psql("create database fresh")
    assert installed(pg, "pgpool_recovery", db="fresh") is not None


def test_versions_schema_and_absent(ansible, pg):
    res, _ = extension(ansible, pg, name="citext", version="1.4")
    assert res["changed"] is True and installed(pg, "citext") == ["1.4", "public"]
    assert extension(ansible, pg, name="citext", version="1.4")[0]["changed"] is False
    assert extension(ansible, pg, name="citext")[0]["changed"] is False, "no version: an installed extension is left as it is"

    res, _ = extension(ansible, pg, check=True, name="citext", version="latest")
    assert res["changed"] is True and res["queries"] == ["ALTER EXTENSION \"citext\" UPDATE TO '1.6'"]
    assert installed(pg, "citext") == ["1.4", "public"]
    res, _ = extension(ansible, pg, diff=True, name="citext", version="latest")
    assert res["changed"] is True and res["prev_version"] == "1.4" and res["version"] == "1.6"
    assert "version: 1.4" in res["diff"]["before"] and "version: 1.6" in res["diff"]["after"]
    assert installed(pg, "citext") == ["1.6", "public"]
    assert extension(ansible, pg, name="citext", version="latest")[0]["changed"] is False

    res, _ = extension(ansible, pg, name="citext", version="1.2")
    assert res["failed"] is True and "no update path" in res["msg"]

    pg.psql("create schema ext")
    res, _ = extension(ansible, pg, name="citext", schema="ext")
    assert res["changed"] is True and installed(pg, "citext") == ["1.6", "ext"]
    assert extension(ansible, pg, name="citext", schema="ext")[0]["changed"] is False

    res, _ = extension(ansible, pg, check=True, name="citext", state="absent")
    assert res["changed"] is True and installed(pg, "citext") is not None
    res, _ = extension(ansible, pg, name="citext", state="absent")
    assert res["changed"] is True and installed(pg, "citext") is None
    assert extension(ansible, pg, name="citext", state="absent")[0]["changed"] is False


def test_cascade_and_bad_input(ansible, pg):
    # earthdistance needs cube: CASCADE creates it too.
    res, _ = extension(ansible, pg, name="earthdistance")
    assert res["failed"] is True and "cube" in res["msg"], res
    res, _ = extension(ansible, pg, name="earthdistance", cascade=True)
    assert res["changed"] is True and installed(pg, "cube") is not None
    res, _ = extension(ansible, pg, name="cube", state="absent")
    assert res["failed"] is True and "depend" in res["msg"]
    res, _ = extension(ansible, pg, name="cube", state="absent", cascade=True)
    assert res["changed"] is True and installed(pg, "earthdistance") is None

    res, _ = extension(ansible, pg, name="no_such_extension")
    assert res["failed"] is True and "is not available on the server" in res["msg"]
    res, _ = extension(ansible, pg, name="citext", version="9.9")
    assert res["failed"] is True and "has no version 9.9" in res["msg"] and "1.6" in res["msg"]
    res, _ = extension(ansible, pg, name="citext", db="no_such_db")
    assert res["failed"] is True and 'database "no_such_db" does not exist' in res["msg"]
