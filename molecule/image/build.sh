#!/usr/bin/env bash
# Build the pgha lab image: a Debian 12 (bookworm) root file system made with debootstrap on
# this host, with systemd as PID 1, sshd, python3, PostgreSQL 15, Pgpool-II and repmgr in it,
# imported with `docker import` (no registry is needed or used).
#
#   molecule/image/build.sh             # builds once; prints the tag as the last stdout line
#   IMAGE=$(molecule/image/build.sh)    # e.g. pgha/debian12:0123456789ab
#   molecule/image/tag.sh               # the tag, without building
#
# The tag's hash covers this script and packages.txt; when an image with that tag exists the
# build is skipped (PGHA_IMAGE_REBUILD=1 forces it). `pgha/debian12:latest` points at the
# last image built or reused. Progress goes to stderr, only the tag to stdout.
#
# Environment:
#   PGHA_DEBIAN_MIRROR     Debian mirror (default: the first one in this host's apt sources
#                          that serves bookworm, else http://deb.debian.org/debian)
#   PGHA_SECURITY_MIRROR   security mirror (default: from apt sources; skipped if unreachable)
#   PGHA_IMAGE_WORKDIR     where the root file system is made (default /var/tmp)
#   PGHA_IMAGE_REBUILD=1   build even if the tagged image exists
#
# Needs root (debootstrap, chroot), debootstrap, curl and docker (scripts/setup-host.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${PGHA_IMAGE_REPO:-pgha/debian12}
TAG=$("$here/tag.sh")
SUITE=bookworm

log() { echo "[image $(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

image_exists() { docker image inspect "$TAG" >/dev/null 2>&1; }

if [[ -z "${PGHA_IMAGE_REBUILD:-}" ]] && image_exists; then
  docker tag "$TAG" "$REPO:latest"
  log "$TAG exists; not rebuilding"
  echo "$TAG"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap and chroot need it)"
for cmd in debootstrap curl docker chroot; do
  command -v "$cmd" >/dev/null || die "$cmd not found: run scripts/setup-host.sh"
done

# One build at a time per machine; a second caller waits and then reuses the result.
mkdir -p "${PGHA_IMAGE_WORKDIR:-/var/tmp}"
exec 9>"${PGHA_IMAGE_WORKDIR:-/var/tmp}/pgha-image-build.lock"
flock 9
if [[ -z "${PGHA_IMAGE_REBUILD:-}" ]] && image_exists; then
  docker tag "$TAG" "$REPO:latest"
  log "$TAG was built meanwhile"
  echo "$TAG"
  exit 0
fi

# --- mirrors: whatever this host's apt uses, if it answers ------------------------------------
# Print the URIs of this host's apt sources (one-line and deb822) that carry suite $1.
apt_source_uris() {
  local suite=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v s="$suite" '$1=="deb" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                        if ($(i+1)==s) print $i }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v s="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " s " ")) print uris;
                         types=""; uris=""; suites=""; enabled="" }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      tolower($1)=="types:"   { $1=""; types=$0 }
      tolower($1)=="uris:"    { $1=""; uris=$0 }
      tolower($1)=="suites:"  { $1=""; suites=$0 }
      tolower($1)=="enabled:" { enabled=tolower($2) }
      END { flush() }' "$f" | tr ' ' '\n' | sed '/^$/d'
  done
}

pick_mirror() { # suite fallback...
  local suite=$1 uri; shift
  for uri in $(apt_source_uris "$suite") "$@"; do
    uri=${uri%/}
    case "$uri" in http://*|https://*) ;; *) continue ;; esac
    if curl -fsS --max-time 15 -o /dev/null "$uri/dists/$suite/Release" 2>/dev/null; then
      echo "$uri"; return 0
    fi
  done
  return 1
}

