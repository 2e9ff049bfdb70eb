"""The repmgr modules against real PostgreSQL 15 servers and the real repmgr 5.3 on loopback.

Every test stands alone (it passes when run by itself, in any order, and on any xdist
worker): its fixtures build a small cluster of its own in the state the test starts from,
with the repmgr command line (not with the modules under test): `lab` (node1 a running
primary with the repmgr user and database, node2 configured with no data directory),
`registered` (node1 registered as primary), `standby_running` (node2 cloned from node1 and
streaming), `cluster` (node2 registered as standby too). Every module is tried in check mode
first, then for real, then again (no change), and the state is checked with psql,
independently of the modules.

Not exercised here: a real switchover (repmgr reaches the primary over SSH and this host has no
sshd); that runs in the Molecule repmgr scenario.
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PG_BIN, PgServer, as_postgres, free_port

REPMGR_PW = "Repmgr-Secret-0815 'q'"
UPSTREAM_PW_PARAM = "Upstream-Only-Secret-4711"


class Node:
    """One repmgr node: a PostgreSQL server and its repmgr.conf."""

    def __init__(self, base: Path, node_id: int, passfile: Path, settings=None):
        self.node_id = node_id
        self.name = f"node{node_id}"
        self.srv = PgServer(base / self.name, free_port(), settings)
        self.conf = base / f"repmgr{node_id}.conf"
        self.passfile = passfile

    def conninfo(self):
        return (f"host=127.0.0.1 port={self.srv.port} user=repmgr dbname=repmgr connect_timeout=2 "
                f"passfile={self.passfile}")

    def write_conf(self):
        self.conf.write_text(
            f"node_id={self.node_id}\nnode_name='{self.name}'\nconninfo='{self.conninfo()}'\n"
            f"data_directory='{self.srv.datadir}'\npg_bindir='{PG_BIN}'\npassfile='{self.passfile}'\n"
            f"replication_user='repmgr'\npg_ctl_options='-l {self.srv.base}/pgctl.log'\n"
            f"log_level='INFO'\n")
        pw = pwd.getpwnam("postgres")
        os.chown(self.conf, pw.pw_uid, pw.pw_gid)

    def args(self, **extra):
        return dict(config_file=str(self.conf), **extra)

    def in_recovery(self):
        return self.srv.psql("select pg_is_in_recovery()") == [["t"]]


@pytest.fixture
def lab():
    """node1: a running primary with the repmgr superuser and database, not registered; node2:
    its repmgr.conf only (no data directory). Both are stopped and removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="pgha-repmgr-"))
    os.chmod(base, 0o755)
    pw = pwd.getpwnam("postgres")
    passfile = base / "pgpass"
    passfile.write_text(f"127.0.0.1:*:*:repmgr:{REPMGR_PW.replace(chr(92), chr(92) * 2).replace(':', chr(92) + ':')}\n")
    os.chown(passfile, pw.pw_uid, pw.pw_gid)
    passfile.chmod(0o600)
    settings = {"shared_preload_libraries": "'repmgr'", "wal_log_hints": "on", "max_wal_senders": 10,
                "wal_keep_size": "'64MB'", "hot_standby": "on"}
    n1 = Node(base, 1, passfile, settings)
    n2 = Node(base, 2, passfile)
    state = {"base": base, "n1": n1, "n2": n2}
    try:
        n1.srv.init().start()
        n1.srv.psql(f"create user repmgr superuser password '{REPMGR_PW.replace(chr(39), chr(39) * 2)}'")
        n1.srv.psql("create database repmgr owner repmgr")
        for n in (n1, n2):
            n.write_conf()
        yield state
    finally:
        for n in (n1, n2):
            if n.srv.datadir.exists():
                as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(n.srv.datadir), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def repmgr_cli(node, *args, password=None):
    """The repmgr command line as postgres with node's repmgr.conf (the fixtures' way to build
    a state, independent of the modules); fails the test when repmgr does."""
    env = dict(os.environ, PGPASSWORD=password) if password else None
    r = as_postgres(["repmgr", "-f", str(node.conf), *args], cwd="/", env=env, timeout=300)
    assert r.returncode == 0, f"repmgr {' '.join(args)}: {r.stdout}{r.stderr}"
    return r


def wait_streaming(node):
    for _ in range(100):
        if node.srv.psql("select count(*) from pg_stat_wal_receiver where status = 'streaming'") == [["1"]]:
            return
        time.sleep(0.1)
    raise AssertionError(f"{node.name} does not stream: " + node.srv.log())


