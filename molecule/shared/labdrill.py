"""What the lab drill drivers (molecule/pgpool/drills.py, molecule/repmgr/drills.py) share:
Docker calls, waiting, the write client, a monitor that samples every node, and the reading of
its samples into a per-sample timeline and the order of fence and promotion.

The monitor asks every node at once, about every 0.2 s, through `docker exec` (which still
reaches a container cut off its network): its server's role and whether it accepts writes
(not in recovery and not read-only), and for Pgpool-II whether it holds the VIP. Each sample
keeps when its question was sent and when the answer came back, so an order between two
samples is only claimed when their intervals do not overlap.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PSQL = "/usr/lib/postgresql/15/bin/psql"
WRITE_PROBE = ROOT / "playbooks/files/pgha_write_probe.py"


def log(msg):
    print(f"[drill {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def docker(*args, timeout=30, check=False):
    p = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {p.stderr.strip()}")
    return p


def wait_for(what, predicate, timeout, step=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    log(f"timed out after {timeout} s waiting for {what}")
    return False


def wait_systemd(node, timeout=60):
    def up():
        p = docker("exec", node, "systemctl", "is-system-running", timeout=5)
        return p.stdout.strip() in ("running", "degraded")
    return wait_for(f"systemd on {node}", up, timeout, step=0.5)


def local_sql(node, sql, timeout=5):
    """Runs sql on the node's server through its socket; None when the container does not answer."""
    try:
        p = docker("exec", "-u", "postgres", node, PSQL, "-XAtq", "-h", "/var/run/postgresql", "-d", "postgres", "-c", sql,
                   timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode != 0 and "No such container" in p.stderr or "is not running" in p.stderr:
        return None
    return p.stdout.strip() if p.returncode == 0 else ""


def ansible_playbook(inventory, playbook, *extra, timeout=900):
    """ansible-playbook from the repository root with the collection in place; (rc, seconds, stdout)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "playbooks/collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra]
    t = time.monotonic()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = round(time.monotonic() - t, 1)
    if p.returncode != 0:
        log(f"{' '.join(cmd[3:])} failed (rc {p.returncode}):\n" + p.stdout[-5000:] + p.stderr[-2000:])
    return p.returncode, seconds, p.stdout


def node_state(node, vip=None):
    """{"role": primary | standby | down | unreachable, "rw": accepts writes, "vip": holds the VIP
    (None without one)} of one node, through docker exec."""
    sql = "select pg_is_in_recovery(), current_setting('transaction_read_only')"
    script = (f"timeout 3 runuser -u postgres -- {PSQL} -XAtq -F ' ' -h /var/run/postgresql -d postgres "
              f"-c \"{sql}\" 2>/dev/null; echo end")
    if vip:
        script = f"ip -o -4 addr show | grep -q ' {vip}/' && echo vip=yes || echo vip=no; " + script
    try:
        p = docker("exec", node, "sh", "-c", script, timeout=5)
    except subprocess.TimeoutExpired:
        return {"role": "unreachable", "rw": False, "vip": None}
    lines = p.stdout.split()
    if p.returncode != 0 or "end" not in lines:
        return {"role": "unreachable", "rw": False, "vip": None}
    out = p.stdout.strip().splitlines()
    answer = out[-2].split() if len(out) >= 2 else []
    role = {"f": "primary", "t": "standby"}.get(answer[0] if answer else "", "down")
    return {"role": role, "rw": role == "primary" and answer[1:] == ["off"], "vip": ("vip=yes" in p.stdout) if vip else None}


def roles(nodes, vip=None):
    """Every node's state, asked in parallel."""
    out = {}
    threads = [threading.Thread(target=lambda n=n: out.__setitem__(n, node_state(n, vip))) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


class Probe:
    """The write client (playbooks/files/pgha_write_probe.py) as a child process: `target` are its
    connection arguments (--host=VIP, or --hosts=a,b,c --port=5432)."""

    def __init__(self, name, workdir, target, password, duration=900, settle=0):
        self.stop_file = Path(workdir) / f"{name}.stop"
        self.out = Path(workdir) / f"{name}.json"
        self.stop_file.unlink(missing_ok=True)
        # The password in a passfile, which libpq reads at every connection: a drill that
        # rotates the password hands the client the new one as an application would.
        self.passfile = Path(workdir) / f"{name}.pgpass"
        self.set_password(password)
        env = dict(os.environ, PGPASSFILE=str(self.passfile))
        env.pop("PGPASSWORD", None)
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITE_PROBE), *target, f"--run={name}-{int(time.time())}", f"--stop-file={self.stop_file}",
             f"--out={self.out}", f"--duration={duration}"], env=env, stdout=subprocess.DEVNULL)
        if settle:
            time.sleep(settle)

    def set_password(self, password):
        tmp = self.passfile.with_suffix(".tmp")
        tmp.write_text("*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n")
        tmp.chmod(0o600)
        tmp.replace(self.passfile)

    def finish(self, timeout=180):
        self.stop_file.touch()
        self.proc.wait(timeout=timeout)
        return json.loads(self.out.read_text())


