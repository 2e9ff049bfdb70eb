#!/usr/bin/env bash
# Side-by-side benchmark: the cost of the platform check (the action plugin in front of every
# pgha.cluster module): 10 pg_hba tasks through pgha.cluster.pg_hba vs the same binary run by
# Ansible's plain `normal` action, in turns. Run after `make modules`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/.venv/bin/python" "$root/benchmarks/arch_check/bench.py" "$@"