def start_clone(node):
    """Starts a cloned node as the role would: its own port and socket."""
    pw = pwd.getpwnam("postgres")
    with open(node.srv.datadir / "postgresql.auto.conf", "a") as f:
        f.write(f"port = {node.srv.port}\nunix_socket_directories = '{node.srv.sockdir}'\n")
    node.srv.sockdir.mkdir(exist_ok=True)
    os.chown(node.srv.sockdir, pw.pw_uid, pw.pw_gid)
    node.srv.start()
    wait_streaming(node)


@pytest.fixture
def registered(lab):
    """lab, with node1 registered as the primary (`repmgr primary register`)."""
    repmgr_cli(lab["n1"], "primary", "register")
    return lab


@pytest.fixture
def standby_running(registered):
    """registered, with node2 cloned from node1 (`repmgr standby clone`), started and streaming;
    node2 is not registered."""
    n1, n2 = registered["n1"], registered["n2"]
    n2.srv.base.mkdir(parents=True, exist_ok=True)
    pw = pwd.getpwnam("postgres")
    os.chown(n2.srv.base, pw.pw_uid, pw.pw_gid)
    repmgr_cli(n2, "-h", "127.0.0.1", "-p", str(n1.srv.port), "-U", "repmgr", "-d", "repmgr", "standby", "clone",
               "--fast-checkpoint", password=REPMGR_PW)
    start_clone(n2)
    return registered


@pytest.fixture
def cluster(standby_running):
    """standby_running, with node2 registered as node1's standby (`repmgr standby register`)."""
    repmgr_cli(standby_running["n2"], "standby", "register")
    assert nodes_table(standby_running["n1"].srv) == [["1", "", "t", "primary"], ["2", "1", "t", "standby"]]
    return standby_running


def nodes_table(srv):
    return srv.psql("select node_id, coalesce(upstream_node_id::text, ''), active, type from repmgr.nodes order by 1",
                    db="repmgr")


def test_register_primary(ansible, lab):
    n1 = lab["n1"]
    args = n1.args(role="primary")
    res, out = ansible.module("repmgr_register", args, check=True, verbosity=3)
    assert res["changed"] is True and "would register" in res["msg"], res
    assert any("would now attempt to install extension" in l["text"] for l in res["dry_run"]), res["dry_run"]
    assert all("--dry-run" in c for c in res["commands"]), res["commands"]
    assert n1.srv.psql("select to_regclass('repmgr.nodes') is null", db="repmgr") == [["t"]], "check mode changed nothing"

    res, out = ansible.module("repmgr_register", args, diff=True, verbosity=3)
    assert res["changed"] is True, res
    assert res["record"]["type"] == "primary" and res["record"]["upstream_node_id"] is None
    assert res["primary_node_id"] is None or res["primary_node_id"] == 1
    assert "node_id: 1" in res["diff"]["after"]
    assert nodes_table(n1.srv) == [["1", "", "t", "primary"]]
    assert REPMGR_PW not in out

    res, _ = ansible.module("repmgr_register", args)
    assert res["changed"] is False and "already registered as primary" in res["msg"], res
    assert res["commands"] == []

    # A primary cannot be registered as a standby, and the message says why.
    res, _ = ansible.module("repmgr_register", n1.args(role="standby"))
    assert res.get("failed") and "not in recovery" in res["msg"], res


def test_clone_refuses_a_running_primary(ansible, lab):
    n1, n2 = lab["n1"], lab["n2"]
    # Run on the primary by mistake: its repmgr.conf names the running primary's data directory.
    res, _ = ansible.module("repmgr_standby_clone", n1.args(upstream_host="127.0.0.1", upstream_port=n2.srv.port, force=True))
    assert res.get("failed") and "running primary" in res["msg"], res
    assert res["commands"] == []
    assert not n1.in_recovery()


