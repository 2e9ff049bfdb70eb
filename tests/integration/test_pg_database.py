"""pg_database through real ansible against a throwaway PostgreSQL 15; pg_database is the oracle."""

import subprocess
import time

from conftest import PG_BIN, pg_login


def database(ansible, pg, check=False, diff=False, **args):
    return ansible.module("pg_database", pg_login(pg, **args), check=check, diff=diff, become_user="postgres")


def row(pg, name):
    rows = pg.psql("select pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
                   f"from pg_database where datname = '{name}'")
    return rows[0] if rows else None


def test_check_apply_verify_idempotent(ansible, pg):
    pg.psql("create role repmgr login superuser")
    args = dict(name="repmgr", owner="repmgr")
    res, _ = database(ansible, pg, check=True, diff=True, **args)
    assert res["changed"] is True and res["queries"] == ['CREATE DATABASE "repmgr" OWNER "repmgr"']
    assert row(pg, "repmgr") is None, "check mode must not create the database"
    assert "owner: repmgr" in res["diff"]["after"]

    res, _ = database(ansible, pg, **args)
    assert res["changed"] is True and res["owner"] == "repmgr" and res["state"] == "present"
    assert row(pg, "repmgr") == ["repmgr", "UTF8", "C.UTF-8", "C.UTF-8"]

    res, _ = database(ansible, pg, **args)
    assert res["changed"] is False and res["queries"] == []


def test_encoding_locale_and_owner(ansible, pg):
    pg.psql("create role app")
    args = dict(name="latin", encoding="LATIN1", lc_collate="C", lc_ctype="C", template="template0")
    res, _ = database(ansible, pg, **args)
    assert res["changed"] is True
    assert row(pg, "latin") == ["postgres", "LATIN1", "C", "C"]
    assert database(ansible, pg, **args)[0]["changed"] is False
    assert database(ansible, pg, name="latin", encoding="latin-1")[0]["changed"] is False, "encoding names are compared as the server reads them"

    res, _ = database(ansible, pg, name="latin", encoding="UTF8")
    assert res["failed"] is True and "encoding LATIN1, not UTF8" in res["msg"]
    res, _ = database(ansible, pg, name="latin", lc_collate="C.UTF-8")
    assert res["failed"] is True and "lc_collate C, not C.UTF-8" in res["msg"]

    res, _ = database(ansible, pg, check=True, name="latin", owner="app")
    assert res["changed"] is True and row(pg, "latin")[0] == "postgres"
    res, _ = database(ansible, pg, diff=True, name="latin", owner="app")
    assert res["changed"] is True and res["queries"] == ['ALTER DATABASE "latin" OWNER TO "app"']
    assert "owner: postgres" in res["diff"]["before"] and "owner: app" in res["diff"]["after"]
    assert row(pg, "latin")[0] == "app"
    assert database(ansible, pg, name="latin", owner="app")[0]["changed"] is False


def test_absent_and_force(ansible, pg):
    database(ansible, pg, name="busy")
    res, _ = database(ansible, pg, check=True, name="busy", state="absent")
    assert res["changed"] is True and row(pg, "busy") is not None
    # A session stays connected: a plain drop fails with the server's reason, force drops it.
    session = subprocess.Popen(["runuser", "-u", "postgres", "--", "psql", "-X", "-h", str(pg.sockdir), "-p", str(pg.port),
                                "-d", "busy", "-c", "select pg_sleep(60)"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if pg.psql("select count(*) from pg_stat_activity where datname = 'busy'") != [["0"]]:
                break
            time.sleep(0.1)
        res, _ = database(ansible, pg, name="busy", state="absent")
        assert res["failed"] is True and "being accessed by other users" in res["msg"], res
        res, _ = database(ansible, pg, name="busy", state="absent", force=True)
        assert res["changed"] is True and res["queries"] == ['DROP DATABASE "busy" WITH (FORCE)']
    finally:
        session.kill()
    assert row(pg, "busy") is None
    res, _ = database(ansible, pg, name="busy", state="absent")
    assert res["changed"] is False


def test_unknown_owner_is_the_servers_error(ansible, pg):
    res, _ = database(ansible, pg, name="x", owner="nobody_here")
    assert res["failed"] is True and 'role "nobody_here" does not exist' in res["msg"]
    assert res["queries"] == ['CREATE DATABASE "x" OWNER "nobody_here"']
    assert row(pg, "x") is None
    assert PG_BIN.exists()
