"""pg_basebackup_standby builds a real standby of a real primary, through real ansible, as root."""

import os
import pwd
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PG_BIN, as_postgres, pg_login

REPL_PW = "Repl-Secret-4711 'quoted'"


@pytest.fixture
def primary(pg_factory, ansible):
    srv = pg_factory()
    res, _ = ansible.module("pg_role", pg_login(srv, name="repl", password=REPL_PW, replication=True), become_user="postgres")
    assert res["changed"] is True, res
    srv.psql("create table t(i int)")
    return srv


@pytest.fixture
def standby_dir():
    """A fresh empty data directory owned by postgres, and a socket directory; the server that
    may run there is stopped afterwards."""
    base = Path(tempfile.mkdtemp(prefix="pgha-standby-"))
    os.chmod(base, 0o755)
    pw = pwd.getpwnam("postgres")
    data, sock = base / "data", base / "sock"
    for d in (data, sock):
        d.mkdir()
        os.chown(d, pw.pw_uid, pw.pw_gid)
    data.chmod(0o700)
    yield data, sock
    as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    shutil.rmtree(base, ignore_errors=True)


def args_for(primary, data, sock, **extra):
    from conftest import free_port
    port = extra.pop("port", None) or free_port()
    args = dict(primary_host="127.0.0.1", primary_port=primary.port, replication_user="repl", replication_password=REPL_PW,
                data_directory=str(data), slot="standby1", application_name="standby1",
                settings={"port": port, "unix_socket_directories": str(sock)})
    args.update(extra)
    return args


def standby_psql(data, sock, sql):
    port = [line for line in (data / "postmaster.pid").read_text().splitlines()][3]
    r = as_postgres(["psql", "-X", "-A", "-t", "-h", str(sock), "-p", port, "-d", "postgres", "-c", sql])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_builds_a_streaming_standby(ansible, primary, standby_dir):
    data, sock = standby_dir
    args = args_for(primary, data, sock)

    res, out = ansible.module("pg_basebackup_standby", args, check=True, verbosity=3)
    assert res["changed"] is True and "would make" in res["msg"], res
    assert res["commands"] == []
    assert list(data.iterdir()) == [], "check mode must not touch the directory"
    assert primary.psql("select count(*) from pg_replication_slots") == [["0"]]
    assert REPL_PW not in out

    res, out = ansible.module("pg_basebackup_standby", args, diff=True, verbosity=3)
    assert res["changed"] is True and res["streaming"] is True, res
    assert res["wal_receiver"]["status"] == "streaming" and res["wal_receiver"]["slot_name"] == "standby1"
    assert isinstance(res["lag_bytes"], int)
    assert any("pg_basebackup" in c and "-C -S standby1" in c for c in res["commands"])
    assert REPL_PW not in out, "the replication password must not appear in -vvv output"
    assert (data / "standby.signal").exists()
    assert oct(data.stat().st_mode & 0o777) == "0o700"

    # The slot is active on the primary, and a row written there arrives on the standby.
    assert primary.psql("select slot_name, active from pg_replication_slots") == [["standby1", "t"]]
    assert primary.psql("select application_name, state from pg_stat_replication") == [["standby1", "streaming"]]
    primary.psql("insert into t values (42)")
    for _ in range(100):
        if standby_psql(data, sock, "select count(*) from t where i = 42") == "1":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the row did not reach the standby")
    assert standby_psql(data, sock, "select pg_is_in_recovery()") == "t"

    # Same parameters again: nothing to do.
    res, _ = ansible.module("pg_basebackup_standby", args)
    assert res["changed"] is False and res["streaming"] is True and res["commands"] == [], res

    # Stopped: a rerun starts it again (and only that).
    as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    res, _ = ansible.module("pg_basebackup_standby", args)
    assert res["changed"] is True and res["streaming"] is True
    assert len(res["commands"]) == 1 and "pg_ctl" in res["commands"][0] and " start" in res["commands"][0]


def test_refuses_a_live_primary_and_other_directories(ansible, primary, standby_dir):
    data, sock = standby_dir
    # The primary's own live data directory: refused even with force, and left alone.
    before = {p.name: p.stat().st_mtime for p in primary.datadir.iterdir()}
    conf = (primary.datadir / "postgresql.auto.conf").read_bytes()
    res, _ = ansible.module("pg_basebackup_standby", args_for(primary, primary.datadir, sock, force=True, port=primary.port))
    assert res["failed"] is True and "running primary" in res["msg"], res
    assert res["commands"] == []
    assert (primary.datadir / "postgresql.auto.conf").read_bytes() == conf
    assert set(before) <= {p.name for p in primary.datadir.iterdir()}
    assert primary.psql("select 1") == [["1"]]

    # A non-empty directory that is not a standby of this primary needs force.
    (data / "something").write_text("x")
    res, _ = ansible.module("pg_basebackup_standby", args_for(primary, data, sock))
    assert res["failed"] is True and "set force: true" in res["msg"]
    assert (data / "something").exists()
    res, _ = ansible.module("pg_basebackup_standby", args_for(primary, data, sock, force=True, slot="standby2"))
    assert res["changed"] is True and res["streaming"] is True, res
    assert not (data / "something").exists()
    assert primary.psql("select slot_name from pg_replication_slots") == [["standby2"]]


def test_existing_slot_missing_directory_and_bad_input(ansible, primary, standby_dir):
    data, sock = standby_dir
    primary.psql("select pg_create_physical_replication_slot('standby1')")
    shutil.rmtree(data)
    res, _ = ansible.module("pg_basebackup_standby", args_for(primary, data, sock))
    assert res["changed"] is True and res["streaming"] is True, res
    assert data.stat().st_uid == pwd.getpwnam("postgres").pw_uid
    assert primary.psql("select slot_name, active from pg_replication_slots") == [["standby1", "t"]]

    for bad, words in [
        (dict(data_directory="relative/dir"), "absolute path"),
        (dict(slot="Not-A-Slot"), "not a valid replication slot name"),
        (dict(max_rate="quick"), "max_rate"),
        (dict(checkpoint="slow"), "must be one of: fast, spread"),
        (dict(timeout="soon"), "argument 'timeout'"),
    ]:
        res, _ = ansible.module("pg_basebackup_standby", dict(args_for(primary, data, sock), **bad))
        assert res["failed"] is True and words in res["msg"], (bad, res)
    res, _ = ansible.module("pg_basebackup_standby", {"data_directory": str(data)})
    assert res["failed"] is True and "primary_host" in res["msg"]


def test_wrong_password_fails_readably(ansible, primary, standby_dir):
    data, sock = standby_dir
    res, out = ansible.module("pg_basebackup_standby", dict(args_for(primary, data, sock), replication_password="not-the-password"),
                              verbosity=3)
    assert res["failed"] is True and "pg_basebackup failed" in res["msg"] and "password authentication failed" in res["msg"], res
    assert "not-the-password" not in out
    assert list(data.iterdir()) == []


def test_runs_as_the_owner_too(ansible, primary, standby_dir):
    """With become_user: postgres the module needs no user switch: same result."""
    data, sock = standby_dir
    args = args_for(primary, data, sock)
    res, _ = ansible.module("pg_basebackup_standby", args, become_user="postgres")
    assert res["changed"] is True and res["streaming"] is True, res
    assert not any(c.startswith("(as ") for c in res["commands"]), res["commands"]
    res, _ = ansible.module("pg_basebackup_standby", args, become_user="postgres")
    assert res["changed"] is False and res["streaming"] is True
