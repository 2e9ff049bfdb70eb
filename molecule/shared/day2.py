"""Day-2 drills shared by both scenarios (issue 13): an operation run under the write client,
counted as a DBA would count it.

For each operation: the playbook's exit status; the write client's failed attempts, longest
outage and acknowledged writes lost; how often the primary moved (from the monitor's samples:
a planned switchover moves it once, anything more is an unplanned failover); every node up and
streaming afterwards; and `site.yml` run again changes nothing.

    restart-setting   site.yml with a restart-required setting raised (max_connections), on the
                      running cluster: standbys restarted one at a time, the primary by a
                      switchover; then lowered back, which must be refused before anything is
                      written, with no failed write
    rolling-restart   playbooks/rolling_restart.yml (every node, same order)
"""

import re
import time
from pathlib import Path

from labdrill import ansible_playbook, docker, local_sql, log, wait_for

UPGRADE_REPO = Path(__file__).resolve().parent / "upgrade_repo.sh"

SETTING = "max_connections"
PLANNED_MOVES = 1          # one switchover per operation
MOVE_OUTAGE_GOAL = 5.0     # seconds without a write, for an operation that moves the primary


class Lab:
    """What a scenario's drills.py hands over: its nodes, inventory, write client, monitor, and
    a reader of each node's role and streaming state."""

    def __init__(self, nodes, inventory, probe, monitor, roles, streaming, setting_now, starts=None, passwords=None):
        self.nodes, self.inventory = nodes, inventory
        self.probe, self.monitor, self.roles, self.streaming = probe, monitor, roles, streaming
        self.setting_now = setting_now
        # {node: when its HA manager's service (Pgpool-II) last started}: which ones restarted
        self.starts = starts or (lambda: {})
        # {inventory variable: password} the drill's own clients log in with; the scenario's
        # drills.py reads it, so a rotation drill updates it (and the write client's passfile)
        self.passwords = passwords if passwords is not None else {}

    def playbook(self, playbook, *extra, timeout=1200):
        return ansible_playbook(self.inventory, playbook, *extra, timeout=timeout)


def changed_total(stdout):
    return sum(int(n) for n in re.findall(r"changed=(\d+)", stdout))


def primary_moves(samples, nodes):
    """How many times the node answering as the primary changed, from the monitor's samples
    (rounds with no primary, or a node down, do not count as a move by themselves)."""
    by_round = {}
    for s in samples:
        by_round.setdefault(s["round"], []).append(s)
    moves, last = 0, None
    for k in sorted(by_round):
        primaries = [s["node"] for s in by_round[k] if s["role"] == "primary"]
        if len(primaries) == 1:
            if last is not None and primaries[0] != last:
                moves += 1
            last = primaries[0]
    return moves


def vip_moves(samples):
    """How many times the VIP went to another node, from the monitor's samples."""
    by_round = {}
    for s in samples:
        by_round.setdefault(s["round"], []).append(s)
    moves, last = 0, None
    for k in sorted(by_round):
        holders = [s["node"] for s in by_round[k] if s.get("vip")]
        if len(holders) == 1:
            if last is not None and holders[0] != last:
                moves += 1
            last = holders[0]
    return moves


