#!/usr/bin/env bash
# Side-by-side benchmark of pgha.cluster's database modules vs community.postgresql: a 50-task
# playbook against the same throwaway PostgreSQL 15 server, and the module body alone (our
# binary with an args file vs the Python module's AnsiballZ payload). See bench.py.
#   make modules && benchmarks/db_modules/run.sh        # RUNS=5 BODY_RUNS=30 KEEP=1 to keep files
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/collection/files/pgha" ] || { echo "run 'make modules' first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (it starts a throwaway server as the postgres user)" >&2; exit 1; }
exec "$root/.venv/bin/python" "$root/benchmarks/db_modules/bench.py" "$@"
