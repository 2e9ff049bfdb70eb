#!/usr/bin/env python3
"""pg_hba: 50 playbook tasks with ours vs community.postgresql.postgresql_pg_hba, and the
module body on a 10,000-line file (wall time and peak RSS). RUNS=5 by default."""

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from timing import peak_rss_kb, side_by_side, timed  # noqa: E402

TASKS = int(os.environ.get("TASKS", 50))
RUNS = int(os.environ.get("RUNS", 5))


def playbook(work, ours):
    tasks = []
    for i in range(1, TASKS + 1):
        net = f"10.0.{i % 250}.0/24"
        if ours:
            rule = {"type": "host", "databases": f"db{i}", "users": f"user{i}", "address": net, "method": "scram-sha-256"}
            tasks.append({"pgha.cluster.pg_hba": {"path": f"{work}/hba_ours.conf", "create": True, "rules": [rule]}})
        else:
            tasks.append({"community.postgresql.postgresql_pg_hba": {
                "dest": f"{work}/hba_community.conf", "create": True, "contype": "host", "databases": f"db{i}",
                "users": f"user{i}", "source": net, "method": "scram-sha-256"}})
    path = Path(work) / ("ours.yml" if ours else "community.yml")
    path.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]))
    return path


def main():
    work = tempfile.mkdtemp(prefix="pgha-bench-hba-")
    colls = Path(work) / "collections/ansible_collections/pgha"
    colls.mkdir(parents=True)
    (colls / "cluster").symlink_to(ROOT / "collection")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=f"{work}/collections", ANSIBLE_HOME=f"{work}/home", ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=str(ROOT / ".venv/bin/python"), PATH=f"{ROOT}/.venv/bin:{os.environ['PATH']}")
    ours, community = playbook(work, True), playbook(work, False)
    print(f"== {TASKS} pg_hba tasks, {RUNS} pairs in turns")
    side_by_side("pgha.cluster.pg_hba", ["ansible-playbook", "-i", "localhost,", str(ours)],
                 "community.postgresql.postgresql_pg_hba", ["ansible-playbook", "-i", "localhost,", str(community)], RUNS, env)

    big = Path(work) / "big.conf"
    with big.open("w") as f:
        f.write("# big pg_hba.conf\n")
        for i in range(10000):
            f.write(f"host    db{i}    user{i}    10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}/32    scram-sha-256\n")
    args = Path(work) / "args.json"
    args.write_text(json.dumps({"path": str(big), "_ansible_check_mode": True, "rules": [
        {"type": "host", "databases": "new", "users": "new", "address": "10.9.9.9/32", "method": "md5"}]}))
    cmd = [str(ROOT / "collection/plugins/modules/pg_hba"), str(args)]
    walls = [timed(cmd) for _ in range(20)]
    print(f"== pg_hba module body on a 10,000-line file (one rule added, check mode): wall median "
          f"{statistics.median(walls) * 1000:.1f} ms (min {min(walls) * 1000:.1f}), peak RSS {peak_rss_kb(cmd, None) / 1024:.1f} MB")


if __name__ == "__main__":
    main()
