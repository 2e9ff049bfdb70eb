#!/usr/bin/env python3
"""Lab drills for the `repmgr` scenario: faults made with Docker, measured from the host.

    .venv/bin/python molecule/repmgr/drills.py switchover kill return partition [--out results.json]

switchover  playbooks/switchover.yml to a standby: with --check first (repmgr's --dry-run; nothing
            may change), then for real; the former primary and the sibling must follow the new
            primary.
kill        `docker kill` of the primary's container: seconds until repmgrd has promoted a
            standby and until that primary acknowledges a write (with synchronous replication the
            sibling must follow first); the sibling must stream from the new primary.
return      the killed container started again (`docker start`): its server's start guard refuses
            to start it as a primary and rejoins it as a standby of the new primary (repmgr node
            rejoin --force-rewind); seconds until it streams.
partition   the primary's container cut off the network (`docker network disconnect`) for 30 s,
            then connected again with its address: the cut-off primary stops accepting writes
            (pgha-fence) before any standby is promoted, shown sample by sample on every node
            (about every 0.2 s through `docker exec`, which still reaches a cut-off container:
            each node's role and whether it accepts writes); never two primaries; whether the
            old primary rejoins by itself once connected (else site.yml heals it through
            pgha.cluster.repmgr_rejoin).

A write client (playbooks/files/pgha_write_probe.py --hosts: every node, target_session_attrs
read-write, so it follows the primary) inserts during each drill and counts acknowledged writes
lost. Figures go to --out (JSON) and stdout; the exit status is 1 when a goal is missed
(switchover done and followed; a new primary taking writes within 15 s of the kill; the old
primary back as a standby; never two primaries at one sample; the cut-off primary stopped
before the promotion; no acknowledged write lost). The partition's per-sample timeline goes to
--out and, as a table of the samples where a node changed, to stdout.

Only this scenario's containers (repmgr1..3) and network (pgha_repmgr) are touched.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))
import day2  # noqa: E402
import labdrill  # noqa: E402
from labdrill import (Monitor, Probe, docker, fence_order, journal, log, roles as all_roles,  # noqa: E402
                      timeline, timeline_table, wait_for, local_sql)

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).resolve().parent
NETWORK = "pgha_repmgr"
NODES = ["repmgr1", "repmgr2", "repmgr3"]
ADDRESS = {n: f"10.0.1.{181 + i}" for i, n in enumerate(NODES)}
NAME_OF = {a: n for n, a in ADDRESS.items()}
# inventory/group_vars (not secrets; a private network); a rotation drill changes them for a while
PASSWORDS = {"pgha_postgres_password": "lab-postgres-3f9a", "pgha_repl_password": "lab-repl-7c21",
             "pgha_repmgr_password": "lab-repmgr-d41c"}
WRITE_GOAL = 15.0


def role(node):
    """primary, standby, down (server not answering) or unreachable (container not answering)."""
    r = local_sql(node, "select pg_is_in_recovery()")
    return {"f": "primary", "t": "standby", None: "unreachable"}.get(r, "down")


def roles():
    return {n: s["role"] for n, s in all_roles(NODES).items()}


def upstream(node):
    """The node a standby streams from (its WAL receiver's sender, status streaming), else None."""
    r = local_sql(node, "select sender_host from pg_stat_wal_receiver where status = 'streaming'")
    return NAME_OF.get(r or "")


def probe_(name, workdir):
    """The write client, writing to whichever node accepts writes."""
    return Probe(f"repmgr-{name}", workdir, ["--hosts=" + ",".join(ADDRESS.values()), "--port=5432"], PASSWORDS["pgha_postgres_password"],
                 duration=900, settle=3)


def monitor():
    m = Monitor(NODES)
    m.start()
    return m


def accepts_write(node):
    try:
        conn = psycopg2.connect(host=ADDRESS[node], port=5432, user="postgres", password=PASSWORDS["pgha_postgres_password"],
                                dbname="postgres", connect_timeout=2, options="-c statement_timeout=1500")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE IF NOT EXISTS pgha_drill_ping (at timestamptz DEFAULT now())")
                cur.execute("INSERT INTO pgha_drill_ping DEFAULT VALUES")
            return True
        finally:
            conn.close()
    except psycopg2.Error:
        return False


def ansible_playbook(playbook, *extra):
    return labdrill.ansible_playbook(SCENARIO / "inventory", playbook, *extra)


def the_primary():
    r = roles()
    primaries = [n for n, x in r.items() if x == "primary"]
    assert len(primaries) == 1, f"expected one primary before the drill, found {r}"
    return primaries[0], r


def followers_of(primary, nodes):
    return all(upstream(n) == primary for n in nodes)


def cluster_show_ok(node):
    p = docker("exec", "-u", "postgres", node, "/usr/lib/postgresql/15/bin/repmgr", "-f", "/etc/repmgr.conf", "cluster", "show",
               "--csv", timeout=30)
    return p.returncode == 0


def switchover(workdir):
    primary, _ = the_primary()
    target = sorted(n for n in NODES if n != primary)[0]
    probe, mon = probe_("switchover", workdir), monitor()
    log(f"switchover.yml --check to {target} (primary {primary})")
    dry_rc, dry_seconds, _ = ansible_playbook("playbooks/switchover.yml", "-e", f"pgha_switchover_to={target}", "--check")
    unchanged = the_primary()[0] == primary
    log(f"switchover.yml to {target}")
    rc, seconds, _ = ansible_playbook("playbooks/switchover.yml", "-e", f"pgha_switchover_to={target}")
    others = [n for n in NODES if n != target]
    followed = wait_for("the former primary and the sibling to stream from the new primary",
                        lambda: followers_of(target, others), 60)
    time.sleep(3)
    writes = probe.finish()
    seen = mon.finish()
    r = roles()
    result = {"drill": "switchover through playbooks/switchover.yml", "from": primary, "to": target,
              "dry_run_rc": dry_rc, "dry_run_seconds": dry_seconds, "primary_unchanged_after_dry_run": unchanged,
              "rc": rc, "playbook_seconds": seconds, "roles_after": r, "all_follow_new_primary": followed,
              "write_outage_seconds": writes["max_outage"], "writes_acked": writes["acked"], "writes_lost": writes["lost"],
              **seen}
    goals = [dry_rc == 0, unchanged, rc == 0, r[target] == "primary", followed, seen["max_primaries"] <= 1, writes["lost"] == 0]
    return result, all(goals)


STATE = {}


def kill(workdir):
    primary, _ = the_primary()
    standbys = [n for n in NODES if n != primary]
    probe, mon = probe_("kill", workdir), monitor()
    log(f"docker kill {primary} (primary)")
    t0 = time.monotonic()
    docker("kill", primary, check=True)
    promoted = {}

    def promoted_somewhere():
        for n in standbys:
            if role(n) == "primary":
                promoted.setdefault("node", n)
                promoted.setdefault("seconds", round(time.monotonic() - t0, 2))
                return True
        return False
    ok = wait_for("a standby to be promoted", promoted_somewhere, 90)
    new = promoted.get("node")
    wrote = ok and wait_for(f"{new} to acknowledge a write", lambda: accepts_write(new), 60, step=0.1)
    write_seconds = round(time.monotonic() - t0, 2) if wrote else None
    log(f"promoted {new} after {promoted.get('seconds')} s; it acknowledges writes after {write_seconds} s")
    sibling = [n for n in standbys if n != new]
    followed = ok and wait_for("the sibling to stream from the new primary", lambda: followers_of(new, sibling), 60)
    follow_seconds = round(time.monotonic() - t0, 2) if followed else None
    time.sleep(3)
    writes = probe.finish()
    seen = mon.finish()
    STATE.update(killed=primary, new_primary=new)
    result = {"drill": "primary container killed", "killed": primary, "new_primary": new,
              "promoted_seconds": promoted.get("seconds"), "write_accepted_seconds": write_seconds,
              "sibling_follows_seconds": follow_seconds, "write_outage_seconds": writes["max_outage"],
              "writes_acked": writes["acked"], "writes_lost": writes["lost"], "lost_ids": writes["lost_ids"][:10], **seen}
    goals = [ok, wrote and write_seconds <= WRITE_GOAL, followed, seen["max_primaries"] <= 1, writes["lost"] == 0]
    return result, all(goals)


def back_as_standby(node, primary):
    return role(node) == "standby" and upstream(node) == primary


def ret(workdir):
    old, new = STATE.get("killed"), STATE.get("new_primary")
    if not old:
        old = next(n for n in NODES if docker("inspect", "-f", "{{.State.Running}}", n).stdout.strip() != "true")
        new = the_primary()[0]
    probe, mon = probe_("return", workdir), monitor()
    log(f"docker start {old} (the old primary; {new} is the primary)")
    t0 = time.monotonic()
    docker("start", old, check=True)
    ok = wait_for(f"{old} to stream from {new} as a standby", lambda: back_as_standby(old, new), 180, step=0.5)
    seconds = round(time.monotonic() - t0, 2) if ok else None
    shown = ok and wait_for("repmgr cluster show to exit 0", lambda: cluster_show_ok(new), 60, step=2)
    journal = docker("exec", old, "journalctl", "-o", "cat", "--no-pager", "-u", "pgha-postgresql", "-u", "pgha-repmgr-rejoin",
                     timeout=30).stdout
    writes = probe.finish()
    seen = mon.finish()
    result = {"drill": "old primary started again", "node": old, "primary": new, "rejoined_seconds": seconds,
              "cluster_show_ok": shown, "guard_refused_start": "refusing to start" in journal,
              "pg_rewind_ran": "pg_rewind" in journal, "writes_acked": writes["acked"], "writes_lost": writes["lost"],
              "write_outage_seconds": writes["max_outage"], **seen}
    goals = [ok, shown, seen["max_primaries"] <= 1, writes["lost"] == 0]
    return result, all(goals)


def partition(workdir, cut_seconds=30):
    primary, _ = the_primary()
    standbys = [n for n in NODES if n != primary]
    probe, mon = probe_("partition", workdir), monitor()
    log(f"docker network disconnect {NETWORK} {primary} (primary)")
    cut_epoch = time.time()
    fault = mon.mark("cut")
    t0 = time.monotonic()
    docker("network", "disconnect", NETWORK, primary, check=True)
    events = {}

    def watch():
        r = roles()
        at = round(time.monotonic() - t0, 2)
        if r[primary] != "primary":
            events.setdefault("old_primary_stopped_seconds", at)
        for n in standbys:
            if r[n] == "primary":
                events.setdefault("promoted_seconds", at)
                events.setdefault("new_primary", n)
        return "promoted_seconds" in events and "old_primary_stopped_seconds" in events
    wait_for("the fence and a promotion", watch, cut_seconds, step=0.2)
    time.sleep(max(0, cut_seconds - (time.monotonic() - t0)))
    during = roles()
    new = events.get("new_primary")
    log(f"during the cut: {during}; connecting {primary} again")
    docker("network", "connect", "--ip", ADDRESS[primary], NETWORK, primary, check=True)
    t1 = time.monotonic()
    # A standby was promoted: the old primary must come back as its standby by itself (the
    # fence starts it, the start guard rejoins it). None was: the old primary must be the
    # primary again, with both standbys.
    expected = new or primary
    healed_itself = wait_for(f"the cluster to heal by itself around {expected}",
                             lambda: role(expected) == "primary" and followers_of(expected, [n for n in NODES if n != expected]),
                             120, step=0.5)
    heal_seconds = round(time.monotonic() - t1, 2) if healed_itself else None
    heal = None
    if not healed_itself:
        log("healing with site.yml (pgha.cluster.repmgr_rejoin)")
        rc, seconds, _ = ansible_playbook("playbooks/site.yml")
        heal = {"site_rc": rc, "site_seconds": seconds}
    followed = wait_for("every standby to stream from the primary",
                        lambda: followers_of(expected, [n for n in NODES if n != expected]), 60)
    writes = probe.finish()
    seen = mon.finish()
    order = fence_order(mon.samples, primary, fault)
    rows = timeline(mon.samples, NODES, fault, until=cut_seconds)
    fence_log = [l for l in journal(primary, ["pgha-fence", "pgha-postgresql", "pgha-repmgr-rejoin"], since_epoch=cut_epoch - 5)
                 if "pgha-fence:" in l][-8:]
    result = {"drill": "primary cut off the network", "cut_off": primary, "cut_seconds": cut_seconds, **events,
              "old_primary_stopped_by_seconds": order["stopped_by"], "standby_promoted_after_seconds": order["promoted_after"],
              "fenced_before_promotion": order["fenced_first"],
              "roles_during_cut": during, "primary_after": expected, "healed_by_itself_seconds": heal_seconds, "heal": heal,
              "all_follow_new_primary": followed, "fence_log": fence_log,
              "write_outage_seconds": writes["max_outage"], "writes_acked": writes["acked"], "writes_lost": writes["lost"],
              **seen, "timeline": rows}
    print(f"partition timeline ({primary} cut off at t=0; states per sample, rounds where one changed):")
    print(timeline_table(rows, NODES))
    goals = [new is not None, order["fenced_first"], followed, seen["max_primaries"] <= 1, writes["lost"] == 0]
    return result, all(goals)


def streaming():
    """One primary, and every other node streaming from it."""
    r = roles()
    primaries = [n for n, x in r.items() if x == "primary"]
    return len(primaries) == 1 and followers_of(primaries[0], [n for n in NODES if n != primaries[0]])


def setting_now():
    return local_sql(NODES[0], f"show {day2.SETTING}") or ""


LAB = day2.Lab(NODES, SCENARIO / "inventory", probe_, monitor, roles, streaming, setting_now, passwords=PASSWORDS)
DRILLS = {"switchover": switchover, "kill": kill, "return": ret, "partition": partition,
          "restart-setting": lambda w: day2.restart_setting(LAB, w), "rolling-restart": lambda w: day2.rolling_restart(LAB, w),
          **{f"rotate-{v.removeprefix('pgha_').removesuffix('_password')}": (lambda w, v=v: day2.rotate(LAB, w, v)) for v in PASSWORDS},
          "upgrade": lambda w: day2.upgrade(LAB, w, ["postgresql-15", "postgresql-15-repmgr", "repmgr", "repmgr-common"])}
FIGURES = tuple(dict.fromkeys(("dry_run_rc", "playbook_seconds", "promoted_seconds", "write_accepted_seconds", "sibling_follows_seconds",
           "rejoined_seconds", "old_primary_stopped_seconds", "old_primary_stopped_by_seconds", "standby_promoted_after_seconds",
           "fenced_before_promotion", "primary_after", "healed_by_itself_seconds", "write_outage_seconds",
           "writes_acked", "writes_lost", "max_primaries", *day2.FIGURES, "goals_met")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("drills", nargs="+", choices=list(DRILLS))
    ap.add_argument("--out", default=os.environ.get("PGHA_DRILL_RESULTS", "/tmp/pgha-drills") + "/repmgr_drills.json")
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if docker("network", "inspect", NETWORK).returncode != 0:
        sys.exit(f"drills: no docker network {NETWORK}: create the scenario first (molecule create -s repmgr)")
    results, passed = [], True
    for name in args.drills:
        log(f"== {name}")
        try:
            result, ok = DRILLS[name](out.parent)
        except Exception as e:  # a drill that breaks is a missed goal, the others still run
            result, ok = {"drill": name, "error": repr(e)}, False
        result["goals_met"] = ok
        passed &= ok
        results.append(result)
        log(json.dumps(result))
        out.write_text(json.dumps(results, indent=1) + "\n")
    for r in results:
        print(f"{name_of(r)}: " + ", ".join(f"{k}={r[k]}" for k in FIGURES if k in r))
    print(f"results: {out}")
    return 0 if passed else 1


def name_of(r):
    return {"switchover through playbooks/switchover.yml": "switchover", "primary container killed": "kill",
            "old primary started again": "return", "primary cut off the network": "partition"}.get(r["drill"], r["drill"])


if __name__ == "__main__":
    sys.exit(main())
