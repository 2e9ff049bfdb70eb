#!/usr/bin/env python3
"""Side-by-side benchmark of the pgha database modules against community.postgresql.

1. A 50-task playbook (roles, databases, extensions, slots: 25 tasks create, 25 drop, so every
   run does the same real work and leaves the server as it found it) with pgha.cluster modules
   vs the same playbook with community.postgresql modules, against the same throwaway
   PostgreSQL server, run in turns (A B A B ...): wall-time medians and the ratio.
2. The module body alone: our pg_role binary run directly with an args file vs the Python
   module's AnsiballZ payload (kept with ANSIBLE_KEEP_REMOTE_FILES=1) run with python, both as
   the postgres user over the Unix socket (peer authentication, as with become_user: postgres),
   both doing the same check of one role with a password: wall-time medians and the ratio; then
   peak RSS of each, measured by GNU time (`/usr/bin/time -f %M`, which forks from a small
   process, so the figure is the module's own).

Run as root on a host with the PostgreSQL 15 server packages, after `make modules`:
    benchmarks/db_modules/run.sh            # RUNS=5 BODY_RUNS=30 by default
Only loopback addresses are used. The tool prints medians; quote those, not single runs.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import VENV_BIN, PgServer, free_port  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from timing import peak_rss_kb, side_by_side, timed  # noqa: E402,F401

ADMIN_PW = "Bench-Admin-Pw-1"
ROLES, DBS, EXTS, SLOTS = 7, 7, 5, 6          # 25 objects: created, then dropped
EXTENSIONS = ["citext", "hstore", "pg_trgm", "ltree", "isn"]


def playbook(kind, login):
    """The 50 tasks, for `ours` or `community`."""
    p = "o" if kind == "ours" else "c"
    tasks = []

    def task(ours, community):
        if kind == "ours":
            tasks.append({f"pgha.cluster.{ours[0]}": dict(login, **ours[1])})
        else:
            tasks.append({f"community.postgresql.{community[0]}": dict(login, **community[1])})

    for i in range(ROLES):
        task(("pg_role", {"name": f"{p}_role{i}", "password": f"pw-{i}"}),
             ("postgresql_user", {"name": f"{p}_role{i}", "password": f"pw-{i}"}))
    for i in range(DBS):
        task(("pg_database", {"name": f"{p}_db{i}", "owner": f"{p}_role{i % ROLES}"}),
             ("postgresql_db", {"name": f"{p}_db{i}", "owner": f"{p}_role{i % ROLES}"}))
    for i, ext in enumerate(EXTENSIONS[:EXTS]):
        task(("pg_extension", {"name": ext, "db": f"{p}_db{i}"}),
             ("postgresql_ext", {"name": ext, "db": f"{p}_db{i}"}))
    for i in range(SLOTS):
        task(("pg_slot", {"name": f"{p}_slot{i}"}), ("postgresql_slot", {"name": f"{p}_slot{i}"}))
    # And back: drop everything, in reverse order.
    for i in range(SLOTS):
        task(("pg_slot", {"name": f"{p}_slot{i}", "state": "absent"}),
             ("postgresql_slot", {"name": f"{p}_slot{i}", "state": "absent"}))
    for i, ext in enumerate(EXTENSIONS[:EXTS]):
        task(("pg_extension", {"name": ext, "db": f"{p}_db{i}", "state": "absent"}),
             ("postgresql_ext", {"name": ext, "db": f"{p}_db{i}", "state": "absent"}))
    for i in range(DBS):
        task(("pg_database", {"name": f"{p}_db{i}", "state": "absent"}),
             ("postgresql_db", {"name": f"{p}_db{i}", "state": "absent"}))
    for i in range(ROLES):
        task(("pg_role", {"name": f"{p}_role{i}", "state": "absent"}),
             ("postgresql_user", {"name": f"{p}_role{i}", "state": "absent"}))
    assert len(tasks) == 50
    return [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]


def main():
    runs = int(os.environ.get("RUNS", "5"))
    if os.environ.get("BODY_ONLY"):
        runs = 0
    body_runs = int(os.environ.get("BODY_RUNS", "30"))
    work = Path(tempfile.mkdtemp(prefix="pgha-bench-db-"))
    os.chmod(work, 0o755)
    srv = PgServer(work / "pg", free_port()).init().start()
    try:
        srv.psql(f"alter role postgres password '{ADMIN_PW}'")
        login = {"login_host": "127.0.0.1", "login_port": srv.port, "login_user": "postgres", "login_password": ADMIN_PW}
        coll = work / "collections" / "ansible_collections" / "pgha"
        coll.mkdir(parents=True)
        (coll / "cluster").symlink_to(ROOT / "collection")
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_HOME=str(work / "home"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"),
                   ANSIBLE_DEPRECATION_WARNINGS="False", PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
        for kind in ("ours", "community"):
            (work / f"{kind}.yml").write_text(json.dumps(playbook(kind, login), indent=1))
        play = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,"]
        if runs:
            print(f"== 50-task playbook (25 create + 25 drop: roles, databases, extensions, slots), {runs} pairs in turns")
            side_by_side("pgha.cluster (static binaries)", play + [str(work / "ours.yml")],
                         "community.postgresql (Python)", play + [str(work / "community.yml")], runs, env)

        # The module body alone, as postgres over the socket. The payload is made by a run as
        # root (which fails to log in by peer, but the payload with its arguments is kept).
        keep = dict(env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(work / "remote-tmp"))
        args = {"login_host": str(srv.sockdir), "login_port": srv.port, "name": "bench_body", "password": "Body-Pw-1"}
        srv.psql("create role bench_body login")
        subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", "community.postgresql.postgresql_user",
                        "-a", json.dumps(args)], env=keep, capture_output=True)
        payload = next((work / "remote-tmp").rglob("AnsiballZ_postgresql_user.py"))
        shutil.copy(payload, work / "AnsiballZ_postgresql_user.py")
        (work / "AnsiballZ_postgresql_user.py").chmod(0o644)
        (work / "args.json").write_text(json.dumps(args))
        (work / "args.json").chmod(0o644)
        ours = [str(ROOT / "collection/files/pgha"), "pg_role", str(work / "args.json")]
        # The venv's interpreter may live where postgres cannot run it (a pyenv build under
        # /root): the system python3 of the same minor version runs the payload, with the
        # venv's site-packages (psycopg2) on its path.
        site = next((ROOT / ".venv" / "lib").glob("python3*/site-packages"))
        theirs = ["/usr/bin/python3", str(work / "AnsiballZ_postgresql_user.py")]
        clean = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/var/lib/postgresql", "PYTHONPATH": str(site)}
        timed(ours, clean, "postgres")  # sets the password once
        print(f"== module body alone, as postgres over the Unix socket (role exists, same password: a check), {body_runs} pairs")
        side_by_side("pg_role binary + args file", ours, "postgresql_user AnsiballZ payload (python)", theirs, body_runs, clean, "postgres")
        print(f"  peak RSS (GNU time, median of 5): A {peak_rss_kb(ours, clean, 'postgres') / 1024:.1f} MB, "
              f"B {peak_rss_kb(theirs, clean, 'postgres') / 1024:.1f} MB")
    finally:
        srv.destroy()
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
