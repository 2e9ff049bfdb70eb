"""Timing two commands side by side with public tools: wall clock around each run, in turns
(A B A B ...) so drift on a shared machine hits both, medians and the ratio pair by pair; peak
RSS from GNU time."""

import statistics
import subprocess
import sys
import time


def timed(cmd, env=None, user=None):
    """Runs cmd (as `user`); returns its wall seconds."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, user=user, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or b'"failed": true' in proc.stdout or b'"failed":true' in proc.stdout:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stdout.decode()}\n{proc.stderr.decode()}")
    return wall


def peak_rss_kb(cmd, env, user=None):
    """Peak RSS of cmd as GNU time reports it (median of 5 runs)."""
    out = []
    for _ in range(5):
        r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, user=user, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        out.append(int(r.stderr.strip().splitlines()[-1]))
    return statistics.median(out)


def in_turns(cmd_a, cmd_b, runs, env, user=None):
    """One warm-up each, then `runs` pairs A B A B ...; returns the two lists of wall seconds."""
    timed(cmd_a, env, user)  # warm-up
    timed(cmd_b, env, user)
    a, b = [], []
    for _ in range(runs):
        a.append(timed(cmd_a, env, user))
        b.append(timed(cmd_b, env, user))
    return a, b


def side_by_side(name_a, cmd_a, name_b, cmd_b, runs, env, user=None):
    a, b = in_turns(cmd_a, cmd_b, runs, env, user)
    ratios = [wb / wa for wa, wb in zip(a, b)]
    med = statistics.median
    print(f"  A {name_a:<44} wall median {med(a) * 1000:9.1f} ms (min {min(a) * 1000:.1f}, max {max(a) * 1000:.1f})")
    print(f"  B {name_b:<44} wall median {med(b) * 1000:9.1f} ms (min {min(b) * 1000:.1f}, max {max(b) * 1000:.1f})")
    print(f"  ratio B/A: median {med(ratios):.1f}x (min {min(ratios):.1f}x, max {max(ratios):.1f}x, {runs} pairs in turns)")
    return med(ratios)
