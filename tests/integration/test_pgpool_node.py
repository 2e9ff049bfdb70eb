"""pgpool_node and pgpool_info through real ansible against a real Pgpool-II 4.3 on loopback:
a primary and a streaming standby (PostgreSQL 15), pgpool in streaming replication mode run by
the postgres user, and the real pcp_* tools as the oracle (they get a temporary PCPPASSFILE;
the modules need none)."""

import hashlib
import os
import pwd
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PG_BIN, free_port, standby_of

PCP_USER = "pgpool"
PCP_PASSWORD = "pcp-S3cret-xyzzy"
PGPOOL = "/usr/sbin/pgpool"


def trust_loopback(srv):
    """pgpool's health and streaming-replication checks log in over TCP without a password."""
    hba = srv.datadir / "pg_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n" + hba.read_text())
    srv.reload()


class Pgpool:
    """A Pgpool-II run by the postgres user with every file in its own directory."""

    def __init__(self, backends, watchdog=False):
        self.dir = Path(tempfile.mkdtemp(prefix="pgha-pgpool-"))
        os.chmod(self.dir, 0o755)
        self.backends = backends
        self.port = free_port()
        self.pcp_port = free_port()
        self.watchdog = watchdog
        self.proc = None
        pw = pwd.getpwnam("postgres")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.chown(self.dir, self.uid, self.gid)
        self.pcppass = self.dir / "pcppass"

    def write(self, name, text, mode=0o644):
        p = self.dir / name
        p.write_text(text)
        os.chmod(p, mode)
        os.chown(p, self.uid, self.gid)
        return p

    def configure(self):
        d = self.dir
        lines = {
            "backend_clustering_mode": "'streaming_replication'",
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "unix_socket_directories": f"'{d}'",
            "pcp_listen_addresses": "'127.0.0.1'",
            "pcp_port": self.pcp_port,
            "pcp_socket_dir": f"'{d}'",
            "pid_file_name": f"'{d}/pgpool.pid'",
            "logdir": f"'{d}'",
            "wd_ipc_socket_dir": f"'{d}'",
            "num_init_children": 4,
            "max_pool": 1,
            "enable_pool_hba": "off",
            "sr_check_period": 1,
            "sr_check_user": "'postgres'",
            "sr_check_password": "''",
            "health_check_period": 1,
            "health_check_user": "'postgres'",
            "health_check_password": "''",
            "health_check_max_retries": 0,
            "failover_on_backend_error": "off",
            "search_primary_node_timeout": 30,
            "failover_command": f"'{d}/failover.sh %d %h %p %D %m %H %M %P %r %R'",
            "follow_primary_command": f"'{d}/follow_primary.sh %d %h %p %D %m %H %M %P %r %R'",
            "log_min_messages": "'info'",
            "use_watchdog": "on" if self.watchdog else "off",
        }
        for i, srv in enumerate(self.backends):
            lines[f"backend_hostname{i}"] = "'127.0.0.1'"
            lines[f"backend_port{i}"] = srv.port
            lines[f"backend_weight{i}"] = 1
            lines[f"backend_data_directory{i}"] = f"'{srv.datadir}'"
            lines[f"backend_flag{i}"] = "'ALLOW_TO_FAILOVER'"
            lines[f"backend_application_name{i}"] = "'walreceiver'"
        if self.watchdog:
            self.wd_port, self.hb_port = free_port(), free_port()
            lines.update({
                # 4.3 wants at least one other pgpool: a peer that never answers (nothing
                # listens on its ports). With half the votes counting, this node is the leader.
                "hostname1": "'127.0.0.1'",
                "wd_port1": free_port(),
                "pgpool_port1": free_port(),
                "enable_consensus_with_half_votes": "on",
                "hostname0": "'127.0.0.1'",
                "wd_port0": self.wd_port,
                "pgpool_port0": self.port,
                "heartbeat_hostname0": "'127.0.0.1'",
                "heartbeat_port0": self.hb_port,
                "heartbeat_device0": "''",
                "wd_lifecheck_method": "'external'",
                # 4.3 spells it delegate_IP. Loopback "VIP": the up/down commands do nothing and
                # the address answers pings, so the node escalates without touching interfaces.
                "delegate_IP": "'127.0.0.1'",
                "if_up_cmd": "'/bin/true'",
                "if_down_cmd": "'/bin/true'",
                "arping_cmd": "'/bin/true'",
                "ping_path": "'/usr/bin'",
            })
            self.write("pgpool_node_id", "0\n")
        self.conf = self.write("pgpool.conf", "".join(f"{k} = {v}\n" for k, v in lines.items()))
        self.pcp_conf = self.write("pcp.conf", f"{PCP_USER}:{hashlib.md5(PCP_PASSWORD.encode()).hexdigest()}\n")
        self.hba = self.write("pool_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self.write("pcppass", f"*:*:{PCP_USER}:{PCP_PASSWORD}\n", 0o600)
        self.write("failover.sh", FAILOVER_SH.format(bin=PG_BIN, dir=d), 0o755)
        self.write("follow_primary.sh", FOLLOW_SH.format(bin=PG_BIN, dir=d, pcp_port=self.pcp_port), 0o755)
        return self

    def start(self):
        log = open(self.dir / "pgpool.log", "ab")
        self.proc = subprocess.Popen([PGPOOL, "-n", "-D", "-f", str(self.conf), "-F", str(self.pcp_conf), "-a", str(self.hba)],
                                     stdout=log, stderr=subprocess.STDOUT, user=self.uid, group=self.gid,
                                     extra_groups=[], cwd=self.dir)
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, "pgpool exited: " + self.log()
            r = self.pcp("pcp_node_info", "-a")
            if r.returncode == 0:
                rows = [line.split() for line in r.stdout.splitlines() if line.strip()]
                if len(rows) == len(self.backends) and all(row[2] in ("1", "2") for row in rows) \
                        and sum(row[6] == "primary" for row in rows) == 1 and (not self.watchdog or self.escalated()):
                    return self
            time.sleep(0.5)
        raise AssertionError("pgpool did not come up: " + self.log())

    def escalated(self):
        r = self.pcp("pcp_watchdog_info", "-v")
        return r.returncode == 0 and "Local node escalation    : YES" in r.stdout

    def pcp(self, tool, *args):
        """Runs a real pcp_* tool (the oracle) with the temporary PCPPASSFILE."""
        env = dict(os.environ, PCPPASSFILE=str(self.pcppass))
        return subprocess.run([f"/usr/sbin/{tool}", "-h", "127.0.0.1", "-p", str(self.pcp_port), "-U", PCP_USER, "-w", *args],
                              capture_output=True, text=True, env=env, timeout=60)

    def log(self):
        p = self.dir / "pgpool.log"
        return p.read_text(errors="replace")[-6000:] if p.exists() else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


FAILOVER_SH = """#!/bin/sh
# failover_command: %d %h %p %D %m %H %M %P %r %R
echo "failover $*" >> {dir}/scripts.log
failed=$1; new_main=$5; old_primary=$8; new_dir=${{10}}
[ "$failed" = "$old_primary" ] || exit 0   # a standby went away: nothing to promote
[ "$new_main" -ge 0 ] || exit 0
exec {bin}/pg_ctl -D "$new_dir" -w -t 60 promote >> {dir}/scripts.log 2>&1
"""

# Turns the old primary into a standby of the new one (pg_rewind keeps the node's own port and
# socket settings), then attaches it, as a production follow_primary.sh does.
FOLLOW_SH = """#!/bin/sh
# follow_primary_command: %d %h %p %D %m %H %M %P %r %R
echo "follow $*" >> {dir}/scripts.log
node=$1; dir=$4; new_host=$6; new_port=$9
exec >> {dir}/scripts.log 2>&1
{bin}/pg_ctl -D "$dir" -m fast -w stop || true
cp "$dir/postgresql.conf" {dir}/follow-postgresql.conf
cp "$dir/postgresql.auto.conf" {dir}/follow-postgresql.auto.conf
{bin}/pg_rewind -D "$dir" --source-server="host=$new_host port=$new_port user=postgres dbname=postgres" || exit 1
cp {dir}/follow-postgresql.conf "$dir/postgresql.conf"
cp {dir}/follow-postgresql.auto.conf "$dir/postgresql.auto.conf"
echo "primary_conninfo = 'host=$new_host port=$new_port user=postgres application_name=walreceiver'" >> "$dir/postgresql.auto.conf"
touch "$dir/standby.signal"
{bin}/pg_ctl -D "$dir" -l "$dir/../log" -w -t 60 start || exit 1
PCPPASSFILE={dir}/pcppass /usr/sbin/pcp_attach_node -h 127.0.0.1 -p {pcp_port} -U pgpool -w -n "$node"
"""


@pytest.fixture
def cluster(pg_factory):
    """A primary, its streaming standby and a pgpool in front of both (no watchdog)."""
    primary = pg_factory(settings={"wal_log_hints": "on", "wal_keep_size": "'256MB'"})
    trust_loopback(primary)
    standby = standby_of(pg_factory, primary)
    pool = Pgpool([primary, standby]).configure().start()
    yield pool, primary, standby
    pool.stop()


def pcp_args(pool, **extra):
    return {"pcp_host": "127.0.0.1", "pcp_port": pool.pcp_port, "pcp_password": PCP_PASSWORD, **extra}


def node_status(pool, node_id):
    r = pool.pcp("pcp_node_info", "-n", str(node_id))
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[4]  # status name: up, waiting, down, quarantine


def wait_status(pool, node_id, wanted, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if node_status(pool, node_id) in wanted:
            return
        time.sleep(0.3)
    raise AssertionError(f"node {node_id} never became {wanted}: {node_status(pool, node_id)}")


def test_info_matches_pcp_node_info(ansible, cluster):
    pool, primary, standby = cluster
    res, _ = ansible.module("pgpool_info", pcp_args(pool))
    assert res.get("failed") is not True, res
    assert res["changed"] is False
    assert res["node_count"] == 2 and res["primary_node_id"] == 0
    assert res["watchdog_enabled"] is False and res["watchdog"] is None
    nodes = res["nodes"]
    assert [(n["node_id"], n["port"], n["role"]) for n in nodes] == [(0, primary.port, "primary"), (1, standby.port, "standby")]
    assert all(n["status"] in ("up", "waiting") for n in nodes)

    # The oracle: the real pcp_node_info, field by field ("%s %d %d %f %s %s %s %s %lu %s %s %s").
    r = pool.pcp("pcp_node_info", "-a")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.strip()]
    assert len(rows) == 2
    codes = {"unused": "0", "waiting": "1", "up": "2", "down": "3", "quarantine": "3"}
    for n, row in zip(nodes, rows):
        host, port, code, weight, status, pg_status, role, pg_role, delay, rep_state, sync_state = row[:11]
        changed = " ".join(row[11:13])
        assert (n["hostname"], str(n["port"])) == (host, port)
        assert (codes[n["status"]], n["status"]) == (code, status)
        assert f"{n['lb_weight']:.6f}" == weight
        assert (n["pg_status"], n["role"], n["pg_role"]) == (pg_status, role, pg_role)
        assert str(n["replication_delay"]) == delay or n["role"] == "standby"  # a delay may move between the calls
        assert (n["replication_state"] or "none", n["replication_sync_state"] or "none") == (rep_state, sync_state)
        assert time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(n["last_status_change_epoch"])) == changed
    assert nodes[1]["replication_state"] == "streaming" and nodes[1]["replication_sync_state"] == "async"

    # Health check stats against pcp_health_check_stats.
    stats = res["health_check_stats"]
    assert [s["node_id"] for s in stats] == [0, 1]
    r = pool.pcp("pcp_health_check_stats", "-n", "1")
    assert r.returncode == 0, r.stderr
    words = r.stdout.split()
    assert words[:5] == ["1", "127.0.0.1", str(standby.port), stats[1]["status"], stats[1]["role"]]
    assert stats[1]["total_count"] >= 1


