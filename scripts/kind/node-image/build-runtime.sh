#!/usr/bin/env bash
# Builds the container runtime of the kind node image on this machine (Linux only), from the
# Go module proxy: containerd, its shim and ctr; runc (cgo, static, with seccomp); crictl; the
# CNI plugins kind's base image ships (host-local, loopback, ptp, portmap).
#
#   bash scripts/kind/node-image/build-runtime.sh OUT
#
# Writes OUT/bin/... and OUT/.complete last. Needs Go, gcc and libseccomp-dev (installed with
# apt-get when missing and running as root). Runs on bash 3.2.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

out="${1:?usage: build-runtime.sh OUT}"
[ "$(uname -s)" = Linux ] || fail "the node image's runtime is built on Linux only"
if ! [ -f /usr/include/seccomp.h ]; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || fail "runc needs libseccomp's headers and static library (Debian: libseccomp-dev)"
  log "installing libseccomp-dev"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libseccomp-dev >/dev/null
fi

partial="$out.partial-$$"
rm -rf "$partial"
mkdir -p "$partial/bin" "$partial/cni"
trap 'rm -rf "$partial"' EXIT

# containerd: the tags and version stamps of its Makefile's static build, without cgo (the
# snapshotters that need it, btrfs among them, are left out as kind leaves them out).
src="$(module_src github.com/containerd/containerd/v2 "$CONTAINERD_VERSION")"
pkg=github.com/containerd/containerd/v2
stamp="-X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Revision=module -X $pkg/version.Package=github.com/containerd/containerd"
tags="urfave_cli_no_docs osusergo netgo static_build no_btrfs no_devmapper no_zfs no_aufs"
for cmd in containerd ctr; do
  timed "containerd $cmd" go_build "$src" "$partial/bin/$cmd" ./cmd/$cmd -tags "$tags" -ldflags "-s -w $stamp"
done
timed "containerd-shim-runc-v2" go_build "$src" "$partial/bin/containerd-shim-runc-v2" ./cmd/containerd-shim-runc-v2 \
  -tags "$tags no_grpc" -ldflags "-s -w $stamp"

src="$(module_src github.com/opencontainers/runc "$RUNC_VERSION")"
timed runc env CGO_ENABLED=1 bash -c 'source "$0/lib.sh"; go_build "$1" "$2" . -tags "seccomp urfave_cli_no_docs netgo osusergo" \
  -ldflags "-s -w -X main.version=${3#v} -X main.gitCommit=module -extldflags -static"' \
  "$HERE" "$src" "$partial/bin/runc" "$RUNC_VERSION"

src="$(module_src sigs.k8s.io/cri-tools "$CRICTL_VERSION")"
timed crictl go_build "$src" "$partial/bin/crictl" ./cmd/crictl -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"

src="$(module_src github.com/containernetworking/plugins "$CNI_PLUGINS_VERSION")"
for plugin in ipam/host-local main/loopback main/ptp meta/portmap; do
  timed "cni ${plugin#*/}" go_build "$src" "$partial/cni/${plugin#*/}" ./plugins/$plugin \
    -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION"
done

"$partial/bin/runc" --version | sed -n 1p | grep -q "${RUNC_VERSION#v}" || fail "runc does not report $RUNC_VERSION"
printf '%s\n' "containerd $CONTAINERD_VERSION runc $RUNC_VERSION crictl $CRICTL_VERSION cni $CNI_PLUGINS_VERSION" >"$partial/.complete"
rm -rf "$out"
mv "$partial" "$out"
trap - EXIT
log "runtime in $out ($(du -sh "$out" | cut -f1))"
