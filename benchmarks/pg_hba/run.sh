#!/usr/bin/env bash
# Side-by-side benchmark: a 50-task playbook editing pg_hba.conf with pgha.cluster.pg_hba vs
# community.postgresql.postgresql_pg_hba (bundled with the ansible package), in turns; then the
# module body alone on a 10,000-line pg_hba.conf. Run after `make modules`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/.venv/bin/python" "$root/benchmarks/pg_hba/bench.py" "$@"
