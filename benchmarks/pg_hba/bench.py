#!/usr/bin/env python3
"""pg_hba, side by side in turns (medians):

1. a TASKS-task playbook (default 50) adding one rule a task, run by
   A  pgha.cluster.pg_hba (the action plugin's fast path: the binary cached on the host, one
      command a task, arguments on standard input),
   F  the floor of Ansible's binary-module path: a trivial static binary module that only
      appends a line to a file (built here with rustc, ~0.4-1 MB), run by Ansible's standard
      path (temp dir, copy, args file, run, clean up),
   S  pgha.cluster.pg_hba through Ansible's standard path (pgha_cluster_fast_path=false),
   C  community.postgresql.postgresql_pg_hba (when the venv has it);
   the goals: A <= 0.6x F and C/A >= 10x;
2. the module body on a 10,000-line file (wall time and peak RSS; goal <= 30 ms, <= 5 MB).

RUNS=5 by default; QUICK=1 runs one pair of everything with TASKS=5 (to check the script, not
to measure). The module cache of the run is a fresh directory (pgha_cluster_module_cache), so
the first run of A pays the one install; the warm-up run takes it.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from timing import in_turns, peak_rss_kb, timed  # noqa: E402

QUICK = bool(os.environ.get("QUICK"))
TASKS = int(os.environ.get("TASKS", 5 if QUICK else 50))
RUNS = int(os.environ.get("RUNS", 1 if QUICK else 5))
BINARY = ROOT / "collection/files/pgha"

# The floor: a binary module that reads its args file and appends `line` to `path`.
FLOOR_RS = r"""
use std::io::Write;
fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let k = format!("\"{key}\": \"");
    let start = json.find(&k).map(|i| i + k.len()).unwrap_or(0);
    let end = json[start..].find('"').map(|i| start + i).unwrap_or(start);
    &json[start..end]
}
fn main() {
    let args = std::fs::read_to_string(std::env::args().nth(1).unwrap_or_default()).unwrap_or_default();
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(field(&args, "path")).unwrap();
    writeln!(f, "{}", field(&args, "line")).unwrap();
    println!("{{\"changed\": true}}");
}
"""


def floor_collection(work):
    """A collection bench.floor whose module append_line is the floor binary."""
    coll = work / "collections/ansible_collections/bench/floor"
    (coll / "plugins/modules").mkdir(parents=True)
    (coll / "galaxy.yml").write_text("namespace: bench\nname: floor\nversion: 0.0.1\nauthors: [bench]\nreadme: README.md\n")
    src = work / "floor.rs"
    src.write_text(FLOOR_RS)
    r = subprocess.run(["nice", "-n", "19", "rustc", "-C", "opt-level=z", "-C", "panic=abort", "-C", "strip=symbols",
                        "-C", "target-feature=+crt-static", "-o", str(coll / "plugins/modules/append_line"), str(src)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"cannot build the floor module with rustc: {r.stderr}")
    return coll / "plugins/modules/append_line"


def has_community_postgresql(env):
    r = subprocess.run(["ansible-doc", "-l", "community.postgresql"], env=env, capture_output=True, text=True)
    return r.returncode == 0 and "postgresql_pg_hba" in r.stdout


def play(work, name, tasks, extra_vars=None):
    path = Path(work) / f"{name}.yml"
    doc = {"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}
    if extra_vars:
        doc["vars"] = extra_vars
    path.write_text(json.dumps([doc]))
    return path


def rules(path):
    return [{"pgha.cluster.pg_hba": {"path": path, "create": True, "rules": [{
        "type": "host", "databases": f"db{i}", "users": f"user{i}", "address": f"10.0.{i % 250}.0/24",
        "method": "scram-sha-256"}]}} for i in range(1, TASKS + 1)]


def main():
    if not BINARY.exists():
        sys.exit("module binary missing: run `make modules`")
    work = Path(tempfile.mkdtemp(prefix="pgha-bench-hba-"))
    cache = Path(tempfile.mkdtemp(prefix="pgha-bench-cache-", dir="/var/tmp"))
    cache.chmod(0o755)
    try:
        colls = work / "collections/ansible_collections/pgha"
        colls.mkdir(parents=True)
        (colls / "cluster").symlink_to(ROOT / "collection")
        floor = floor_collection(work)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=f"{work}/collections", ANSIBLE_HOME=f"{work}/home",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=str(ROOT / ".venv/bin/python"),
                   PATH=f"{ROOT}/.venv/bin:{os.environ['PATH']}")
        cache_var = {"pgha_cluster_module_cache": str(cache / "modules")}
        plays = {
            "A pgha.cluster.pg_hba (fast path)": play(work, "ours", rules(f"{work}/hba_ours.conf"), cache_var),
            "F floor: trivial static binary module": play(work, "floor", [
                {"bench.floor.append_line": {"path": f"{work}/floor.conf", "line": f"host db{i} user{i} 10.0.0.0/24 md5"}}
                for i in range(1, TASKS + 1)]),
            "S pgha.cluster.pg_hba (standard path)": play(work, "standard", rules(f"{work}/hba_std.conf"),
                                                           dict(cache_var, pgha_cluster_fast_path=False)),
        }
        if has_community_postgresql(env):
            plays["C community.postgresql.postgresql_pg_hba"] = play(work, "community", [
                {"community.postgresql.postgresql_pg_hba": {
                    "dest": f"{work}/hba_community.conf", "create": True, "contype": "host", "databases": f"db{i}",
                    "users": f"user{i}", "source": f"10.0.{i % 250}.0/24", "method": "scram-sha-256"}}
                for i in range(1, TASKS + 1)])
        print(f"== {TASKS}-task playbooks, {RUNS} rounds in turns (floor binary {floor.stat().st_size / 1e6:.2f} MB, "
              f"pgha {BINARY.stat().st_size / 1e6:.2f} MB)")
        cmds = {name: ["ansible-playbook", "-i", "localhost,", str(path)] for name, path in plays.items()}
        for cmd in cmds.values():
            timed(cmd, env)  # warm-up (and A's one install into the cache)
        walls = {name: [] for name in cmds}
        for _ in range(RUNS):
            for name, cmd in cmds.items():
                walls[name].append(timed(cmd, env))
        med = statistics.median
        a = med(walls["A pgha.cluster.pg_hba (fast path)"])
        for name, w in walls.items():
            print(f"  {name:<44} wall median {med(w) * 1000:9.1f} ms ({med(w) / TASKS * 1000:6.1f} ms a task; "
                  f"min {min(w) * 1000:.1f}, max {max(w) * 1000:.1f}); / A {med(w) / a:.2f}x")
        f = med(walls["F floor: trivial static binary module"])
        print(f"  goal A <= 0.6x F: A/F = {a / f:.2f}")
        c = walls.get("C community.postgresql.postgresql_pg_hba")
        if c:
            print(f"  goal C/A >= 10x: C/A = {med(c) / a:.1f}x")

        big = work / "big.conf"
        with big.open("w") as fh:
            fh.write("# big pg_hba.conf\n")
            for i in range(10000):
                fh.write(f"host    db{i}    user{i}    10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}/32    scram-sha-256\n")
        args = work / "args.json"
        args.write_text(json.dumps({"path": str(big), "_ansible_check_mode": True, "rules": [
            {"type": "host", "databases": "new", "users": "new", "address": "10.9.9.9/32", "method": "md5"}]}))
        cmd = [str(BINARY), "pg_hba", str(args)]
        body = [timed(cmd) for _ in range(3 if QUICK else 20)]
        print(f"== pg_hba module body on a 10,000-line file (one rule added, check mode): wall median "
              f"{med(body) * 1000:.1f} ms (min {min(body) * 1000:.1f}), peak RSS {peak_rss_kb(cmd, None) / 1024:.1f} MB "
              "(goals: <= 30 ms, <= 5 MB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
