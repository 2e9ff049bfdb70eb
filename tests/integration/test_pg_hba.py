"""pg_hba through real ansible, with PostgreSQL's own pg_hba_file_rules as the oracle."""

import json
import os

REPL = {"type": "host", "databases": "replication", "users": "repl", "address": "samenet", "method": "scram-sha-256"}
ALL = {"type": "host", "databases": "all", "users": "all", "address": "samenet", "method": "scram-sha-256"}


def hba_rules(pg):
    pg.reload()
    errors = pg.psql("select line_number, error from pg_hba_file_rules where error is not null")
    assert errors == [], errors
    return pg.psql("select type, array_to_string(database, ','), array_to_string(user_name, ','), coalesce(address, ''), "
                   "coalesce(netmask, ''), auth_method, coalesce(array_to_string(options, ' '), '') from pg_hba_file_rules order by line_number")


def test_check_apply_verify_idempotent(ansible, pg):
    path = pg.datadir / "pg_hba.conf"
    before = path.read_bytes()
    args = {"path": str(path), "rules": [ALL, REPL]}

    res, _ = ansible.module("pg_hba", args, check=True, diff=True)
    assert res["changed"] is True
    assert path.read_bytes() == before, "check mode must not touch the file"
    new_lines = set(res["diff"]["after"].splitlines()) - set(res["diff"]["before"].splitlines())
    assert [line.split() for line in sorted(new_lines)] == [
        ["host", "all", "all", "samenet", "scram-sha-256"], ["host", "replication", "repl", "samenet", "scram-sha-256"]]

    res, _ = ansible.module("pg_hba", args)
    assert res["changed"] is True and res["reload_required"] is True
    after = path.read_bytes()
    assert after.startswith(before), "existing lines and comments are kept, new rules appended"
    rows = hba_rules(pg)
    assert ["host", "all", "all", "samenet", "", "scram-sha-256", ""] in rows
    assert ["host", "replication", "repl", "samenet", "", "scram-sha-256", ""] in rows

    res, _ = ansible.module("pg_hba", args)
    assert res["changed"] is False and res["reload_required"] is False
    assert path.read_bytes() == after


def test_update_in_place_and_remove(ansible, pg):
    path = pg.datadir / "pg_hba.conf"
    ansible.module("pg_hba", {"path": str(path), "rules": [REPL]})
    lines = path.read_text().splitlines()
    idx = next(i for i, line in enumerate(lines) if line.split()[:3] == ["host", "replication", "repl"])
    res, _ = ansible.module("pg_hba", {"path": str(path), "rules": [dict(REPL, method="md5")]})
    assert res["changed"] is True
    new_lines = path.read_text().splitlines()
    assert len(new_lines) == len(lines) and "md5" in new_lines[idx]
    assert [rule for rule in hba_rules(pg) if rule[2] == "repl"] == [["host", "replication", "repl", "samenet", "", "md5", ""]]
    res, _ = ansible.module("pg_hba", {"path": str(path), "rules": [REPL], "state": "absent"})
    assert res["changed"] is True
    assert not [rule for rule in hba_rules(pg) if rule[2] == "repl"]
    assert path.read_text().splitlines() == lines[:idx] + lines[idx + 1:]


def test_many_shapes_are_accepted_by_postgres(ansible, pg):
    path = pg.datadir / "pg_hba.conf"
    rules = [
        {"type": "host", "databases": ["db one", "db2"], "users": ["+admins", "alice"], "address": "10.0.0.0/24", "method": "scram-sha-256"},
        {"type": "hostnossl", "databases": "all", "users": "bob", "address": "192.168.1.0", "netmask": "255.255.255.0", "method": "md5"},
        {"type": "host", "databases": "sameuser", "users": "all", "address": "::1/128", "method": "trust", "comment": "ipv6 loopback"},
        {"type": "host", "databases": "all", "users": "/^svc_.*$", "address": ".example.com", "method": "scram-sha-256"},
        {"type": "hostgssenc", "databases": "all", "users": "all", "address": "samehost", "method": "gss", "options": {"krb_realm": "EXAMPLE.COM"}},
        {"type": "local", "databases": "all", "users": "carol", "method": "peer", "options": "map=omicron"},
        {"type": "host", "databases": "all", "users": "all", "address": "0.0.0.0/0", "method": "reject"},
    ]
    with open(pg.datadir / "pg_ident.conf", "a") as f:
        f.write("omicron carol carol\n")
    res, _ = ansible.module("pg_hba", {"path": str(path), "rules": rules})
    assert res["changed"] is True
    rows = hba_rules(pg)
    admins = [r for r in rows if r[2] == "+admins,alice"]
    assert len(admins) == 1 and admins[0][3:6] == ["10.0.0.0", "255.255.255.0", "scram-sha-256"], admins
    assert admins[0][1] in ('"db one",db2', "db one,db2"), admins
    assert ["hostnossl", "all", "bob", "192.168.1.0", "255.255.255.0", "md5", ""] in rows
    assert ["local", "all", "carol", "", "", "peer", "map=omicron"] in rows
    gss = [r for r in rows if r[0] == "hostgssenc"]
    assert len(gss) == 1 and gss[0][3] == "samehost" and gss[0][5] == "gss" and "krb_realm=EXAMPLE.COM" in gss[0][6], gss
    assert rows[-1][5] == "reject"
    res, _ = ansible.module("pg_hba", {"path": str(path), "rules": rules})
    assert res["changed"] is False


