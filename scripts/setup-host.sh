#!/usr/bin/env bash
# Install the Debian 12 packages pgha's build and tests need on this machine, and keep the
# services those packages bring (Debian's 15/main cluster, pgpool2) from holding ports
# 5432/9999: the tests start their own servers on other ports.
#
#   sudo scripts/setup-host.sh          # idempotent; quiet when everything is in place
#   PGHA_SETUP_VERBOSE=1 scripts/setup-host.sh
#
# Exit status is non-zero only when a package cannot be installed.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  # lab image build (molecule/image/build.sh) and its import
  debootstrap debian-archive-keyring curl ca-certificates
  # PostgreSQL 15 server + client, and the HA tools the tests use as oracles
  postgresql-15 postgresql-client-15 postgresql-contrib
  pgpool2 postgresql-15-pgpool2
  repmgr postgresql-15-repmgr
  # what Ansible and the lab tests call on the host
  acl sudo openssh-client iproute2 iputils-ping rsync
  # the script templates' lint (tests/integration/test_scripts.py)
  shellcheck
  # Rust crates that build C, Python venv for the tools
  build-essential pkg-config python3-venv git
)

log() { if [[ -n "${PGHA_SETUP_VERBOSE:-}" ]]; then echo "setup-host: $*"; fi; }
say() { echo "setup-host: $*"; }

if [[ $(id -u) -ne 0 ]]; then
  exec sudo -E "$0" "$@"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$st" == installed ]] || missing+=("$p")
done

# While we install, no package may start a service (pgpool2 and postgresql would grab
# 5432/9999 and, on a machine without systemd, stay running). policy-rc.d is honoured by
# invoke-rc.d / deb-systemd-invoke. Only ours is removed afterwards.
POLICY=/usr/sbin/policy-rc.d
policy_ours=""
cleanup() { if [[ -n "$policy_ours" ]]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

if ((${#missing[@]})); then
  say "installing: ${missing[*]}"
  if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\n# written by pgha scripts/setup-host.sh during apt-get install\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    policy_ours=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null 2> >(grep -v 'since apt-utils is not installed' >&2)
  cleanup; policy_ours=""
else
  log "all ${#PACKAGES[@]} packages already installed"
fi

have_systemd() { [[ -d /run/systemd/system ]]; }

# --- Debian's default cluster(s): stop them and keep them from starting at boot -----------
# We leave the clusters' data alone (someone may use them); start.conf "manual" means
# neither the postgresql@ units nor postgresql.service start them.
if command -v pg_lsclusters >/dev/null 2>&1; then
  while read -r ver name port status _; do
    [[ -n "$ver" ]] || continue
    startconf=/etc/postgresql/$ver/$name/start.conf
    if [[ "$status" == online* ]]; then
      say "stopping PostgreSQL cluster $ver/$name (port $port)"
      pg_ctlcluster --force "$ver" "$name" stop || true
    fi
    if [[ -f "$startconf" ]] && ! grep -qx 'manual' <(grep -v '^\s*#' "$startconf" | tr -d ' \t' | sed '/^$/d'); then
      log "setting $startconf to manual"
      printf '# set by pgha scripts/setup-host.sh: do not start at boot\nmanual\n' >"$startconf"
    fi
  done < <(pg_lsclusters -h 2>/dev/null || true)
fi

# --- services: stop and disable --------------------------------------------------------------
for svc in pgpool2 postgresql; do
  if have_systemd; then
    if systemctl is-active --quiet "$svc" 2>/dev/null; then
      say "stopping $svc.service"; systemctl stop "$svc" || true
    fi
    if systemctl is-enabled --quiet "$svc" 2>/dev/null; then
      log "disabling $svc.service"; systemctl disable --quiet "$svc" 2>/dev/null || true
    fi
  else
    # No systemd as PID 1 (e.g. a container or microVM): stop any daemon the package
    # started by hand, and remove the boot links so a later systemd boot leaves it off.
    if [[ -x /etc/init.d/$svc ]]; then
      if /etc/init.d/"$svc" status >/dev/null 2>&1; then
        say "stopping $svc"; /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
      fi
    fi
    if compgen -G "/etc/systemd/system/*.wants/$svc.service" >/dev/null; then
      log "disabling $svc.service"; systemctl disable --quiet "$svc" 2>/dev/null || rm -f /etc/systemd/system/*.wants/"$svc".service
    fi
    if compgen -G "/etc/rc[2-5].d/S*$svc" >/dev/null; then
      log "disabling $svc sysv links"; update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  fi
done

# pgpool started by hand from the package default config would hold 9999.
if pids=$(pgrep -x pgpool 2>/dev/null); then
  if ss -ltnp 2>/dev/null | grep -q ':9999 .*pgpool'; then
    say "pgpool still listening on 9999 (pids: $(echo $pids)); stop it if it is not yours"
  fi
fi
log "done"