def operation(lab, workdir, name, playbook, extra, moves_primary=True, outage_goal=None, max_vip_moves=None, on_done=None):
    """Runs one day-2 operation under the write client and the monitor; returns its figures.
    The write outage goal is MOVE_OUTAGE_GOAL when the operation moves the primary, else no
    failed write at all (unless `outage_goal` says otherwise)."""
    before = lab.roles()
    starts_before = lab.starts()
    probe, mon = lab.probe(name, workdir), lab.monitor()
    log(f"{name}: {playbook} {' '.join(extra)}")
    rc, seconds, out = lab.playbook(playbook, *extra)
    if on_done:
        on_done(probe)
    whole = wait_for("every node up and every standby streaming", lambda: lab.streaming(), 120, step=1)
    time.sleep(2)
    writes = probe.finish()
    seen = mon.finish()
    moves = primary_moves(mon.samples, lab.nodes)
    failed = writes["attempts"] - writes["acked"]
    starts_after = lab.starts()
    restarted = sorted(n for n in starts_after if starts_after[n] != starts_before.get(n))
    again_rc, again_seconds, again_out = lab.playbook("playbooks/site.yml", *extra)
    result = {
        "drill": name, "playbook": playbook, "rc": rc, "playbook_seconds": seconds,
        "roles_before": before, "roles_after": lab.roles(), "whole_after": whole,
        "writes_attempted": writes["attempts"], "writes_acked": writes["acked"], "writes_failed": failed,
        "write_outage_seconds": writes["max_outage"], "writes_lost": writes["lost"],
        "primary_moves": moves, "unplanned_failovers": max(0, moves - (PLANNED_MOVES if moves_primary else 0)),
        "vip_moves": vip_moves(mon.samples), "manager_restarted": restarted,
        "outages": writes.get("outages", [])[:10], "errors": writes.get("errors", {}),
        "site_again_rc": again_rc, "site_again_changed": changed_total(again_out), "site_again_seconds": again_seconds,
        **seen,
    }
    if outage_goal is None:
        outage_goal = MOVE_OUTAGE_GOAL if moves_primary else 0.0
    outage_ok = (writes["max_outage"] is not None and writes["max_outage"] <= outage_goal) if outage_goal else failed == 0
    goals = [rc == 0, whole, writes["lost"] == 0, result["unplanned_failovers"] == 0, outage_ok,
             max_vip_moves is None or result["vip_moves"] <= max_vip_moves,
             seen["max_primaries"] <= 1, again_rc == 0, result["site_again_changed"] == 0]
    return result, all(goals)


def restart_setting(lab, workdir):
    """site.yml raising a restart-required setting (max_connections), then the same setting
    lowered back, which the postgresql role refuses before writing anything (a standby does not
    start below its primary's value, so lowering needs the primary restarted first)."""
    now = lab.setting_now()
    new = int(now) + 10
    raised, ok1 = operation(lab, workdir, "restart-setting", "playbooks/site.yml",
                            ["-e", f'{{"postgresql_settings_extra": {{"{SETTING}": {new}}}}}'])
    raised["setting"] = f"{SETTING} {now} -> {new}"
    raised["setting_after"] = lab.setting_now()
    ok1 = ok1 and raised["setting_after"] == str(new)
    probe = lab.probe("lower-refused", workdir)
    rc, seconds, out = lab.playbook("playbooks/site.yml", "-e", f'{{"postgresql_settings_extra": {{"{SETTING}": {now}}}}}')
    writes = probe.finish()
    refused = {"drill": "lower-refused", "rc": rc, "playbook_seconds": seconds, "refused": "Not lowering" in out,
               "writes_failed": writes["attempts"] - writes["acked"], "writes_lost": writes["lost"],
               "setting_after": lab.setting_now(), "whole_after": lab.streaming()}
    ok2 = (rc != 0 and refused["refused"] and refused["writes_failed"] == 0 and writes["lost"] == 0
           and refused["setting_after"] == str(new) and refused["whole_after"])
    return {"drill": "restart-setting", "steps": [raised, refused], **{k: raised[k] for k in FIGURES if k in raised},
            "lower_refused": {k: refused[k] for k in ("rc", "refused", "writes_failed", "setting_after", "whole_after")}}, ok1 and ok2


def rolling_restart(lab, workdir):
    return operation(lab, workdir, "rolling-restart", "playbooks/rolling_restart.yml", [])


