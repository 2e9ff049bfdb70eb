#!/usr/bin/env python3
"""A write client for failover drills: inserts numbered rows through Pgpool-II's VIP, one
autocommit INSERT at a time, and counts what the cluster acknowledged and what it lost.

    pgha_write_probe.py --host 10.0.0.180 --port 9999 --user postgres --run drill-1 \\
        --stop-file /tmp/stop --out /tmp/drill-1.json      # password in $PGPASSWORD

Without a VIP (repmgr), --hosts lists every node instead of --host: each connection goes to
whichever of them accepts writes (tried one by one, the last good one first, each with
target_session_attrs=read-write), so the client follows the primary after a failover:

    pgha_write_probe.py --hosts 10.0.1.181,10.0.1.182,10.0.1.183 --port 5432 --run drill-2 ...

It runs until --stop-file appears (or --duration seconds pass), then reconnects, reads back
the rows of its run and writes a JSON summary:

    acked        INSERTs whose COMMIT came back (with synchronous_commit on and
                 synchronous_standby_names set: on the primary and on a standby)
    lost         acked rows missing after the drill (their ids in lost_ids)
    outages      each stretch without a successful write: from the last acknowledged write
                 before a failure to the first one after it, in seconds
    max_outage   the longest of them

Every statement has a deadline (--timeout): a hung server or a cut-off network counts as a
failure at once instead of blocking the client. Needs psycopg2 (the controller's venv).
"""

import argparse
import json
import os
import select
import sys
import time

import psycopg2
import psycopg2.extensions as ext


class Deadline(Exception):
    pass


def wait(conn, timeout):
    """Drives an async connection until its command completes or the deadline passes."""
    end = time.monotonic() + timeout
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        left = end - time.monotonic()
        if left <= 0:
            raise Deadline(f"no answer within {timeout} s")
        if state == ext.POLL_READ:
            select.select([conn.fileno()], [], [], left)
        elif state == ext.POLL_WRITE:
            select.select([], [conn.fileno()], [], left)


def connect_one(args, host, **extra):
    conn = psycopg2.connect(host=host, port=args.port, user=args.user, dbname=args.dbname,
                            connect_timeout=max(1, int(args.timeout)), application_name="pgha_write_probe",
                            async_=1, **extra)
    try:
        wait(conn, args.timeout)
    except BaseException:
        close(conn)
        raise
    return conn


LAST_GOOD = {}


def connect(args):
    if not args.hosts:
        return connect_one(args, args.host)
    # One host at a time, the last one that took writes first: libpq enforces connect_timeout
    # only for blocking connections, so with a multi-host conninfo an async connection would
    # stay on a vanished first host until our own deadline.
    hosts = args.hosts.split(",")
    if LAST_GOOD.get("host") in hosts:
        hosts.remove(LAST_GOOD["host"])
        hosts.insert(0, LAST_GOOD["host"])
    error = None
    for host in hosts:
        try:
            conn = connect_one(args, host, target_session_attrs="read-write")
            LAST_GOOD["host"] = host
            return conn
        except (psycopg2.Error, Deadline, OSError) as e:
            error = e
    raise error


def execute(conn, sql, params, timeout):
    cur = conn.cursor()
    cur.execute(sql, params)
    wait(conn, timeout)
    return cur


def close(conn):
    if conn is not None:
        try:
            conn.close()
        except psycopg2.Error:
            pass


def read_back(args, deadline):
    """The ids of this run present in the table, read through the VIP once it answers."""
    last = None
    while time.monotonic() < deadline:
        conn = None
        try:
            conn = connect(args)
            cur = execute(conn, "SELECT id FROM pgha_drill WHERE run = %s", (args.run,), args.timeout * 5)
            return {row[0] for row in cur.fetchall()}, None
        except (psycopg2.Error, Deadline, OSError) as e:
            last = str(e).strip()
            time.sleep(0.5)
        finally:
            close(conn)
    return None, last


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = ap.add_mutually_exclusive_group(required=True)
    target.add_argument("--host", help="the one address to write to (Pgpool-II's VIP)")
    target.add_argument("--hosts", help="comma-separated nodes; writes go to the one that accepts them")
    ap.add_argument("--port", type=int, default=9999)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--run", required=True, help="label of this run's rows")
    ap.add_argument("--out", required=True, help="JSON summary")
    ap.add_argument("--stop-file", help="stop when this file exists")
    ap.add_argument("--duration", type=float, default=600, help="stop after this many seconds at most")
    ap.add_argument("--interval", type=float, default=0.05, help="pause between writes")
    ap.add_argument("--timeout", type=float, default=2.0, help="deadline of one connect or INSERT")
    args = ap.parse_args()

    conn = None
    setup_deadline = time.monotonic() + 60
    while True:
        try:
            conn = connect(args)
            execute(conn, "CREATE TABLE IF NOT EXISTS pgha_drill (run text NOT NULL, id bigint NOT NULL,"
                          " at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run, id))", None, 10)
            break
        except (psycopg2.Error, Deadline, OSError) as e:
            close(conn)
            conn = None
            if time.monotonic() > setup_deadline:
                sys.exit(f"pgha_write_probe: cannot reach {args.hosts or args.host}:{args.port}: {e}")
            time.sleep(1)

    started = time.monotonic()
    start_wall = time.time()
    acked, attempts, errors = [], 0, {}
    outages, last_ok, down_since = [], time.monotonic(), None
    n = 0
    while time.monotonic() - started < args.duration:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        n += 1
        attempts += 1
        try:
            if conn is None:
                conn = connect(args)
            execute(conn, "INSERT INTO pgha_drill (run, id) VALUES (%s, %s)", (args.run, n), args.timeout)
            now = time.monotonic()
            acked.append(n)
            if down_since is not None:
                outages.append({"after_s": round(last_ok - started, 3), "seconds": round(now - last_ok, 3),
                                "failed_attempts": down_since})
                down_since = None
            last_ok = now
        except (psycopg2.Error, Deadline, OSError) as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            errors[msg] = errors.get(msg, 0) + 1
            down_since = (down_since or 0) + 1
            close(conn)
            conn = None
        time.sleep(args.interval)
    close(conn)
    if down_since is not None:
        outages.append({"after_s": round(last_ok - started, 3), "seconds": None, "failed_attempts": down_since})

    present, read_error = read_back(args, time.monotonic() + 60)
    lost = sorted(set(acked) - present) if present is not None else None
    summary = {
        "run": args.run,
        "started": start_wall,
        "seconds": round(time.monotonic() - started, 3),
        "attempts": attempts,
        "acked": len(acked),
        "lost": len(lost) if lost is not None else None,
        "lost_ids": (lost or [])[:50],
        "read_back_error": read_error,
        "outages": outages,
        # null while an outage never ended: writes did not come back before the stop.
        "max_outage": None if any(o["seconds"] is None for o in outages)
        else max((o["seconds"] for o in outages), default=0.0),
        "errors": errors,
    }
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: summary[k] for k in ("run", "attempts", "acked", "lost", "max_outage")}))


if __name__ == "__main__":
    main()
