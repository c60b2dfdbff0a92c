#!/usr/bin/env bash
# Build the offline base image for the coder sandbox without any container registry:
# debootstrap a minimal Debian (python3, venv, git) and `docker import` it.
#
#   sandbox/build-base.sh [IMAGE_NAME] [SUITE] [MIRROR]
#
# Defaults: coder-base:bookworm, bookworm, the first deb.debian.org-style mirror apt is configured with.
# Needs root, debootstrap and a reachable Debian mirror (apt's own works). Takes about 2 minutes.
set -euo pipefail

image="${1:-coder-base:bookworm}"
suite="${2:-bookworm}"
mirror="${3:-}"
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
             /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 | awk '{print $2}' || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

if docker image inspect "$image" >/dev/null 2>&1 && [ "${CODER_REBUILD_BASE:-0}" != "1" ]; then
  echo "base image $image already exists (set CODER_REBUILD_BASE=1 to rebuild)"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 2; }

root=$(mktemp -d /var/tmp/coder-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap $suite from $mirror into $root ..."
debootstrap --variant=minbase --include=python3,python3-venv,git,ca-certificates "$suite" "$root" "$mirror" >/dev/null
# Slim it: no apt lists, docs or caches in the image.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/* \
       "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
echo "built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