def rotate(lab, workdir, var):
    """site.yml with one password (or Pgpool-II's key) changed, under the write client; then back
    to the inventory's value, measured the same way. The write client is handed the new password
    when the play is done (its passfile), as an application would be; until then it keeps its
    session. Goals: no failed write, no failover, nothing restarted, except where Pgpool-II runs
    for a new key or a new password of its own user (it reads both only at start): then
    Pgpool-II restarts one node at a time, the VIP moves once, and the outage is that of the
    VIP's move."""
    old = lab.passwords[var]
    new = f"{old}-rotated-{int(time.time()) % 100000}"
    key = var in ("pgha_pgpool_key", "pgha_pgpool_password") and bool(lab.starts())
    short = var.removeprefix("pgha_").removesuffix("_password")

    def handing(value):
        def hand(probe):
            lab.passwords[var] = value
            if var == "pgha_postgres_password":
                probe.set_password(value)
        return hand

    steps, ok = [], True
    for label, extra, value in ((f"rotate-{short}", ["-e", f"{var}={new}"], new), (f"rotate-{short}-back", [], old)):
        result, good = operation(lab, workdir, label, "playbooks/site.yml", extra, moves_primary=False,
                                 outage_goal=MOVE_OUTAGE_GOAL if key else None, max_vip_moves=1 if key else 0,
                                 on_done=handing(value))
        result["restarted_as_expected"] = result["manager_restarted"] == (sorted(lab.nodes) if key else [])
        steps.append(result)
        ok = ok and good and result["restarted_as_expected"]
    return {"drill": f"rotate-{short}", "steps": steps, **{k: [s.get(k) for s in steps] for k in FIGURES + ("vip_moves", "manager_restarted")}}, ok


def postmaster_starts(lab):
    return {n: local_sql(n, "select pg_postmaster_start_time()", timeout=10) for n in lab.nodes}


def installed(node, packages):
    p = docker("exec", node, "dpkg-query", "-W", "-f=${Package}=${Version}\\n", *packages, timeout=30)
    return sorted(p.stdout.split())


def upgrade(lab, workdir, packages):
    """playbooks/upgrade.yml twice under the write client. First with nothing newer to install:
    nothing may change or restart. Then with every node's `packages` rebuilt under the next
    version in a local repository (upgrade_repo.sh; the lab reaches no archive): the packages are
    upgraded, every server restarts once in the rolling order (the primary by one switchover)."""
    steps, ok = [], True
    pg_before = postmaster_starts(lab)
    none, good = operation(lab, workdir, "upgrade-nothing-newer", "playbooks/upgrade.yml", [], moves_primary=False, max_vip_moves=0)
    none["postgres_restarted"] = sorted(n for n, t in postmaster_starts(lab).items() if t != pg_before[n])
    good = good and none["postgres_restarted"] == [] and none["manager_restarted"] == []
    steps.append(none)
    ok = ok and good
    for node in lab.nodes:
        docker("cp", str(UPGRADE_REPO), f"{node}:/root/upgrade_repo.sh", timeout=30)
        p = docker("exec", node, "/root/upgrade_repo.sh", *packages, timeout=600)
        if p.returncode != 0:
            log(f"upgrade_repo.sh on {node} failed: {p.stderr[-2000:]}")
            return {"drill": "upgrade", "steps": steps, "error": p.stderr[-500:]}, False
    before = {n: installed(n, packages) for n in lab.nodes}
    pg_before = postmaster_starts(lab)
    done, good = operation(lab, workdir, "upgrade", "playbooks/upgrade.yml", [], moves_primary=True,
                           max_vip_moves=1 if lab.starts() else None)
    done["packages_before"] = before[lab.nodes[0]]
    done["packages_after"] = installed(lab.nodes[0], packages)
    done["postgres_restarted"] = sorted(n for n, t in postmaster_starts(lab).items() if t != pg_before[n])
    upgraded = all(installed(n, packages) != before[n] for n in lab.nodes)
    good = good and upgraded and done["postgres_restarted"] == sorted(lab.nodes)
    good = good and (not lab.starts() or done["manager_restarted"] == sorted(lab.nodes))
    steps.append(done)
    ok = ok and good
    for node in lab.nodes:
        docker("exec", node, "/root/upgrade_repo.sh", "--remove", timeout=60)
    return {"drill": "upgrade", "steps": steps, **{k: [st.get(k) for st in steps]
            for k in FIGURES + ("vip_moves", "manager_restarted", "postgres_restarted")}}, ok


FIGURES = ("rc", "playbook_seconds", "writes_failed", "write_outage_seconds", "writes_lost", "primary_moves",
           "unplanned_failovers", "max_primaries", "whole_after", "site_again_changed")