def test_detach_attach_idempotent_and_check_mode(ansible, cluster):
    pool, primary, standby = cluster
    args = pcp_args(pool, node_id=1)

    res, _ = ansible.module("pgpool_node", dict(args, state="detached"), check=True)
    assert res["changed"] is True and res["commands"] == ["pcp_detach_node -n 1"], res
    assert res["before"]["status"] in ("up", "waiting")
    assert node_status(pool, 1) in ("up", "waiting"), "check mode must not detach"

    res, _ = ansible.module("pgpool_node", dict(args, state="detached"), diff=True)
    assert res["changed"] is True, res
    assert res["node"]["status"] == "down" and res["after"]["status"] == "down"
    assert "status: down" in res["diff"]["after"]
    assert node_status(pool, 1) == "down"

    res, _ = ansible.module("pgpool_node", dict(args, state="detached"))
    assert res["changed"] is False and res["commands"] == [], res

    # Selected by host and port this time; check mode first.
    by_host = pcp_args(pool, hostname="127.0.0.1", port=standby.port, state="attached")
    res, _ = ansible.module("pgpool_node", by_host, check=True)
    assert res["changed"] is True and res["node_id"] == 1 and res["commands"] == ["pcp_attach_node -n 1"], res
    time.sleep(1)
    assert node_status(pool, 1) == "down", "check mode must not attach"

    res, _ = ansible.module("pgpool_node", by_host)
    assert res["changed"] is True and res["node"]["status"] in ("up", "waiting"), res
    wait_status(pool, 1, ("up", "waiting"))

    res, _ = ansible.module("pgpool_node", by_host)
    assert res["changed"] is False, res
    res, _ = ansible.module("pgpool_node", dict(args, state="recovered"))
    assert res["changed"] is False and "nothing to do" in res["msg"], res
    res, _ = ansible.module("pgpool_node", pcp_args(pool, node_id=0, state="promoted"))
    assert res["changed"] is False and res["node"]["role"] == "primary", res


