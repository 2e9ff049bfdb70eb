#!/usr/bin/env python3
"""The platform check's cost per task (collection/plugins/plugin_utils/binary_module.py): a
TASKS-task playbook (default 10) with pgha.cluster.pg_hba against the same binary in a throwaway
collection pghatest.plain that has no action plugin (Ansible's plain `normal` action), RUNS
pairs in turns (default 5). Prints both medians, the ratio, and the overhead per task; the
goal is under 50 ms per task (it was an assertion in tests/integration/test_arch_check.py)."""

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from timing import in_turns  # noqa: E402

TASKS = int(os.environ.get("TASKS", 10))
RUNS = int(os.environ.get("RUNS", 5))
GOAL_MS = 50


def playbook(path, hba, fqcn):
    tasks = [{"name": f"rule {i}", fqcn: {"path": str(hba), "type": "host", "databases": f"db{i}", "users": "all",
                                         "address": "samenet", "method": "scram-sha-256"}} for i in range(TASKS)]
    path.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]))
    return path


def main():
    binary = ROOT / "collection/files/pgha"  # every module; a copy named pg_hba runs pg_hba
    if not binary.exists():
        sys.exit("module binary missing: run `make modules`")
    work = Path(tempfile.mkdtemp(prefix="pgha-bench-arch-"))
    ours_ns = work / "ours/ansible_collections/pgha"
    ours_ns.mkdir(parents=True)
    (ours_ns / "cluster").symlink_to(ROOT / "collection")
    plain = work / "plain/ansible_collections/pghatest/plain"
    (plain / "plugins/modules").mkdir(parents=True)
    (plain / "galaxy.yml").write_text("namespace: pghatest\nname: plain\nversion: 0.0.1\nauthors: [test]\nreadme: README.md\n")
    shutil.copy2(binary, plain / "plugins/modules/pg_hba")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=f"{work / 'ours'}:{work / 'plain'}", ANSIBLE_HOME=str(work / "home"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=str(ROOT / ".venv/bin/python"),
               PATH=f"{ROOT}/.venv/bin:{os.environ['PATH']}")
    # Each run starts from an empty file (a shell step, so both sides pay the same).
    hba_ours, hba_plain = work / "ours.conf", work / "plain.conf"
    pb_ours = playbook(work / "ours.json", hba_ours, "pgha.cluster.pg_hba")
    pb_plain = playbook(work / "plain.json", hba_plain, "pghatest.plain.pg_hba")

    def cmd(pb, hba):
        return ["sh", "-c", f': > "{hba}" && exec ansible-playbook -i localhost, "{pb}"']

    print(f"== {TASKS} pg_hba tasks: with the platform check (A) vs the plain action (B), {RUNS} pairs in turns")
    a, b = in_turns(cmd(pb_ours, hba_ours), cmd(pb_plain, hba_plain), RUNS, env)
    med = statistics.median
    ratios = [wa / wb for wa, wb in zip(a, b)]
    print(f"  A {'pgha.cluster.pg_hba (platform check)':<44} wall median {med(a) * 1000:9.1f} ms (min {min(a) * 1000:.1f}, max {max(a) * 1000:.1f})")
    print(f"  B {'pghatest.plain.pg_hba (no action plugin)':<44} wall median {med(b) * 1000:9.1f} ms (min {min(b) * 1000:.1f}, max {max(b) * 1000:.1f})")
    print(f"  ratio A/B: median {med(ratios):.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x, {RUNS} pairs in turns)")
    per_task = (med(a) - med(b)) / TASKS * 1000
    print(f"== platform check overhead: {per_task:.1f} ms per task (goal < {GOAL_MS} ms)")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if per_task < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