class Monitor(threading.Thread):
    """Samples every node about every `period` s until stopped. Each sample:
    {"round", "node", "sent", "got", "role", "rw", "vip"}, times in seconds since the monitor
    started; `mark(label)` records a moment (the fault) on the same clock."""

    def __init__(self, nodes, vip=None, period=0.2):
        super().__init__(daemon=True)
        self.nodes, self.vip, self.period = list(nodes), vip, period
        self.stop = threading.Event()
        self.samples = []
        self.marks = {}
        self.t0 = time.monotonic()
        self.lock = threading.Lock()

    def now(self):
        return round(time.monotonic() - self.t0, 3)

    def mark(self, label):
        self.marks[label] = self.now()
        return self.marks[label]

    def run(self):
        k = 0
        while not self.stop.is_set():
            got = {}

            def ask(n):
                sent = self.now()
                s = node_state(n, self.vip)
                got[n] = dict(s, round=k, node=n, sent=sent, got=self.now())
            threads = [threading.Thread(target=ask, args=(n,)) for n in self.nodes]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with self.lock:
                self.samples.extend(got[n] for n in self.nodes)
            k += 1
            time.sleep(self.period)

    def finish(self):
        self.stop.set()
        self.join(15)
        return self.figures()

    def figures(self):
        """At most how many primaries, VIP holders and write-accepting nodes any round saw."""
        by_round = {}
        for s in self.samples:
            by_round.setdefault(s["round"], []).append(s)
        two = [(r[0]["sent"], [s["node"] for s in r if s["role"] == "primary"]) for r in by_round.values()
               if sum(s["role"] == "primary" for s in r) > 1]
        vips = [(r[0]["sent"], [s["node"] for s in r if s["vip"]]) for r in by_round.values() if sum(bool(s["vip"]) for s in r) > 1]
        return {"samples": len(by_round),
                "max_primaries": max((sum(s["role"] == "primary" for s in r) for r in by_round.values()), default=0),
                "max_writable": max((sum(s["rw"] for s in r) for r in by_round.values()), default=0),
                "max_vip_holders": max((sum(bool(s["vip"]) for s in r) for r in by_round.values()), default=0) if self.vip else None,
                "two_primaries_at": two[:10], "two_vips_at": vips[:10]}


def fence_order(samples, victim, fault_at):
    """Whether the cut-off primary `victim` stopped accepting writes before any other node was
    promoted, read from the samples after `fault_at` (seconds on the monitor's clock):

    - stopped: the first sample of the victim that no longer accepts writes; the victim stopped
      before that sample's answer came back (`got`);
    - promoted: the first sample of another node as a primary; that node was promoted after the
      question of its last sample as a standby was sent (`sent`).

    The order is proven when stopped.got <= that standby sample's sent: the victim had stopped
    before the new primary was promoted. Times are returned relative to the fault."""
    after = [s for s in samples if s["sent"] >= fault_at]
    stopped = next((s for s in after if s["node"] == victim and not s["rw"]), None)
    promoted = next((s for s in after if s["node"] != victim and s["role"] == "primary"), None)
    out = {"stopped_by": None, "promoted_after": None, "promoted_seen_by": None, "new_primary": None,
           "fenced_first": False, "victim_writable_samples_after_promotion": 0}
    if stopped:
        out["stopped_by"] = round(stopped["got"] - fault_at, 3)
    if promoted:
        last_standby = [s for s in after if s["node"] == promoted["node"] and s["sent"] < promoted["sent"] and s["role"] != "primary"]
        out["new_primary"] = promoted["node"]
        out["promoted_seen_by"] = round(promoted["got"] - fault_at, 3)
        out["promoted_after"] = round((last_standby[-1]["sent"] if last_standby else fault_at) - fault_at, 3)
        out["victim_writable_samples_after_promotion"] = sum(
            1 for s in after if s["node"] == victim and s["rw"] and s["got"] >= promoted["sent"])
    if stopped and promoted:
        out["fenced_first"] = (out["stopped_by"] <= out["promoted_after"]
                               and out["victim_writable_samples_after_promotion"] == 0)
    elif stopped:
        out["fenced_first"] = True      # nobody was promoted: the order holds trivially
    return out


def timeline(samples, nodes, fault_at, until=None, vip=False):
    """Per round after the fault: its time (question sent, relative to the fault) and each node's
    state as `primary+rw`, `primary`, `standby`, `down` or `unreachable` (`+VIP` when it holds it)."""
    rows = {}
    for s in samples:
        t = s["sent"] - fault_at
        if t < -1.0 or (until is not None and t > until):
            continue
        state = s["role"] + ("+rw" if s["rw"] else "") + ("+VIP" if vip and s["vip"] else "")
        row = rows.setdefault(s["round"], {"t": round(t, 2)})
        row["t"] = min(row["t"], round(t, 2))
        row[s["node"]] = state
    return [rows[k] for k in sorted(rows)]


def timeline_table(rows, nodes, changes_only=True):
    """The timeline as a Markdown table; with changes_only, only the rounds where a node's state
    changed (and the first)."""
    out = ["| t (s) | " + " | ".join(nodes) + " |", "|---|" + "---|" * len(nodes)]
    last = None
    for r in rows:
        states = tuple(r.get(n, "?") for n in nodes)
        if changes_only and states == last:
            continue
        last = states
        out.append(f"| {r['t']:+.2f} | " + " | ".join(states) + " |")
    return "\n".join(out)


def journal(node, units, since_epoch=None, grep=None, timeout=30):
    """Lines of a node's journal for these units (short-precise timestamps)."""
    args = ["exec", node, "journalctl", "-o", "short-precise", "--no-pager"]
    for u in units:
        args += ["-u", u]
    if since_epoch:
        args += ["--since", "@" + str(int(since_epoch))]
    lines = docker(*args, timeout=timeout).stdout.splitlines()
    return [l for l in lines if grep is None or grep in l]