def test_bad_selection_and_errors(ansible, cluster):
    pool, primary, standby = cluster
    res, _ = ansible.module("pgpool_node", pcp_args(pool, hostname="127.0.0.1", state="attached"))
    assert res["failed"] is True and "several backend nodes" in res["msg"]
    res, _ = ansible.module("pgpool_node", pcp_args(pool, node_id=7))
    assert res["failed"] is True and "no backend node 7" in res["msg"]
    res, _ = ansible.module("pgpool_node", pcp_args(pool, node_id=1, state="attached", switchover=True))
    assert res["failed"] is True and "switchover is only used with state: promoted" in res["msg"]
    # Recovery of the primary: Pgpool-II's own error comes back, typed and readable.
    r0, _ = ansible.module("pgpool_node", pcp_args(pool, node_id=1, state="detached"))
    assert r0["changed"] is True
    res, _ = ansible.module("pgpool_node", pcp_args(pool, node_id=1, state="promoted"))
    assert res["failed"] is True and "only an attached standby can be promoted" in res["msg"]


def test_wrong_password_and_unreachable(ansible, cluster):
    pool, primary, standby = cluster
    wrong = "not-the-Password-42"
    for module in ("pgpool_info", "pgpool_node"):
        args = dict(pcp_args(pool, pcp_password=wrong), **({"node_id": 1} if module == "pgpool_node" else {}))
        res, text = ansible.module(module, args, verbosity=3)
        assert res["failed"] is True
        assert "PCP authentication failed for user \"pgpool\"" in res["msg"], res["msg"]
        assert "username and/or password does not match" in res["msg"]
        assert wrong not in text, "the password leaked into the output"
        assert "Traceback" not in text and "panicked" not in text
    res, text = ansible.module("pgpool_info", dict(pcp_args(pool), pcp_port=free_port()), verbosity=3)
    assert res["failed"] is True and "cannot connect to the Pgpool-II PCP service at 127.0.0.1:" in res["msg"]
    assert PCP_PASSWORD not in text
    res, _ = ansible.module("pgpool_info", dict(pcp_args(pool), pcp_host=str(pool.dir)))
    assert res.get("failed") is not True and res["node_count"] == 2, res  # over pcp_socket_dir


