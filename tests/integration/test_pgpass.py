"""pgpass through real ansible, with psql (libpq) reading the written .pgpass as the oracle."""

import os
import pwd
import subprocess

import pytest

SECRET = "S3cr:et\\pw-unlikely-anywhere"
PSQL = "/usr/lib/postgresql/15/bin/psql"


def psql_with(passfile, port, user="u"):
    env = dict(os.environ, PGPASSFILE=str(passfile))
    env.pop("PGPASSWORD", None)
    return subprocess.run([PSQL, "-X", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "postgres", "-w",
                           "-A", "-t", "-c", "select current_user"], env=env, capture_output=True, text=True)


def test_psql_logs_in_with_written_pgpass(ansible, pg, tmp_path):
    pg.psql("create role u login password 'S3cr:et\\pw-unlikely-anywhere'")
    path = tmp_path / ".pgpass"
    path.write_text("# managed\n")
    os.chmod(path, 0o600)
    assert psql_with(path, pg.port).returncode != 0, "no password yet: the login must fail"
    entry = {"host": "127.0.0.1", "port": pg.port, "database": "*", "username": "u", "password": SECRET}
    res, _ = ansible.module("pgpass", {"path": str(path), "entries": [entry]})
    assert res["changed"] is True, res
    assert res["entries"] == [{"line": 2, "host": "127.0.0.1", "port": str(pg.port), "database": "*", "username": "u"}]
    r = psql_with(path, pg.port)
    assert r.returncode == 0 and r.stdout.strip() == "u", r.stderr
    # A wrong password is rewritten in place and fails; the right one logs in again.
    ansible.module("pgpass", {"path": str(path), "entries": [dict(entry, password="wrong")]})
    assert psql_with(path, pg.port).returncode != 0
    res, _ = ansible.module("pgpass", {"path": str(path), "entries": [dict(entry, user="u", username=None)]})
    assert res.get("failed") is True  # username and its alias user together
    ansible.module("pgpass", {"path": str(path), "entries": [{"host": "127.0.0.1", "port": pg.port, "user": "u", "password": SECRET}]})
    assert psql_with(path, pg.port).returncode == 0
    assert path.read_text().count("\n") == 2


def test_check_diff_apply_idempotent_absent(ansible, tmp_path):
    path = tmp_path / ".pgpass"
    path.write_text("# comment\nother:5432:*:x:otherpw\n")
    os.chmod(path, 0o600)
    before = path.read_bytes()
    entries = [{"host": "db1", "port": 5432, "database": "replication", "username": "repl", "password": SECRET},
               {"host": "*", "port": "*", "database": "repmgr", "username": "repmgr", "password": SECRET + "2"}]
    args = {"path": str(path), "entries": entries}

    res, text = ansible.module("pgpass", args, check=True, diff=True)
    assert res["changed"] is True
    assert path.read_bytes() == before, "check mode must not touch the file"
    assert res["diff"]["before"] == "# comment\nother:5432:*:x:********\n"
    assert res["diff"]["after"] == "# comment\nother:5432:*:x:********\ndb1:5432:replication:repl:********\n*:*:repmgr:repmgr:********\n"
    assert "S3cr" not in text and "otherpw" not in text

    res, text = ansible.module("pgpass", args, diff=True)
    assert res["changed"] is True and "S3cr" not in text and "otherpw" not in text
    after = path.read_text()
    assert after == "# comment\nother:5432:*:x:otherpw\ndb1:5432:replication:repl:S3cr\\:et\\\\pw-unlikely-anywhere\n" \
                    "*:*:repmgr:repmgr:S3cr\\:et\\\\pw-unlikely-anywhere2\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert "warnings" not in res

    res, _ = ansible.module("pgpass", args)
    assert res["changed"] is False
    assert path.read_text() == after

    absent = {"path": str(path), "state": "absent", "entries": [{"host": "db1", "port": 5432, "database": "replication", "username": "repl"}]}
    res, _ = ansible.module("pgpass", absent, check=True)
    assert res["changed"] is True and path.read_text() == after
    res, _ = ansible.module("pgpass", absent)
    assert res["changed"] is True and "repl:" not in path.read_text() and "repmgr" in path.read_text()
    res, _ = ansible.module("pgpass", absent)
    assert res["changed"] is False


