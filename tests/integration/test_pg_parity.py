"""Parity with community.postgresql: the same scenario, run with our module on one fresh server
and with the community module on another, leaves the same catalog state.

Both sides connect the same way: TCP to 127.0.0.1 as postgres with a password (the community
modules run under the venv's Python, which has psycopg2)."""

import json
import os
import subprocess

import pytest

from conftest import VENV_BIN

ADMIN_PW = "Admin-Parity-Pw-1"


def run_module(ansible_env, fqcn, args):
    cmd = [str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", fqcn, "-a", json.dumps(args),
           "-e", f"ansible_python_interpreter={VENV_BIN / 'python'}"]
    env = dict(ansible_env, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    doc = json.loads(proc.stdout[proc.stdout.find("{"):])
    return doc["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def pair(pg_factory):
    """Two fresh servers with a postgres password for TCP logins: ours, theirs."""
    servers = []
    for _ in range(2):
        srv = pg_factory(settings={"wal_level": "logical"})
        srv.psql(f"alter role postgres password '{ADMIN_PW}'")
        servers.append(srv)
    return servers


def login(srv):
    return {"login_host": "127.0.0.1", "login_port": srv.port, "login_user": "postgres", "login_password": ADMIN_PW}


def snapshot(srv):
    """The catalog state the modules manage, passwords as 'can log in with X'."""
    dbs = [r[0] for r in srv.psql("select datname from pg_database where datallowconn order by 1")]
    return {
        "roles": srv.psql("select rolname, rolcanlogin, rolsuper, rolreplication, rolcreatedb, rolcreaterole, rolinherit, "
                          "rolconnlimit, coalesce(rolvaliduntil::text, ''), coalesce(left(rolpassword, 14), '') "
                          "from pg_authid where rolname !~ '^pg_' order by 1"),
        "databases": srv.psql("select datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
                              "from pg_database order by 1"),
        "extensions": {db: srv.psql("select e.extname, e.extversion, n.nspname from pg_extension e "
                                    "join pg_namespace n on n.oid = e.extnamespace order by 1", db=db) for db in dbs},
        "slots": srv.psql("select slot_name, slot_type, coalesce(plugin, ''), coalesce(database::text, ''), restart_lsn is not null "
                          "from pg_replication_slots order by 1"),
    }


def can_login(srv, user, password):
    r = subprocess.run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(srv.port), "-U", user, "-d", "postgres", "-c", "select 1"],
                       env=dict(os.environ, PGPASSWORD=password), capture_output=True, text=True)
    return r.returncode == 0


# (our module, our args, community module, community args), applied in order.
SCENARIOS = {
    "user": [
        ("pg_role", {"name": "repl", "password": "Repl-Pw-1", "replication": True, "conn_limit": 5},
         "postgresql_user", {"name": "repl", "password": "Repl-Pw-1", "role_attr_flags": "REPLICATION", "conn_limit": 5}),
        ("pg_role", {"name": "app", "createdb": True, "valid_until": "2030-01-01 00:00:00+00"},
         "postgresql_user", {"name": "app", "role_attr_flags": "CREATEDB", "expires": "2030-01-01 00:00:00+00"}),
        ("pg_role", {"name": "repl", "password": "Repl-Pw-2"},
         "postgresql_user", {"name": "repl", "password": "Repl-Pw-2"}),
        ("pg_role", {"name": "app", "state": "absent"},
         "postgresql_user", {"name": "app", "state": "absent"}),
    ],
    "db": [
        ("pg_role", {"name": "owner1"}, "postgresql_user", {"name": "owner1"}),
        ("pg_database", {"name": "app", "owner": "owner1"}, "postgresql_db", {"name": "app", "owner": "owner1"}),
        ("pg_database", {"name": "latin", "encoding": "LATIN1", "lc_collate": "C", "lc_ctype": "C", "template": "template0"},
         "postgresql_db", {"name": "latin", "encoding": "LATIN1", "lc_collate": "C", "lc_ctype": "C", "template": "template0"}),
        ("pg_database", {"name": "latin", "owner": "owner1"}, "postgresql_db", {"name": "latin", "owner": "owner1"}),
        ("pg_database", {"name": "app", "state": "absent"}, "postgresql_db", {"name": "app", "state": "absent"}),
    ],
    "ext": [
        ("pg_extension", {"name": "pgpool_recovery", "db": "template1"}, "postgresql_ext", {"name": "pgpool_recovery", "db": "template1"}),
        ("pg_extension", {"name": "citext", "version": "1.5"}, "postgresql_ext", {"name": "citext", "version": "1.5", "db": "postgres"}),
        ("pg_extension", {"name": "citext", "version": "latest"}, "postgresql_ext", {"name": "citext", "version": "latest", "db": "postgres"}),
        ("pg_extension", {"name": "hstore", "state": "absent"}, "postgresql_ext", {"name": "hstore", "state": "absent", "db": "postgres"}),
        ("pg_extension", {"name": "earthdistance", "cascade": True},
         "postgresql_ext", {"name": "earthdistance", "cascade": True, "db": "postgres"}),
    ],
    "slot": [
        ("pg_slot", {"name": "standby1", "immediately_reserve": True},
         "postgresql_slot", {"name": "standby1", "immediately_reserve": True}),
        ("pg_slot", {"name": "standby2"}, "postgresql_slot", {"name": "standby2"}),
        ("pg_slot", {"name": "cdc", "slot_type": "logical", "output_plugin": "test_decoding"},
         "postgresql_slot", {"name": "cdc", "slot_type": "logical", "output_plugin": "test_decoding", "db": "postgres"}),
        ("pg_slot", {"name": "standby2", "state": "absent"}, "postgresql_slot", {"name": "standby2", "state": "absent"}),
    ],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_same_catalog_state(ansible, ansible_env, pair, scenario):
    ours, theirs = pair
    for our_module, our_args, their_module, their_args in SCENARIOS[scenario]:
        mine, _ = ansible.module(our_module, dict(login(ours), **our_args))
        other = run_module(ansible_env, f"community.postgresql.{their_module}", dict(login(theirs), **their_args))
        assert "failed" not in mine, mine
        assert "failed" not in other, other
        assert mine["changed"] == other["changed"], (our_module, our_args, mine, other)
        # And ours is idempotent where the community module is.
        again, _ = ansible.module(our_module, dict(login(ours), **our_args))
        assert again["changed"] is False, (our_module, our_args, again)
    assert snapshot(ours) == snapshot(theirs)
    if scenario == "user":
        assert can_login(ours, "repl", "Repl-Pw-2") and can_login(theirs, "repl", "Repl-Pw-2")


def test_info_agrees(ansible, ansible_env, pair):
    ours, _ = pair
    ours.psql("create role pgpool login")
    ours.psql("create database app owner pgpool")
    ours.psql("select pg_create_physical_replication_slot('s1')")
    mine, _ = ansible.module("pg_info", login(ours))
    other = run_module(ansible_env, "community.postgresql.postgresql_info", login(ours))
    assert mine["in_recovery"] == other["in_recovery"] is False
    assert mine["version"]["major"] == other["version"]["major"] == 15
    assert mine["version"]["minor"] == other["version"]["minor"]
    assert set(mine["databases"]) >= set(other["databases"]) and "app" in mine["databases"]
    for name, db in other["databases"].items():
        assert mine["databases"][name]["owner"] == db["owner"]
        assert mine["databases"][name]["encoding"] == db["encoding"]
    assert {r for r in other["roles"] if not r.startswith("pg_")} == set(mine["roles"])
    assert {s["name"] for s in mine["slots"]} == set(other["repl_slots"])