def test_promote_with_switchover(ansible, cluster):
    """A real switchover on loopback: failover.sh promotes node 1, follow_primary.sh rewinds the
    old primary into a standby of it and attaches it; the module waits for both."""
    pool, primary, standby = cluster
    args = pcp_args(pool, node_id=1, state="promoted", switchover=True, wait_timeout=60)
    res, _ = ansible.module("pgpool_node", args, check=True)
    assert res["changed"] is True and res["commands"] == ["pcp_promote_node -s -n 1"], res
    assert standby.psql("select pg_is_in_recovery()") == [["t"]]

    res, _ = ansible.module("pgpool_node", args)
    if res.get("failed"):
        print(res["msg"], (pool.dir / "scripts.log").read_text(), pool.log(), sep="\n----\n")
    assert res.get("failed") is not True, res["msg"]
    assert res["changed"] is True and res["node"]["role"] == "primary"
    assert res["old_primary"]["node_id"] == 0 and res["old_primary"]["role"] == "standby"
    assert res["old_primary"]["status"] in ("up", "waiting")
    assert standby.psql("select pg_is_in_recovery()") == [["f"]]
    assert primary.psql("select pg_is_in_recovery()") == [["t"]]

    res, _ = ansible.module("pgpool_node", args)
    assert res["changed"] is False, res
    r = pool.pcp("pcp_node_info", "-n", "1")
    assert r.stdout.split()[6] == "primary"


