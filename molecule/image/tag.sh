#!/usr/bin/env bash
# Print the lab image tag, pgha/debian12:<hash>, without building anything.
# The hash covers build.sh and packages.txt (the image's only inputs), so a change to
# either gives a new tag and build.sh builds again; otherwise the image is reused.
#   molecule/image/tag.sh            -> pgha/debian12:0123456789ab
#   molecule/image/tag.sh --hash     -> 0123456789ab
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hash=$(cd "$here" && cat build.sh packages.txt | sha256sum | cut -c1-12)
if [[ "${1:-}" == --hash ]]; then echo "$hash"; else echo "${PGHA_IMAGE_REPO:-pgha/debian12}:$hash"; fi
