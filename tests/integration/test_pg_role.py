"""pg_role through real ansible against throwaway PostgreSQL 15 servers; pg_roles, pg_authid and
a real password login are the oracles."""

import json
import os
import subprocess

from conftest import pg_login

REPL_PW = "Repl-pass-1 with spaces"


def role(ansible, pg, check=False, diff=False, verbosity=0, **args):
    return ansible.module("pg_role", pg_login(pg, **args), check=check, diff=diff, verbosity=verbosity, become_user="postgres")


def roles(pg):
    return {r[0] for r in pg.psql("select rolname from pg_roles")}


def attrs(pg, name):
    rows = pg.psql("select rolcanlogin, rolreplication, rolsuper, rolcreatedb, rolconnlimit, coalesce(rolvaliduntil::text, '') "
                   f"from pg_roles where rolname = '{name}'")
    return rows[0] if rows else None


def stored_password(pg, name):
    return pg.psql(f"select coalesce(rolpassword, '<null>') from pg_authid where rolname = '{name}'")[0][0]


def memberships(pg, name):
    return sorted(r[0] for r in pg.psql(
        "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
        f"join pg_roles u on u.oid = m.member where u.rolname = '{name}'"))


def can_login(pg, user, password):
    r = subprocess.run(["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(pg.port), "-U", user, "-d", "postgres",
                        "-c", "select current_user"], env=dict(os.environ, PGPASSWORD=password), capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == user


def test_check_apply_verify_idempotent(ansible, pg):
    args = dict(name="repl", password=REPL_PW, replication=True)

    res, _ = role(ansible, pg, check=True, diff=True, **args)
    assert res["changed"] is True, res
    assert res["queries"] == ['CREATE ROLE "repl" WITH LOGIN REPLICATION', "ALTER ROLE \"repl\" PASSWORD '********'"]
    assert "replication: true" in res["diff"]["after"] and res["diff"]["before"] == ""
    assert "repl" not in roles(pg), "check mode must not create the role"

    res, _ = role(ansible, pg, **args)
    assert res["changed"] is True and res["role"] == "repl" and res["state"] == "present"
    assert attrs(pg, "repl") == ["t", "t", "f", "f", "-1", ""]
    assert stored_password(pg, "repl").startswith("SCRAM-SHA-256$4096:")
    assert can_login(pg, "repl", REPL_PW)
    assert not can_login(pg, "repl", "wrong")

    res, _ = role(ansible, pg, **args)
    assert res["changed"] is False and res["queries"] == []

    # A new password: check mode says so and changes nothing; then it is set; then no change.
    before = stored_password(pg, "repl")
    res, _ = role(ansible, pg, check=True, name="repl", password="new-Pass-2")
    assert res["changed"] is True and stored_password(pg, "repl") == before
    res, _ = role(ansible, pg, name="repl", password="new-Pass-2")
    assert res["changed"] is True
    assert can_login(pg, "repl", "new-Pass-2") and not can_login(pg, "repl", REPL_PW)
    res, _ = role(ansible, pg, name="repl", password="new-Pass-2")
    assert res["changed"] is False
    # no_password_changes leaves an existing password alone.
    res, _ = role(ansible, pg, name="repl", password="other-3", no_password_changes=True)
    assert res["changed"] is False and can_login(pg, "repl", "new-Pass-2")


def test_attributes_and_memberships(ansible, pg):
    pg.psql("create role g1; create role g2; create role g3")
    res, _ = role(ansible, pg, name="app", login=False, createdb=True, conn_limit=5, valid_until="2031-06-01 00:00:00+00",
                  member_of=["g1", "g2"])
    assert res["changed"] is True
    assert attrs(pg, "app")[:5] == ["f", "f", "f", "t", "5"]
    assert attrs(pg, "app")[5].startswith("2031-06-01")
    assert memberships(pg, "app") == ["g1", "g2"]
    res, _ = role(ansible, pg, name="app", login=False, createdb=True, conn_limit=5, valid_until="2031-06-01T00:00:00Z",
                  member_of=["g1", "g2"])
    assert res["changed"] is False, res["queries"]

    res, _ = role(ansible, pg, check=True, name="app", member_of=["g3"])
    assert res["changed"] is True and res["queries"] == ['GRANT "g3" TO "app"']
    assert memberships(pg, "app") == ["g1", "g2"]
    res, _ = role(ansible, pg, name="app", member_of=["g3"])
    assert memberships(pg, "app") == ["g1", "g2", "g3"], "add keeps the other memberships"

    res, _ = role(ansible, pg, diff=True, name="app", member_of=["g3"], membership="exact", login=True, conn_limit=-1,
                  valid_until="infinity")
    assert res["changed"] is True
    assert memberships(pg, "app") == ["g3"]
    assert attrs(pg, "app") == ["t", "f", "f", "t", "-1", "infinity"]
    assert "member_of: [g1, g2, g3]" in res["diff"]["before"] and "member_of: [g3]" in res["diff"]["after"]
    res, _ = role(ansible, pg, name="app", member_of=["g3"], membership="exact", login=True, valid_until="infinity")
    assert res["changed"] is False


def test_password_forms(ansible, pg):
    # An empty password removes it; an already hashed one is stored as given.
    role(ansible, pg, name="u1", password="abc-123-xyz")
    res, _ = role(ansible, pg, name="u1", password="")
    assert res["changed"] is True and stored_password(pg, "u1") == "<null>"
    assert role(ansible, pg, name="u1", password="")[0]["changed"] is False
    verifier = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$Oay5Ne3d1yhXFxQUxX01lBWkvMobeRkSXQkHZxv+fTI=:vSFhbH9mrc7ptkw7kVydcuq0cx2cxowKNRTgXMjtm9U="
    res, _ = role(ansible, pg, name="u1", password=verifier)
    assert res["changed"] is True and stored_password(pg, "u1") == verifier
    assert role(ansible, pg, name="u1", password=verifier)[0]["changed"] is False
    # An md5 hash left by an older setup is replaced by a SCRAM verifier for the same password.
    pg.psql("set password_encryption = 'md5'; alter role u1 password 'legacy-pw'")
    assert stored_password(pg, "u1").startswith("md5")
    res, _ = role(ansible, pg, name="u1", password="legacy-pw")
    assert res["changed"] is True and stored_password(pg, "u1").startswith("SCRAM-SHA-256$")
    assert can_login(pg, "u1", "legacy-pw")


def test_absent(ansible, pg):
    role(ansible, pg, name="gone")
    res, _ = role(ansible, pg, check=True, name="gone", state="absent")
    assert res["changed"] is True and res["queries"] == ['DROP ROLE "gone"'] and "gone" in roles(pg)
    res, _ = role(ansible, pg, name="gone", state="absent")
    assert res["changed"] is True and "gone" not in roles(pg)
    res, _ = role(ansible, pg, name="gone", state="absent")
    assert res["changed"] is False and res["queries"] == []


def test_password_from_pgpass_and_clear_errors(ansible, pg, tmp_path):
    role(ansible, pg, name="admin", password="admin-pw-9", createrole=True)
    base = {"login_host": "127.0.0.1", "login_port": pg.port, "login_user": "admin", "name": "made_by_admin"}

    res, _ = ansible.module("pg_role", dict(base, login_password="wrong-pw"))
    assert res["failed"] is True and "authentication failed for user \"admin\"" in res["msg"], res
    res, _ = ansible.module("pg_role", base)
    assert res["failed"] is True and "asks for a password and none was given" in res["msg"], res
    res, _ = ansible.module("pg_role", dict(base, superuser=True, login_password="admin-pw-9"))
    assert res["failed"] is True and res["msg"].startswith("permission denied"), res

    # The binary alone, with PGPASSFILE: the password comes from the file.
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg.port}:*:admin:admin-pw-9\n")
    passfile.chmod(0o600)
    args = tmp_path / "args"
    args.write_text(json.dumps(base))
    binary = [os.path.join(os.path.dirname(__file__), "..", "..", "collection", "files", "pgha"), "pg_role"]
    r = subprocess.run([*binary, str(args)], capture_output=True, text=True, env=dict(os.environ, PGPASSFILE=str(passfile)))
    out = json.loads(r.stdout)
    assert out["changed"] is True and "made_by_admin" in roles(pg), out
    passfile.chmod(0o644)
    r = subprocess.run([*binary, str(args)], capture_output=True, text=True, env=dict(os.environ, PGPASSFILE=str(passfile)))
    out = json.loads(r.stdout)
    assert out["failed"] is True and "was skipped for its permissions" in out["msg"], out


def test_standby_needs_a_primary_only_for_changes(ansible, pg_factory):
    from conftest import standby_of
    primary = pg_factory()
    role(ansible, primary, name="everywhere")
    standby = standby_of(pg_factory, primary)
    for _ in range(50):
        if standby.psql("select count(*) from pg_roles where rolname = 'everywhere'") == [["1"]]:
            break
    res, _ = role(ansible, standby, name="everywhere")
    assert res["changed"] is False, "nothing to change succeeds on a standby"
    res, _ = role(ansible, standby, name="new_one")
    assert res["failed"] is True and "server is a standby; this needs a primary" in res["msg"], res