def test_clone_standby(ansible, registered):
    lab = registered
    n1, n2 = lab["n1"], lab["n2"]
    n2.srv.base.mkdir(parents=True, exist_ok=True)
    pw = pwd.getpwnam("postgres")
    os.chown(n2.srv.base, pw.pw_uid, pw.pw_gid)
    args = n2.args(upstream_host="127.0.0.1", upstream_port=n1.srv.port, upstream_password=UPSTREAM_PW_PARAM)
    # repmgr connects to the upstream with -h/-p/-U/-d only (no passfile): a wrong password
    # parameter fails the dry run with repmgr's exit code, and never shows.
    res, out = ansible.module("repmgr_standby_clone", args, check=True, verbosity=3)
    assert UPSTREAM_PW_PARAM not in out
    assert res.get("failed") and "ERR_DB_CONN" in res["msg"] and res["rc"] == 6, res
    assert not n2.srv.datadir.exists()

    args["upstream_password"] = REPMGR_PW
    res, out = ansible.module("repmgr_standby_clone", args, check=True, verbosity=3)
    assert res["changed"] is True, json.dumps(res, indent=1)
    assert REPMGR_PW not in out
    assert any('all prerequisites for "standby clone" are met' in l["text"] for l in res["dry_run"]), res["dry_run"]
    assert not n2.srv.datadir.exists(), "check mode must not create the data directory"

    res, out = ansible.module("repmgr_standby_clone", args, diff=True, verbosity=3)
    assert res["changed"] is True, res
    assert (n2.srv.datadir / "standby.signal").exists()
    assert f"port={n1.srv.port}" in res["primary_conninfo"]
    assert oct(n2.srv.datadir.stat().st_mode & 0o777) == "0o700"
    assert n2.srv.datadir.stat().st_uid == pw.pw_uid
    assert REPMGR_PW not in out

    res, _ = ansible.module("repmgr_standby_clone", args)
    assert res["changed"] is False and "already a standby" in res["msg"], res
    assert res["commands"] == []

    # Another upstream: refused without force, whatever is there.
    other = dict(args, upstream_port=free_port())
    res, _ = ansible.module("repmgr_standby_clone", other)
    assert res.get("failed") and "force: true" in res["msg"], res

    # Start it as the role would (own port and socket), then it streams.
    with open(n2.srv.datadir / "postgresql.auto.conf", "a") as f:
        f.write(f"port = {n2.srv.port}\nunix_socket_directories = '{n2.srv.sockdir}'\n")
    n2.srv.sockdir.mkdir(exist_ok=True)
    os.chown(n2.srv.sockdir, pw.pw_uid, pw.pw_gid)
    n2.srv.start()
    for _ in range(100):
        if n2.srv.psql("select count(*) from pg_stat_wal_receiver where status = 'streaming'") == [["1"]]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the clone does not stream: " + n2.srv.log())

    # A running standby of another upstream is refused even with force.
    res, _ = ansible.module("repmgr_standby_clone", dict(other, force=True))
    assert res.get("failed") and "stop it" in res["msg"], res


def test_register_standby(ansible, standby_running):
    lab = standby_running
    n1, n2 = lab["n1"], lab["n2"]
    args = n2.args(role="standby")
    res, _ = ansible.module("repmgr_register", args, check=True)
    assert res["changed"] is True, res
    assert any('all prerequisites for "standby register" are met' in l["text"] for l in res["dry_run"]), res["dry_run"]
    assert nodes_table(n1.srv) == [["1", "", "t", "primary"]]

    res, _ = ansible.module("repmgr_register", args)
    assert res["changed"] is True, res
    assert res["record"]["upstream_node_id"] == 1 and res["record"]["type"] == "standby"
    assert nodes_table(n1.srv) == [["1", "", "t", "primary"], ["2", "1", "t", "standby"]]

    res, _ = ansible.module("repmgr_register", args)
    assert res["changed"] is False, res

    # Asked for another upstream: refused without force, and nothing runs.
    res, _ = ansible.module("repmgr_register", dict(args, upstream_node_id=1))
    assert res["changed"] is False, res
    res, _ = ansible.module("repmgr_register", dict(args, upstream_node_id=2))
    assert res.get("failed") and "force: true" in res["msg"] and res["differences"] == ["upstream_node_id: 1 -> 2"], res


def test_info(ansible, cluster):
    lab = cluster
    n1, n2 = lab["n1"], lab["n2"]
    for n in (n1, n2):
        res, _ = ansible.module("repmgr_info", n.args(), become_user="postgres")
        assert res["changed"] is False and res["installed"] is True, res
        assert [x["node_id"] for x in res["nodes"]] == [1, 2]
        assert res["primary_node_id"] == 1 and res["primary"]["node_name"] == "node1"
        assert res["running_primaries"] == [1]
        assert [x["status"] for x in res["nodes"]] == ["running", "running"], res["nodes"]
        assert [x["recovery"] for x in res["nodes"]] == ["primary", "standby"]
        assert res["nodes"][1]["upstream_node_name"] == "node1"
        assert res["nodes"][0]["repmgrd"]["running"] is False
        assert "passfile" in res["nodes"][0]["conninfo"]
        assert res["local_in_recovery"] is (n is n2)
    res, _ = ansible.module("repmgr_info", n1.args(), check=True)
    assert res["changed"] is False and len(res["nodes"]) == 2


