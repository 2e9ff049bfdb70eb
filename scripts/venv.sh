#!/usr/bin/env bash
# Create or update the repo's Python venv (.venv) from requirements-dev.txt.
#
#   scripts/venv.sh            # idempotent: does nothing (silently) when the venv matches
#   scripts/venv.sh --verify   # also print tool versions and check the bundled collections
#   . .venv/bin/activate       # then: ansible, ansible-lint, molecule, pytest
#
# The venv is skipped when the sha256 of requirements-dev.txt plus the interpreter's version
# equals the stamp file .venv/.pgha-requirements.sha256; otherwise it is (re)made. A venv
# made by another Python version is recreated from scratch.
#
# Environment: PYTHON (default python3; needs >= 3.11 and < 3.14 for ansible-core 2.19),
#              PGHA_VENV (default <repo>/.venv)
#
# Note: molecule runs `ansible-config` etc. from PATH: put .venv/bin first in PATH
# (activate the venv) before running molecule, or it fails with "No such file ... ansible-config".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${PGHA_VENV:-$root/.venv}
req=$root/requirements-dev.txt
python=${PYTHON:-python3}
verify=""
[[ "${1:-}" == --verify ]] && verify=1

command -v "$python" >/dev/null || { echo "venv.sh: $python not found" >&2; exit 1; }
pyver=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
case "$pyver" in
  3.11.*|3.12.*|3.13.*) ;;
  *) echo "venv.sh: $python is $pyver; ansible-core 2.19 needs 3.11 to 3.13" >&2; exit 1 ;;
esac

want=$( { sha256sum <"$req" | cut -d' ' -f1; echo "$pyver"; } | sha256sum | cut -d' ' -f1)
stamp=$venv/.pgha-requirements.sha256

# One installer at a time (parallel make targets may call us).
mkdir -p "$(dirname "$venv")"
exec 9>"${TMPDIR:-/tmp}/pgha-venv-$(echo "$venv" | sha256sum | cut -c1-12).lock"
flock 9

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  :
else
  if [[ -x "$venv/bin/python" ]]; then
    have=$("$venv/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo none)
    if [[ "$have" != "$pyver" ]]; then
      echo "venv.sh: $venv was made with Python $have; recreating with $pyver" >&2
      rm -rf "$venv"
    fi
  fi
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "venv.sh: creating $venv (Python $pyver)" >&2
    "$python" -m venv "$venv"
  fi
  echo "venv.sh: installing requirements-dev.txt" >&2
  rm -f "$stamp"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q --no-input -r "$req"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip check >/dev/null \
    || { "$venv/bin/python" -m pip check >&2; exit 1; }
  echo "$want" >"$stamp"
  echo "venv.sh: $venv ready" >&2
fi

if [[ -n "$verify" ]]; then
  export PATH="$venv/bin:$PATH"
  cd "$root"
  ansible --version | head -1
  molecule --version 2>/dev/null | head -2 | sed 's/\x1b\[[0-9;]*m//g'
  ansible-lint --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | head -1
  pytest --version
  cols=$(ansible-galaxy collection list 2>/dev/null)
  for c in community.postgresql community.docker community.proxmox community.general ansible.posix; do
    line=$(awk -v c="$c" '$1==c {print $1" "$2; exit}' <<<"$cols")
    [[ -n "$line" ]] || { echo "venv.sh: collection $c missing" >&2; exit 1; }
    echo "$line"
  done
fi
