#!/usr/bin/env bash
# Side-by-side benchmark: a 50-task playbook editing pg_hba.conf with pgha.cluster.pg_hba (fast
# path, and Ansible's standard path), a trivial static binary module (the floor, built here) and
# community.postgresql.postgresql_pg_hba (bundled with the ansible package), in turns; then the
# module body alone on a 10,000-line pg_hba.conf. Run as root after `make modules` on a quiet
# machine; QUICK=1 only checks that the script works.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/.venv/bin/python" "$root/benchmarks/pg_hba/bench.py" "$@"
