#!/usr/bin/env bash
# Side-by-side benchmark: a 50-task playbook editing pg_hba.conf with pgha.cluster.pg_hba vs
# community.postgresql.postgresql_pg_hba (bundled with the ansible package), timed in turns
# by farm-bench; then the module body alone on a 10,000-line pg_hba.conf.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/pgha-bench-hba.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PATH="$root/.venv/bin:$PATH"
mkdir -p "$work/collections/ansible_collections/pgha"
ln -s "$root/collection" "$work/collections/ansible_collections/pgha/cluster"
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_HOME="$work/home" ANSIBLE_NOCOLOR=1
# The community module runs under the venv's Python (interpreter discovery may pick a missing one).
export ANSIBLE_PYTHON_INTERPRETER="$root/.venv/bin/python"

tasks=${TASKS:-50}
gen() { # $1 = ours|community
  echo "- hosts: localhost"
  echo "  connection: local"
  echo "  gather_facts: false"
  echo "  tasks:"
  for i in $(seq 1 "$tasks"); do
    if [ "$1" = ours ]; then
      cat <<T
    - pgha.cluster.pg_hba:
        path: $work/hba_ours.conf
        create: true
        rules: [{type: host, databases: db$i, users: user$i, address: 10.0.$((i % 250)).0/24, method: scram-sha-256}]
T
    else
      cat <<T
    - community.postgresql.postgresql_pg_hba:
        dest: $work/hba_community.conf
        create: true
        contype: host
        databases: db$i
        users: user$i
        source: 10.0.$((i % 250)).0/24
        method: scram-sha-256
T
    fi
  done
}
gen ours > "$work/ours.yml"
gen community > "$work/community.yml"

echo "== $tasks pg_hba tasks: pgha.cluster.pg_hba (A) vs community.postgresql.postgresql_pg_hba (B)"
farm-bench -n "${RUNS:-5}" --timeout 900 \
  --vs "ansible-playbook -i localhost, $work/community.yml" \
  -- ansible-playbook -i localhost, "$work/ours.yml"

echo "== module body alone on a 10,000-line pg_hba.conf (one rule added, file not written: check mode)"
python3 - "$work/big.conf" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("# big pg_hba.conf\n")
    for i in range(10000):
        f.write(f"host    db{i}    user{i}    10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}/32    scram-sha-256\n")
PY
cat > "$work/args.json" <<J
{"path": "$work/big.conf", "rules": [{"type": "host", "databases": "new", "users": "new", "address": "10.9.9.9/32", "method": "md5"}], "_ansible_check_mode": true}
J
farm-bench -n 10 -- "$root/collection/plugins/modules/pg_hba" "$work/args.json"