def test_before_first_reject(ansible, pg):
    path = pg.datadir / "pg_hba.conf"
    reject = {"type": "host", "databases": "all", "users": "all", "address": "0.0.0.0/0", "method": "reject"}
    ansible.module("pg_hba", {"path": str(path), "rules": [reject]})
    ansible.module("pg_hba", {"path": str(path), "rules": [REPL], "insert": "before_first_reject"})
    rows = hba_rules(pg)
    methods = [r[5] for r in rows]
    assert methods.index("reject") == len(methods) - 1 and rows[-2][2] == "repl"


def test_pool_hba_format(ansible, tmp_path):
    path = tmp_path / "pool_hba.conf"
    path.write_text("# TYPE  DATABASE  USER  CIDR-ADDRESS  METHOD\nlocal   all       all                 trust\n")
    rules = [{"type": "host", "databases": "all", "users": "pgpool", "address": "0.0.0.0/0", "method": "scram-sha-256"}]
    res, _ = ansible.module("pg_hba", {"path": str(path), "format": "pool_hba", "rules": rules})
    assert res["changed"] is True
    assert path.read_text().splitlines()[-1].split() == ["host", "all", "pgpool", "0.0.0.0/0", "scram-sha-256"]
    res, _ = ansible.module("pg_hba", {"path": str(path), "format": "pool_hba",
                                       "rules": [dict(rules[0], type="hostgssenc")]})
    assert res.get("failed") and "hostgssenc" in res["msg"]


def test_bad_input_leaves_file_alone(ansible, pg, tmp_path):
    path = pg.datadir / "pg_hba.conf"
    before = path.read_bytes()
    res, _ = ansible.module("pg_hba", {"path": str(path), "rules": [dict(REPL, method="letmein")]})
    assert res.get("failed") and "letmein" in res["msg"]
    res, _ = ansible.module("pg_hba", {"path": str(path), "rules": [dict(REPL, address="10.0.0.300/24")]})
    assert res.get("failed") and "10.0.0.300/24" in res["msg"]
    res, _ = ansible.module("pg_hba", {"path": str(path), "rules": [{"type": "host"}]})
    assert res.get("failed") and "missing required arguments" in res["msg"]
    assert path.read_bytes() == before

    broken = tmp_path / "broken.conf"
    broken.write_text("local all all peer\nhost all\n")
    res, _ = ansible.module("pg_hba", {"path": str(broken), "rules": [REPL]})
    assert res.get("failed") and "line 2" in res["msg"]
    assert broken.read_text() == "local all all peer\nhost all\n"

    res, _ = ansible.module("pg_hba", {"path": str(tmp_path / "missing.conf"), "rules": [REPL]})
    assert res.get("failed") and "create: true" in res["msg"]
    res, _ = ansible.module("pg_hba", {"path": str(tmp_path / "new.conf"), "rules": [REPL], "create": True, "mode": "0640"})
    assert res["changed"] and oct(os.stat(tmp_path / "new.conf").st_mode & 0o777) == "0o640"


def test_read_only_directory_fails_cleanly(ansible):
    import shutil
    import tempfile
    from pathlib import Path
    top = Path(tempfile.mkdtemp(prefix="pgha-ro-"))
    os.chmod(top, 0o755)
    d = top / "ro"
    d.mkdir()
    (d / "pg_hba.conf").write_text("local all all peer\n")
    os.chmod(d, 0o555)
    os.chmod(d / "pg_hba.conf", 0o644)
    os.chown(d / "pg_hba.conf", 65534, 65534)
    # As an unprivileged user the directory is read-only: the atomic write cannot create its temp file.
    res, _ = ansible.module("pg_hba", {"path": str(d / "pg_hba.conf"), "rules": [REPL]}, become_user="nobody")
    assert res.get("failed") and "cannot write" in res["msg"], json.dumps(res)
    assert (d / "pg_hba.conf").read_text() == "local all all peer\n"
    assert os.listdir(d) == ["pg_hba.conf"]
    shutil.rmtree(top)