def test_new_file_mode_owner_and_warning(ansible, tmp_path):
    path = tmp_path / "pg" / ".pgpass"
    path.parent.mkdir()
    entry = {"host": "localhost", "port": 5432, "database": "postgres", "username": "postgres", "password": SECRET}
    res, _ = ansible.module("pgpass", {"path": str(path), "entries": [entry], "owner": "postgres"})
    assert res["changed"] is True
    st = os.stat(path)
    assert st.st_mode & 0o777 == 0o600 and st.st_uid == pwd.getpwnam("postgres").pw_uid
    res, _ = ansible.module("pgpass", {"path": str(path), "entries": [entry], "mode": "0644"})
    assert res["changed"] is True and os.stat(path).st_mode & 0o777 == 0o644
    assert any("0644" in w and "libpq ignores" in w for w in res.get("warnings", [])), res
    res, _ = ansible.module("pgpass", {"path": str(path), "entries": [entry], "mode": "0600"})
    assert res["changed"] is True and "warnings" not in res


def test_pcppass_format(ansible, tmp_path):
    path = tmp_path / ".pcppass"
    res, _ = ansible.module("pgpass", {"path": str(path), "format": "pcppass",
                                       "entries": [{"host": "localhost", "port": 9898, "username": "pgpool", "password": SECRET}]})
    assert res["changed"] is True
    assert path.read_text() == "localhost:9898:pgpool:S3cr\\:et\\\\pw-unlikely-anywhere\n"
    assert res["entries"] == [{"line": 1, "host": "localhost", "port": "9898", "username": "pgpool"}]
    res, _ = ansible.module("pgpass", {"path": str(path), "format": "pcppass",
                                       "entries": [{"host": "localhost", "port": 9898, "username": "pgpool", "password": SECRET}]})
    assert res["changed"] is False
    res, _ = ansible.module("pgpass", {"path": str(path), "format": "pcppass",
                                       "entries": [{"host": "h", "port": 9898, "database": "x", "username": "p", "password": "x"}]})
    assert res.get("failed") is True and "database" in res["msg"]


def test_bad_input_fails_and_leaves_file(ansible, tmp_path):
    missing = tmp_path / "missing"
    entry = {"host": "h", "port": 5432, "database": "d", "username": "u", "password": SECRET}
    res, _ = ansible.module("pgpass", {"path": str(missing), "entries": [entry], "create": False})
    assert res.get("failed") is True and "does not exist" in res["msg"] and not missing.exists()

    path = tmp_path / ".pgpass"
    path.write_text("h:5432:d:u:pw\nonly:three:fields\n")
    before = path.read_bytes()
    res, text = ansible.module("pgpass", {"path": str(path), "entries": [entry]})
    assert res.get("failed") is True and "line 2" in res["msg"], res
    assert path.read_bytes() == before and SECRET not in text

    path.write_text("h:5432:d:u:pw\n")
    before = path.read_bytes()
    for args, word in [
        ({"entries": 5}, "entries"),
        ({"entries": [{"host": "h", "password": SECRET}]}, "username"),
        ({"entries": [dict(entry, password=None)]}, "password"),
        ({"entries": [dict(entry, colour="red")]}, "colour"),
        ({"entries": [entry], "format": "netrc"}, "format"),
        ({"entries": [entry], "state": "gone"}, "state"),
        ({"entries": [dict(entry, password="two\nlines")]}, "line break"),
        ({"entries": [entry], "mode": "rw-r"}, "mode"),
    ]:
        res, text = ansible.module("pgpass", dict(args, path=str(path)))
        assert res.get("failed") is True and word in res["msg"], (args, res)
        assert "panicked" not in text and SECRET not in text
        assert path.read_bytes() == before


def test_unknown_owner_fails_cleanly(ansible, tmp_path):
    path = tmp_path / ".pgpass"
    path.write_text("h:5432:d:u:pw\n")
    entry = {"host": "h", "port": 5432, "database": "d", "username": "u", "password": SECRET}
    res, _ = ansible.module("pgpass", {"path": str(path), "entries": [entry], "owner": "no-such-user-x"})
    assert res.get("failed") is True and "no-such-user-x" in res["msg"], res
    assert path.read_text() == "h:5432:d:u:pw\n"


@pytest.mark.parametrize("fmt", ["pgpass", "pcppass"])
def test_password_never_in_verbose_output(ansible, tmp_path, fmt):
    path = tmp_path / "passfile"
    path.write_text("")
    entry = {"host": "h", "port": 1, "username": "u", "password": SECRET}
    if fmt == "pgpass":
        entry["database"] = "d"
    for check in (True, False):
        res, text = ansible.module("pgpass", {"path": str(path), "format": fmt, "entries": [entry]},
                                   check=check, diff=True, verbosity=3)
        assert res["changed"] is True
        assert SECRET not in text and "S3cr\\:et" not in text
