#!/usr/bin/env python3
"""Lab drills for the `pgpool` scenario: faults only Docker can make, measured from the host.

    .venv/bin/python molecule/pgpool/drills.py leader-kill partition [--out results.json]

leader-kill  `docker kill` of the watchdog leader's container (the node holding the VIP):
             seconds until the VIP accepts connections on another node, and until a query
             through it works (when the leader was also the primary, that includes the
             PostgreSQL failover); then the container is started again and every down node is
             recovered (recover_node.yml).
partition    the primary's container cut off the lab network (`docker network disconnect`)
             for a while, then connected again: the cut-off primary stops accepting writes
             (pgha-fence) before any standby is promoted, shown sample by sample on every node
             (about every 0.2 s through `docker exec`, which still reaches a cut-off
             container: each node's role, whether it accepts writes, whether it holds the VIP);
             never two primaries, never the VIP on two nodes; seconds until writes work through
             the VIP; then the cluster heals (recover_node.yml) with all nodes up.

During each drill a write client (playbooks/files/pgha_write_probe.py) inserts through the VIP
and counts acknowledged writes lost. The figures go to --out (JSON) and to stdout; the exit
status is 1 when a goal is missed (VIP back within 10 s; at most one primary and one VIP
holder at any sample; the cut-off primary stopped before the promotion; every node up after
healing; no acknowledged write lost). The partition's per-sample timeline goes to --out and,
as a table of the samples where a node changed, to stdout.

Only the lab's own containers and network are touched (PGHA_LAB_NETWORK, PGHA_LAB_PREFIX as in
molecule/shared/base.yml).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))
import day2  # noqa: E402
from labdrill import (Monitor, Probe, docker, fence_order, journal, local_sql, log, roles as all_roles,  # noqa: E402
                      timeline, timeline_table, wait_for, wait_systemd)

ROOT = Path(__file__).resolve().parents[2]
NETWORK = os.environ.get("PGHA_LAB_NETWORK", "pgha_lab")
PREFIX = os.environ.get("PGHA_LAB_PREFIX", "10.0.0")
NODES = ["postgres1", "postgres2", "postgres3"]
ADDRESS = {n: f"{PREFIX}.{181 + i}" for i, n in enumerate(NODES)}
VIP = f"{PREFIX}.180"
# The lab's group_vars (not secrets; a private network); a rotation drill changes them for a while.
PASSWORDS = {"pgha_postgres_password": "lab-postgres-3f9a", "pgha_pgpool_password": "lab-pgpool-b84e",
             "pgha_repl_password": "lab-repl-7c21", "pgha_pgpool_key": "lab-pgpoolkey-51d0"}
VIP_GOAL = 10.0


def probe_(name, workdir):
    """The write client, inserting through the VIP."""
    return Probe(name, workdir, [f"--host={VIP}"], PASSWORDS["pgha_postgres_password"], duration=600)


def monitor():
    m = Monitor(NODES, vip=VIP)
    m.start()
    return m


def vip_query(timeout=2):
    """Whether Pgpool-II answers a query on the VIP."""
    try:
        conn = psycopg2.connect(host=VIP, port=9999, user="pgpool", password=PASSWORDS["pgha_pgpool_password"], dbname="postgres",
                                connect_timeout=timeout, options="-c statement_timeout=2000")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                return cur.fetchone()[0] == 1
        finally:
            conn.close()
    except psycopg2.Error:
        return False


def vip_tcp(timeout=0.5):
    """Whether something accepts TCP connections on VIP:9999."""
    try:
        with socket.create_connection((VIP, 9999), timeout=timeout):
            return True
    except OSError:
        return False


def roles():
    """(role, holds_vip) of every node."""
    return {n: (s["role"], bool(s["vip"])) for n, s in all_roles(NODES, VIP).items()}


def heal():
    """recover_node.yml for every down node, then the backends as Pgpool-II sees them."""
    t = time.monotonic()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "playbooks/ansible.cfg"))
    p = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "inventories/lab", "recover_node.yml"],
                       cwd=ROOT / "playbooks", env=env, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        log("recover_node.yml failed:\n" + p.stdout[-3000:] + p.stderr[-2000:])
    nodes = pool_nodes()
    up = [n for n in nodes if n["status"] in ("up", "waiting")]
    return {"recover_rc": p.returncode, "heal_seconds": round(time.monotonic() - t, 1),
            "nodes_after": [f"{n['hostname']} {n['status']} {n['role']}" for n in nodes], "all_up": len(up) == len(NODES)}


def pool_nodes():
    for _ in range(30):
        try:
            conn = psycopg2.connect(host=VIP, port=9999, user="pgpool", password=PASSWORDS["pgha_pgpool_password"], dbname="postgres", connect_timeout=2)
            try:
                with conn.cursor() as cur:
                    cur.execute("SHOW pool_nodes")
                    cols = [c.name for c in cur.description]
                    return [dict(zip(cols, row)) for row in cur.fetchall()]
            finally:
                conn.close()
        except psycopg2.Error:
            time.sleep(1)
    return []


def settle_after_start(node):
    """A restarted container: systemd up, then its pgpool back in the watchdog cluster."""
    wait_systemd(node)
    wait_for(f"pgpool on {node}", lambda: docker("exec", node, "systemctl", "is-active", "pgpool2", timeout=5).stdout.strip() == "active",
             60, step=0.5)
    time.sleep(5)


def leader_kill(workdir):
    holders = [n for n, (_, vip) in roles().items() if vip]
    assert len(holders) == 1, f"expected one VIP holder before the drill, found {holders}"
    leader = holders[0]
    before = roles()
    probe, mon = probe_("leader-kill", workdir), monitor()
    time.sleep(3)
    log(f"docker kill {leader} (watchdog leader, {before[leader][0]})")
    t0 = time.monotonic()
    docker("kill", leader, check=True)
    ok = wait_for("the VIP to accept connections on another node", lambda: vip_tcp(0.5), 60, step=0.1)
    vip_seconds = round(time.monotonic() - t0, 2)
    new_holders = [n for n, (_, vip) in roles().items() if vip]
    ok_query = wait_for("a query through the VIP", lambda: vip_query(1), 60, step=0.1)
    query_seconds = round(time.monotonic() - t0, 2)
    log(f"VIP accepts connections after {vip_seconds} s on {new_holders}, answers a query after {query_seconds} s")
    time.sleep(6)
    writes = probe.finish()
    docker("start", leader, check=True)
    settle_after_start(leader)
    seen = mon.finish()
    healed = heal()
    result = {"drill": "watchdog leader container killed", "killed": leader, "killed_was": before[leader][0],
              "vip_back_seconds": vip_seconds if ok else None, "vip_query_seconds": query_seconds if ok_query else None,
              "new_vip_holder": new_holders,
              "write_outage_seconds": writes["max_outage"], "writes_acked": writes["acked"], "writes_lost": writes["lost"],
              **seen, **healed}
    goals = [ok and vip_seconds <= VIP_GOAL and new_holders and leader not in new_holders,
             seen["max_primaries"] <= 1, seen["max_vip_holders"] <= 1, writes["lost"] == 0, healed["all_up"]]
    return result, all(goals)


def partition(workdir, cut_seconds=20):
    before = roles()
    primaries = [n for n, (role, _) in before.items() if role == "primary"]
    assert len(primaries) == 1, f"expected one primary before the drill, found {before}"
    victim = primaries[0]
    probe, mon = probe_("partition", workdir), monitor()
    time.sleep(3)
    log(f"docker network disconnect {NETWORK} {victim} (primary{', VIP holder' if before[victim][1] else ''})")
    cut_epoch = time.time()
    fault = mon.mark("cut")
    t0 = time.monotonic()
    docker("network", "disconnect", NETWORK, victim, check=True)

    def failed_over():
        r = roles()
        return any(role == "primary" for n, (role, _) in r.items() if n != victim) and vip_query(1)
    ok = wait_for("a new primary behind the VIP", failed_over, 90, step=0.2)
    failover_seconds = round(time.monotonic() - t0, 2)
    log(f"new primary after {failover_seconds} s; cut for {cut_seconds} s in all")
    time.sleep(max(0, cut_seconds - (time.monotonic() - t0)))
    during = roles()
    docker("network", "connect", "--ip", ADDRESS[victim], NETWORK, victim, check=True)
    log(f"{victim} connected again; watching for 10 s")
    time.sleep(10)
    writes = probe.finish()
    seen = mon.finish()
    order = fence_order(mon.samples, victim, fault)
    rows = timeline(mon.samples, NODES, fault, until=cut_seconds, vip=True)
    fence_log = [l for l in journal(victim, ["pgha-fence"], since_epoch=cut_epoch - 5) if "pgha-fence:" in l][-6:]
    healed = heal()
    result = {"drill": "primary cut off the network", "cut_off": victim, "cut_seconds": cut_seconds,
              "new_primary_seconds": failover_seconds if ok else None,
              "roles_during_cut": {n: r[0] for n, r in during.items()},
              "old_primary_stopped_by_seconds": order["stopped_by"], "standby_promoted_after_seconds": order["promoted_after"],
              "fenced_before_promotion": order["fenced_first"], "new_primary": order["new_primary"], "fence_log": fence_log,
              "write_outage_seconds": writes["max_outage"], "writes_acked": writes["acked"], "writes_lost": writes["lost"],
              **seen, **healed, "timeline": rows}
    print(f"partition timeline ({victim} cut off at t=0; states per sample, rounds where one changed):")
    print(timeline_table(rows, NODES))
    goals = [ok, order["fenced_first"], seen["max_primaries"] <= 1, seen["max_vip_holders"] <= 1, writes["lost"] == 0,
             healed["all_up"]]
    return result, all(goals)


def streaming():
    """Every backend up in Pgpool-II, one primary, and every other node streaming from it."""
    nodes = pool_nodes()
    if len(nodes) != len(NODES) or any(n["status"] not in ("up", "waiting") for n in nodes):
        return False
    r = all_roles(NODES, VIP)
    primaries = [n for n, x in r.items() if x["role"] == "primary"]
    if len(primaries) != 1:
        return False
    return all(wal_streaming(n) for n in NODES if n != primaries[0])


def wal_streaming(node):
    return local_sql(node, "select count(*) from pg_stat_wal_receiver where status = 'streaming'", timeout=10) == "1"


def setting_now():
    return local_sql(NODES[0], f"show {day2.SETTING}", timeout=10) or ""


def pgpool_starts():
    """When Pgpool-II last started on each node (systemd's monotonic stamp): which ones restarted."""
    return {n: docker("exec", n, "systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", "--value", "pgpool2",
                      timeout=10).stdout.strip() for n in NODES}


def pgpool_show(key):
    """A pgpool.conf value as the Pgpool-II behind the VIP runs it (PGPOOL SHOW)."""
    conn = psycopg2.connect(host=VIP, port=9999, user="pgpool", password=PASSWORDS["pgha_pgpool_password"], dbname="postgres", connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(f"PGPOOL SHOW {key}")
            return cur.fetchone()[0]
    finally:
        conn.close()


def pgpool_setting(workdir, name, key, new, restart):
    """site.yml with one pgpool.conf key changed under the write client. A reload-only key:
    nothing restarts and no write fails. A restart-only key: every Pgpool-II restarts once, one at
    a time, the VIP holder last (the VIP moves once; its sessions end, the client reconnects),
    no backend is failed over."""
    old = pgpool_show(key)
    extra = ["-e", json.dumps({"pgpool_settings_extra": {key: new}})]
    result, ok = day2.operation(LAB, workdir, name, "playbooks/site.yml", extra, moves_primary=False,
                                outage_goal=day2.MOVE_OUTAGE_GOAL if restart else None, max_vip_moves=1 if restart else 0)
    result["setting"] = f"{key} {old} -> {new}"
    result["setting_after"] = pgpool_show(key)
    expected_restarts = NODES if restart else []
    ok = ok and result["setting_after"] == str(new) and result["manager_restarted"] == expected_restarts
    ok = ok and all(n["status"] in ("up", "waiting") for n in pool_nodes())
    return result, ok


def pgpool_reload(workdir):
    new = "notice" if pgpool_show("log_min_messages") != "notice" else "warning"
    return pgpool_setting(workdir, "pgpool-reload", "log_min_messages", new, restart=False)


def pgpool_restart(workdir):
    return pgpool_setting(workdir, "pgpool-restart", "num_init_children", int(pgpool_show("num_init_children")) + 1, restart=True)


LAB = day2.Lab(NODES, ROOT / "playbooks/inventories/lab", probe_, monitor, roles, streaming, setting_now, pgpool_starts, PASSWORDS)
DRILLS = {"leader-kill": leader_kill, "partition": partition,
          "restart-setting": lambda w: day2.restart_setting(LAB, w), "rolling-restart": lambda w: day2.rolling_restart(LAB, w),
          "pgpool-reload": pgpool_reload, "pgpool-restart": pgpool_restart,
          **{f"rotate-{v.removeprefix('pgha_').removesuffix('_password')}": (lambda w, v=v: day2.rotate(LAB, w, v)) for v in PASSWORDS},
          "upgrade": lambda w: day2.upgrade(LAB, w, ["pgpool2", "libpgpool2", "postgresql-15", "postgresql-15-pgpool2"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("drills", nargs="+", choices=list(DRILLS))
    ap.add_argument("--out", default=os.environ.get("PGHA_DRILL_RESULTS", "/tmp/pgha-drills") + "/lab_drills.json")
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    p = docker("network", "inspect", NETWORK)
    if p.returncode != 0:
        sys.exit(f"drills: no docker network {NETWORK}: create the lab first")
    results, passed = [], True
    for name in args.drills:
        log(f"== {name}")
        result, ok = DRILLS[name](out.parent)
        result["goals_met"] = ok
        passed &= ok
        results.append(result)
        log(json.dumps(result))
    out.write_text(json.dumps(results, indent=1) + "\n")
    for r in results:
        print(f"{r['drill']}: " + ", ".join(f"{k}={r[k]}" for k in
              ("vip_back_seconds", "vip_query_seconds", "new_primary_seconds", "old_primary_stopped_by_seconds",
               "standby_promoted_after_seconds", "fenced_before_promotion", "write_outage_seconds", "writes_lost", "max_primaries",
               "max_vip_holders", "all_up", *day2.FIGURES, "vip_moves", "manager_restarted", "setting", "goals_met") if k in r))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