def test_watchdog(ansible, pg_factory):
    """pgpool_info's watchdog part against a real watchdog (this pgpool and a configured peer
    that never answers), compared with pcp_watchdog_info -v."""
    primary = pg_factory()
    trust_loopback(primary)
    pool = Pgpool([primary], watchdog=True).configure()
    try:
        pool.start()
        res, _ = ansible.module("pgpool_info", pcp_args(pool))
        assert res.get("failed") is not True, res
        wd = res["watchdog"]
        assert res["watchdog_enabled"] is True
        assert wd["node_count"] == 2 and wd["remote_node_count"] == 1
        assert wd["quorum_status"] >= 0, wd
        assert wd["local_node_escalated"] is True and wd["delegate_ip"] == "127.0.0.1"
        me, peer = wd["nodes"]
        assert me["is_local"] and me["is_leader"] and me["state_name"] == "LEADER"
        assert not peer["is_local"] and not peer["is_leader"] and peer["state_name"] != "LEADER"
        assert wd["leader_node_name"] == me["name"] == wd["vip_holder"]
        assert me["pgpool_port"] == pool.port and me["wd_port"] == pool.wd_port

        r = pool.pcp("pcp_watchdog_info", "-v")
        assert r.returncode == 0, r.stderr
        out = r.stdout
        assert "Total Nodes              : 2" in out
        assert f"Leader Node Name         : {wd['leader_node_name']}" in out
        assert f"Leader Host Name         : {wd['leader_host_name']}" in out
        assert f"Quorum state             : {wd['quorum_state']}" in out
        assert f"Nodes required for quorum: {wd['nodes_required_for_quorum']}" in out
        assert "Local node escalation    : YES" in out
        blocks = [b for b in out.split("Watchdog Node Information")[1].split("\n\n") if "Node Name" in b]
        assert len(blocks) == 2
        for node, block in zip(wd["nodes"], blocks):
            fields = dict(line.split(" : ", 1) for line in block.strip().splitlines())
            fields = {k.strip(): v.strip() for k, v in fields.items()}
            assert fields["Node Name"] == node["name"] and fields["Host Name"] == node["host"]
            assert fields["Status Name"] == node["state_name"] and fields["Status"] == str(node["state"])
            assert fields["Membership Status"] == node["membership_status"]
            assert int(fields["Pgpool port"]) == node["pgpool_port"] and int(fields["Watchdog port"]) == node["wd_port"]
            assert fields["Delegate IP"] == (node["delegate_ip"] or "Not_Set")

        # The backends still come back next to the watchdog.
        assert res["node_count"] == 1 and res["nodes"][0]["role"] == "primary"
    finally:
        pool.stop()
