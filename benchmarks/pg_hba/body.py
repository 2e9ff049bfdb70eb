#!/usr/bin/env python3
"""The pg_hba module body alone (part 2 of bench.py), for one or more builds side by side:
the 10,000-line pg_hba.conf of bench.py, one rule added, check mode; runs in turns (A B A B
...), wall time of every run and peak RSS of a second run under GNU time, medians.

    body.py [BINARY ...]      default: collection/files/pgha
    RUNS=20 (default)         MODE=check|diff|write|unchanged (default check)

MODE=diff adds _ansible_diff, MODE=write leaves check mode (on a fresh copy of the file each
run), MODE=unchanged asks for a rule the file already has. Also prints the startup floor:
`pgha --list` (no module run at all) and the module on a one-line file.
"""

import json
import os
import shutil
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("RUNS", 20))
MODE = os.environ.get("MODE", "check")


def timed(cmd):
    """Wall seconds, CPU seconds (user + system, from wait4) and stdout of one run; exits on
    failure. On a loaded machine the CPU time is the steadier figure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0 or b'"failed":true' in out or b'"failed": true' in out:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{out.decode()}")
    return wall, ru.ru_utime + ru.ru_stime, out


def peak_rss_kb(cmd):
    """Peak RSS of one run as GNU time reports it. (Not getrusage of a child forked from
    Python: Linux keeps the largest RSS across execve, so such a child starts at Python's own
    RSS; GNU time's own, ~1-2 MB, is below any run measured here.)"""
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(r.stderr.strip().splitlines()[-1])


def big_file(path):
    with path.open("w") as fh:
        fh.write("# big pg_hba.conf\n")
        for i in range(10000):
            fh.write(f"host    db{i}    user{i}    10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}/32    scram-sha-256\n")


def main():
    binaries = [Path(b).resolve() for b in sys.argv[1:]] or [ROOT / "collection/files/pgha"]
    work = Path(tempfile.mkdtemp(prefix="pgha-body-"))
    try:
        big = work / "big.conf"
        big_file(big)
        target = work / "target.conf"
        rule = {"type": "host", "databases": "new", "users": "new", "address": "10.9.9.9/32", "method": "md5"}
        if MODE == "unchanged":
            rule = {"type": "host", "databases": "db5000", "users": "user5000", "address": "10.0.19.136/32",
                    "method": "scram-sha-256"}
        args = {"path": str(target if MODE == "write" else big), "_ansible_check_mode": MODE != "write",
                "rules": [rule]}
        if MODE == "diff":
            args["_ansible_diff"] = True
        args_file = work / "args.json"
        args_file.write_text(json.dumps(args))
        tiny = work / "tiny.conf"
        tiny.write_text("local all all peer\n")
        tiny_args = work / "tiny.json"
        tiny_args.write_text(json.dumps({"path": str(tiny), "_ansible_check_mode": True, "rules": [rule]}))

        results = {b: {"cpu": [], "wall": [], "rss": [], "list_rss": [], "tiny_rss": [], "tiny_wall": []} for b in binaries}
        outputs = {}
        for b in binaries:  # warm-up (page cache)
            shutil.copyfile(big, target)
            timed([str(b), "pg_hba", str(args_file)])
        for _ in range(RUNS):
            for b in binaries:
                if MODE == "write":
                    shutil.copyfile(big, target)
                wall, cpu, out = timed([str(b), "pg_hba", str(args_file)])
                results[b]["wall"].append(wall)
                results[b]["cpu"].append(cpu)
                outputs[b] = out
                if MODE == "write":
                    shutil.copyfile(big, target)
                results[b]["rss"].append(peak_rss_kb([str(b), "pg_hba", str(args_file)]))
                results[b]["list_rss"].append(peak_rss_kb([str(b), "--list"]))
                results[b]["tiny_wall"].append(timed([str(b), "pg_hba", str(tiny_args)])[0])
                results[b]["tiny_rss"].append(peak_rss_kb([str(b), "pg_hba", str(tiny_args)]))
        med = statistics.median
        print(f"== pg_hba module body on a 10,000-line file (one rule, mode {MODE}), {RUNS} runs in turns "
              "(goals: <= 30 ms, <= 5 MB)")
        for b in binaries:
            r = results[b]
            print(f"  {str(b):<48} wall median {med(r['wall']) * 1000:6.1f} ms (min {min(r['wall']) * 1000:.1f}, "
                  f"max {max(r['wall']) * 1000:.1f}); peak RSS median {med(r['rss']) / 1024:.2f} MB "
                  f"(min {min(r['rss']) / 1024:.2f}, max {max(r['rss']) / 1024:.2f})")
            print(f"  {'':<48} CPU (user+sys) median {med(r['cpu']) * 1000:6.1f} ms (min {min(r['cpu']) * 1000:.1f})")
            print(f"  {'':<48} floor: `pgha --list` peak RSS {med(r['list_rss']) / 1024:.2f} MB; pg_hba on a "
                  f"1-line file {med(r['tiny_wall']) * 1000:.1f} ms, {med(r['tiny_rss']) / 1024:.2f} MB")
        outs = {o.decode() for o in outputs.values()}
        if len(outs) > 1:
            print("  OUTPUTS DIFFER:")
            for b, o in outputs.items():
                print(f"    {b}: {o.decode()[:2000]}")
        else:
            print(f"  output ({len(next(iter(outs)))} bytes, same for all): {next(iter(outs))[:300]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