def test_switchover_paths(ansible, cluster):
    lab = cluster
    n1, n2 = lab["n1"], lab["n2"]
    # On the primary: nothing to do.
    res, _ = ansible.module("repmgr_switchover", n1.args())
    assert res["changed"] is False and "already the primary" in res["msg"], res
    assert res["commands"] == []
    # On the standby, the dry run needs SSH to the primary, which this host does not have:
    # the failure says so, with repmgr's exit code and its findings.
    res, _ = ansible.module("repmgr_switchover", n2.args(force_rewind=True), check=True)
    assert res.get("failed") is True, res
    assert "ERR_BAD_CONFIG" in res["msg"] and "SSH" in res["msg"], res["msg"]
    assert res["rc"] == 1 and any(l["level"] == "ERROR" for l in res["dry_run"])
    assert any("--dry-run" in c and "--siblings-follow" in c and "--force-rewind" in c for c in res["commands"])
    assert n2.in_recovery() and not n1.in_recovery()


def test_rejoin_paths_on_running_nodes(ansible, cluster):
    lab = cluster
    n1, n2 = lab["n1"], lab["n2"]
    res, _ = ansible.module("repmgr_rejoin", n2.args(primary_host="127.0.0.1", primary_port=n1.srv.port))
    assert res["changed"] is False and "already runs as a standby" in res["msg"], res
    res, _ = ansible.module("repmgr_rejoin", n1.args(primary_host="127.0.0.1", primary_port=n2.srv.port))
    assert res.get("failed") and "runs as a primary" in res["msg"], res


def test_rejoin_former_primary(ansible, cluster):
    lab = cluster
    """node1 stops, node2 is promoted by repmgr itself, node1 rejoins through the module."""
    n1, n2 = lab["n1"], lab["n2"]
    n1.srv.stop()
    r = as_postgres(["repmgr", "-f", str(n2.conf), "standby", "promote"], cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not n2.in_recovery()
    args = n1.args(primary_host="127.0.0.1", primary_port=n2.srv.port, force_rewind=True,
                   primary_password=REPMGR_PW)

    res, out = ansible.module("repmgr_rejoin", args, check=True, verbosity=3)
    assert res["changed"] is True, res
    assert res["rewind"]["wal_log_hints"] is True
    assert any("prerequisites" in l["text"] or "would" in l["text"] for l in res["dry_run"]), res["dry_run"]
    assert not (n1.srv.datadir / "postmaster.pid").exists(), "check mode must not start the server"
    assert REPMGR_PW not in out

    res, out = ansible.module("repmgr_rejoin", args, verbosity=3)
    assert res["changed"] is True, res
    assert REPMGR_PW not in out
    assert n1.in_recovery()
    for _ in range(100):
        if n1.srv.psql("select count(*) from pg_stat_wal_receiver where status = 'streaming'") == [["1"]]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("node1 does not stream from node2: " + n1.srv.log())

    res, _ = ansible.module("repmgr_rejoin", args)
    assert res["changed"] is False, res

    res, _ = ansible.module("repmgr_info", n2.args())
    assert res["primary_node_id"] == 2 and res["running_primaries"] == [2], res
    by_id = {x["node_id"]: x for x in res["nodes"]}
    assert by_id[1]["type"] == "standby" and by_id[1]["upstream_node_id"] == 2 and by_id[1]["active"] is True


def test_rejoin_needs_wal_log_hints_for_rewind(ansible, lab, pg_factory):
    """A stopped server with neither wal_log_hints nor checksums: force_rewind fails early."""
    srv = pg_factory(start=False)
    node = Node(lab["base"], 3, lab["n1"].passfile)
    node.srv = srv
    node.write_conf()
    res, _ = ansible.module("repmgr_rejoin", node.args(primary_host="127.0.0.1", primary_port=lab["n1"].srv.port,
                                                       force_rewind=True))
    assert res.get("failed") and "wal_log_hints" in res["msg"], res
    assert res["rewind"] == {"wal_log_hints": False, "data_checksums": False, "cluster_state": "shut down"}
    assert not any("repmgr" in c.split()[0] for c in res["commands"] if c), res["commands"]


def test_unregister(ansible, cluster):
    """node2 (node1's standby) is unregistered; repmgr 5.3 has no dry run for that."""
    n1, n2 = cluster["n1"], cluster["n2"]
    args = n2.args(role="standby", state="absent")
    res, _ = ansible.module("repmgr_register", args, check=True)
    assert res["changed"] is True and res["commands"] == [], res
    assert ["2", "1", "t", "standby"] in nodes_table(n1.srv)
    res, _ = ansible.module("repmgr_register", args)
    assert res["changed"] is True, res
    assert [row[0] for row in nodes_table(n1.srv)] == ["1"]
    res, _ = ansible.module("repmgr_register", args)
    assert res["changed"] is False and "not registered" in res["msg"], res