MIRROR=${PGHA_DEBIAN_MIRROR:-$(pick_mirror "$SUITE" http://deb.debian.org/debian || true)}
[[ -n "$MIRROR" ]] || die "no Debian mirror for $SUITE answers (set PGHA_DEBIAN_MIRROR)"
SECURITY=${PGHA_SECURITY_MIRROR:-$(pick_mirror "$SUITE-security" http://deb.debian.org/debian-security || true)}
UPDATES=""
if curl -fsS --max-time 15 -o /dev/null "$MIRROR/dists/$SUITE-updates/Release" 2>/dev/null; then
  UPDATES="$SUITE-updates"
fi
log "mirror $MIRROR${UPDATES:+ (+$UPDATES)}${SECURITY:+, security $SECURITY}"

mapfile -t PACKAGES < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$here/packages.txt")

# --- root file system ---------------------------------------------------------------------
work=$(mktemp -d "${PGHA_IMAGE_WORKDIR:-/var/tmp}/pgha-image.XXXXXX")
rootfs=$work/rootfs
unmount_all() {
  local m
  # deepest first
  for m in $(awk -v r="$rootfs" 'index($2, r)==1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}
cleanup() {
  unmount_all
  if [[ -z "${PGHA_IMAGE_KEEP_ROOTFS:-}" ]]; then rm -rf --one-file-system "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
log "debootstrap $SUITE into $rootfs"
debootstrap --variant=minbase --include=apt-utils --components=main \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

in_root() {
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

mount -t proc proc "$rootfs/proc"
mount -t sysfs sysfs "$rootfs/sys"
mount --bind /dev "$rootfs/dev"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$rootfs/dev/pts" 2>/dev/null || true

# No package may start a service during the build.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"

rm -f "$rootfs/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: %s%s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$MIRROR" "$SUITE" "${UPDATES:+ $UPDATES}"
  if [[ -n "$SECURITY" ]]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$SECURITY" "$SUITE"
  fi
} >"$rootfs/etc/apt/sources.list.d/debian.sources"
cat >"$rootfs/etc/apt/apt.conf.d/90pgha" <<'APT'
// pgha lab image: small, no recommends, no caches kept
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
APT

# Leave out man pages, info and message catalogues (~70 MB); docs stay (pgpool2's examples).
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/90pgha-nodoc" <<'DPKG'
# pgha lab image: no man pages, info or translations
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
DPKG
find "$rootfs/usr/share/man" "$rootfs/usr/share/info" -mindepth 1 -delete 2>/dev/null || true
find "$rootfs/usr/share/locale" -mindepth 1 ! -name locale.alias -delete 2>/dev/null || true

# Locales first: PostgreSQL's postinst and our users want en_US.UTF-8 / C.UTF-8.
echo 'en_US.UTF-8 UTF-8' >"$rootfs/etc/locale.gen"
printf 'LANG=C.UTF-8\n' >"$rootfs/etc/default/locale"

log "apt-get install (${#PACKAGES[@]} packages)"
{
  in_root apt-get update -q
  in_root apt-get install -y -q locales
  in_root apt-get dist-upgrade -y -q
  in_root apt-get install -y -q "${PACKAGES[@]}"
} >"$work/apt.log" 2>&1 || { tail -40 "$work/apt.log" >&2; die "apt-get failed"; }

# --- configuration --------------------------------------------------------------------------
log "configuring"
# PostgreSQL: no Debian default cluster; the roles create and start ours.
if in_root pg_lsclusters -h 2>/dev/null | grep -q .; then
  in_root pg_lsclusters -h | while read -r ver name _; do
    in_root pg_dropcluster --stop "$ver" "$name" </dev/null
  done
fi
rm -rf "$rootfs/etc/postgresql/15/main" "$rootfs/var/lib/postgresql/15/main"
sed -i -E 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' \
  "$rootfs/etc/postgresql-common/createcluster.conf"
grep -q '^create_main_cluster = false' "$rootfs/etc/postgresql-common/createcluster.conf" \
  || echo 'create_main_cluster = false' >>"$rootfs/etc/postgresql-common/createcluster.conf"

# Units: pgpool2 off until the role configures it; nothing that needs a package mirror or
# hardware a container has not got. A preset file keeps them off even if presets are applied.
in_root systemctl disable pgpool2.service >/dev/null 2>&1 || true
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
            fstrim.timer systemd-timesyncd.service getty@tty1.service; do
  in_root systemctl disable "$unit" >/dev/null 2>&1 || true
done
for unit in apt-daily.service apt-daily-upgrade.service systemd-firstboot.service \
            console-getty.service getty-static.service; do
  in_root systemctl mask "$unit" >/dev/null 2>&1 || true
done
mkdir -p "$rootfs/etc/systemd/system-preset"
cat >"$rootfs/etc/systemd/system-preset/10-pgha.preset" <<'UNIT'
# pgha lab image: the roles enable these when they have configured them
disable pgpool2.service
disable apt-daily.timer
disable apt-daily-upgrade.timer
UNIT

# sshd: enabled; per-container host keys made at first boot; no DNS lookups of clients.
rm -f "$rootfs"/etc/ssh/ssh_host_*
mkdir -p "$rootfs/etc/ssh/sshd_config.d"
cat >"$rootfs/etc/ssh/sshd_config.d/pgha.conf" <<'SSHD'
# pgha lab image
UseDNS no
SSHD
cat >"$rootfs/etc/systemd/system/pgha-ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys missing on this container
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target ssh.service
UNIT
in_root systemctl enable pgha-ssh-hostkeys.service ssh.service >/dev/null 2>&1

# Each container makes its own machine id at boot.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$rootfs/var/lib/dbus/machine-id"

# Docker provides these.
: >"$rootfs/etc/hostname"
rm -f "$rootfs/etc/resolv.conf"; : >"$rootfs/etc/resolv.conf"

# --- slim down -------------------------------------------------------------------------------
in_root apt-get clean
rm -f "$rootfs/usr/sbin/policy-rc.d"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/tmp/* "$rootfs"/var/tmp/* \
       "$rootfs"/root/.bash_history "$rootfs"/var/log/apt/* "$rootfs"/var/log/*.log "$rootfs"/debootstrap
mkdir -p "$rootfs/var/lib/apt/lists/partial"
find "$rootfs/var/log" -type f -exec truncate -s 0 {} +

unmount_all

# --- import ------------------------------------------------------------------------------------
size=$(du -sm --one-file-system "$rootfs" | cut -f1)
log "rootfs ${size} MB; docker import as $TAG"
base=$(tar --numeric-owner --xattrs --xattrs-include='security.capability' -C "$rootfs" -c . |
  docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' \
    --change 'ENV LANG=C.UTF-8' \
    --message "pgha lab image (debootstrap $SUITE)" -)
# `docker import` cannot set STOPSIGNAL; a small local build (FROM the imported image, no
# registry) adds it, so `docker stop` halts systemd cleanly instead of waiting for the timeout.
printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nLABEL org.pgha.image.inputs=%s org.pgha.image.mirror=%s\n' \
    "$base" "$("$here/tag.sh" --hash)" "$MIRROR" |
  DOCKER_BUILDKIT=0 docker build -q -t "$TAG" - >/dev/null 2>"$work/docker-build.log" \
  || { cat "$work/docker-build.log" >&2; die "docker build (STOPSIGNAL) failed"; }
docker tag "$TAG" "$REPO:latest"
log "built $TAG in $(( $(date +%s) - start )) s"

# Older builds of this image (other input hashes) go, unless a container still uses them
# (docker rmi without -f refuses then). PGHA_IMAGE_KEEP_OLD=1 keeps them.
if [[ -z "${PGHA_IMAGE_KEEP_OLD:-}" ]]; then
  docker images --format '{{.Repository}}:{{.Tag}}' "$REPO" | while read -r old; do
    case "$old" in "$TAG"|"$REPO:latest"|*"<none>"*) continue ;; esac
    if docker rmi "$old" >/dev/null 2>&1; then log "removed old image $old"; fi
  done
fi
echo "$TAG"
