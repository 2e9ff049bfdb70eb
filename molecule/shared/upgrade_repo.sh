#!/bin/bash
# upgrade_repo.sh PACKAGE...: inside a lab container, for the upgrade drill (playbooks/upgrade.yml).
# The lab reaches no package archive, and its packages are the newest its image was built with,
# so there is nothing to upgrade to. This rebuilds each installed PACKAGE from the files dpkg
# installed (with its control data, conffiles and maintainer scripts) under the next version,
# <version>+pgha<N>, into a local flat repository /srv/pgha-upgrade that apt trusts, and reads
# that repository's index alone. A real dpkg upgrade then runs (maintainer scripts included):
# the binaries are the same, the procedure is the one a minor release goes through.
#
#   upgrade_repo.sh pgpool2 postgresql-15 ...     # prints the new versions
#   upgrade_repo.sh --remove                      # the source and repository go again
set -euo pipefail
REPO=/srv/pgha-upgrade
LIST=/etc/apt/sources.list.d/pgha-upgrade.list

if [ "${1:-}" = "--remove" ]; then
    rm -f -- "$LIST"
    rm -rf -- "$REPO"
    exit 0
fi

umask 022
rm -rf -- "$REPO"
mkdir -p -- "$REPO"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

for pkg in "$@"; do
    version=$(dpkg-query -W -f='${Version}' "$pkg")
    arch=$(dpkg-query -W -f='${Architecture}' "$pkg")
    n=1
    if [[ $version =~ \+pgha([0-9]+)$ ]]; then
        n=$((BASH_REMATCH[1] + 1))
        version=${version%+pgha*}
    fi
    new="$version+pgha$n"
    root="$work/$pkg"
    mkdir -p -- "$root/DEBIAN"
    # Files and links as installed (directories come with them); diverted or missing ones
    # skipped, and so are directories that are links here (/lib on a merged-/usr system).
    dpkg-query -L "$pkg" | while IFS= read -r path; do
        if [ -L "$path" ] && [ -d "$path" ]; then
            continue
        fi
        if [ -f "$path" ] || [ -L "$path" ]; then
            printf '%s\0' "${path#/}"
        fi
    done | tar -C / --null --no-recursion -T - -cf - | tar -C "$root" -xf -
    dpkg-query -s "$pkg" | grep -v -e '^Status:' -e '^Conffiles:' -e '^ /' \
        | sed "s/^Version: .*/Version: $new/" >"$root/DEBIAN/control"
    dpkg-query -W -f='${Conffiles}\n' "$pkg" | awk 'NF >= 2 { print $1 }' >"$root/DEBIAN/conffiles"
    [ -s "$root/DEBIAN/conffiles" ] || rm -f -- "$root/DEBIAN/conffiles"
    for script in preinst postinst prerm postrm config templates triggers shlibs symbols; do
        src="/var/lib/dpkg/info/$pkg.$script"
        [ -f "$src" ] || src="/var/lib/dpkg/info/$pkg:$arch.$script"
        if [ -f "$src" ]; then
            install -m 0755 -- "$src" "$root/DEBIAN/$script"
        fi
    done
    for data in templates triggers shlibs symbols; do
        [ -f "$root/DEBIAN/$data" ] && chmod 0644 -- "$root/DEBIAN/$data"
    done
    dpkg-deb --root-owner-group -Znone -b "$root" "$REPO/${pkg}_${new}_$arch.deb" >/dev/null
    echo "$pkg $new"
done

# The flat repository's index: each package's control data with where the file is.
for deb in "$REPO"/*.deb; do
    dpkg-deb -f "$deb"
    printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$(basename "$deb")" "$(stat -c %s "$deb")" \
        "$(sha256sum "$deb" | cut -d' ' -f1)"
done >"$REPO/Packages"
echo "deb [trusted=yes] file:$REPO ./" >"$LIST"
timeout 60 apt-get update -qq -o Dir::Etc::sourcelist="$LIST" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
