"""Hostile names, secrets in logs and output, and bad input for the database modules."""

import json
import socket
import threading

import pytest

from conftest import free_port, pg_login, standby_of

NAMES = ['x"; DROP ROLE postgres; --', "Ünïcode", "name with spaces", "it's", "MiXeD Case"]


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def run(ansible, module, pg, check=False, verbosity=0, **args):
    return ansible.module(module, pg_login(pg, **args), check=check, verbosity=verbosity, become_user="postgres")


@pytest.mark.parametrize("name", NAMES)
def test_hostile_names_are_created_and_dropped_exactly(ansible, pg, name):
    roles_before = pg.psql("select count(*) from pg_roles")[0][0]
    res, _ = run(ansible, "pg_role", pg, name=name, password="pw-for-hostile-names")
    assert res["changed"] is True, res
    assert pg.psql(f"select rolname from pg_roles where rolname = {lit(name)}") == [[name]]
    assert int(pg.psql("select count(*) from pg_roles")[0][0]) == int(roles_before) + 1
    assert run(ansible, "pg_role", pg, name=name, password="pw-for-hostile-names")[0]["changed"] is False

    res, _ = run(ansible, "pg_database", pg, name=name, owner=name)
    assert res["changed"] is True, res
    assert pg.psql(f"select pg_get_userbyid(datdba) from pg_database where datname = {lit(name)}") == [[name]]
    assert run(ansible, "pg_database", pg, name=name, owner=name)[0]["changed"] is False

    assert run(ansible, "pg_database", pg, name=name, state="absent")[0]["changed"] is True
    assert run(ansible, "pg_role", pg, name=name, state="absent")[0]["changed"] is True
    assert pg.psql(f"select count(*) from pg_roles where rolname = {lit(name)}") == [["0"]]
    assert pg.psql(f"select count(*) from pg_database where datname = {lit(name)}") == [["0"]]
    assert pg.psql("select rolsuper from pg_roles where rolname = 'postgres'") == [["t"]]
    assert pg.psql("select count(*) from pg_roles")[0][0] == roles_before


def test_plaintext_password_never_reaches_log_or_output(ansible, pg_factory):
    pg = pg_factory(settings={"log_statement": "'all'", "log_min_duration_statement": "0"})
    first, second, login_pw = "Plain-Text-First-7f3a", "Plain-Text-Second-9b2c", "Login-Secret-5e1d"
    outputs = []
    for pw in (first, first, second):
        res, out = run(ansible, "pg_role", pg, verbosity=3, name="secretive", password=pw, superuser=True)
        assert "failed" not in res, res
        outputs.append(out)
    # A login password over TCP, and a failing task holding a password.
    res, out = run(ansible, "pg_role", pg, verbosity=3, name="secretive", password=login_pw)
    assert res["changed"] is True
    outputs.append(out)
    res, out = ansible.module("pg_role", {"login_host": "127.0.0.1", "login_port": pg.port, "login_user": "secretive",
                                          "login_password": login_pw, "name": "other", "password": first}, verbosity=3)
    assert res["changed"] is True
    outputs.append(out)
    res, out = run(ansible, "pg_role", pg, verbosity=3, name="other", password=second, member_of=["no_such_group"])
    assert res["failed"] is True
    outputs.append(out)

    log = pg.log()
    assert "ALTER ROLE" in log and "SCRAM-SHA-256$4096:" in log, "log_statement=all logged the statements"
    for secret in (first, second, login_pw):
        assert secret not in log, f"{secret} in the server log"
        for out in outputs:
            assert secret not in out, f"{secret} in -vvv output"


MODULES = {
    "pg_role": {"name": "r"},
    "pg_database": {"name": "d"},
    "pg_extension": {"name": "citext"},
    "pg_slot": {"name": "s"},
    "pg_info": {},
    "pg_promote": {},
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_bad_input_is_a_readable_failure(ansible, pg, module, tmp_path):
    own = MODULES[module]
    cases = [
        (dict(pg_login(pg), login_port="not-a-port", **own), "argument 'login_port' is of type str and we were unable to convert to int"),
        (dict(pg_login(pg), no_such_option=1, **own), f"Unsupported parameters for ({module}) module: no_such_option"),
        (dict(login_host=str(tmp_path), login_port=pg.port, **own), "cannot connect to PostgreSQL at"),
        (dict(login_host="127.0.0.1", login_port=free_port(), **own), "Connection refused"),
        (dict(login_host="127.0.0.1", login_port=pg.port, login_password="wrong-password", **own), "authentication failed for user \"postgres\""),
    ]
    for args, words in cases:
        res, out = ansible.module(module, args, become_user="postgres")
        assert res.get("failed") is True and words in res["msg"], (args, res)
        assert "panicked" not in out and "Traceback" not in out


def test_connect_timeout(ansible, pg):
    """A server that accepts and never answers: the module gives up after connect_timeout."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        res, _ = ansible.module("pg_info", {"login_host": "127.0.0.1", "login_port": srv.getsockname()[1], "connect_timeout": 1})
        assert res["failed"] is True and "no answer within 1 s" in res["msg"], res
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        srv.close()


def test_standby_when_a_primary_is_needed(ansible, pg_factory):
    primary = pg_factory()
    standby = standby_of(pg_factory, primary)
    for module, args in [("pg_role", {"name": "new_role"}), ("pg_database", {"name": "new_db"}),
                         ("pg_extension", {"name": "citext"})]:
        res, out = run(ansible, module, standby, **args)
        assert res["failed"] is True and "server is a standby; this needs a primary" in res["msg"], (module, res)
        assert "panicked" not in out
    res, _ = run(ansible, "pg_info", standby)
    assert res["in_recovery"] is True and "failed" not in res
    res, _ = run(ansible, "pg_role", standby, check=True, name="new_role")
    assert res["failed"] is True, "check mode tells about the standby too"
    json.dumps(res)
