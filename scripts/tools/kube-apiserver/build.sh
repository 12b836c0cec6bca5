#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd for the chart tests' API server
# (tests/chart/support/apiserver.ts) from the Go module next to this script: k8s.io/kubernetes
# at the version its go.mod requires, its staging modules at their own v0.x releases, and an
# etcd embedded from go.etcd.io/etcd/server/v3 (etcd/main.go), all from the Go module proxy.
#
#   bash scripts/tools/kube-apiserver/build.sh OUT VERSION   # VERSION: v1.37.2, as go.mod requires
#
# Writes OUT/bin/{kube-apiserver,kubectl,etcd} and OUT/.complete (the version) last, so a
# half-built OUT is never taken for a finished one. Needs Go (go.mod's `go` line; GOTOOLCHAIN
# fetches a newer one if that line asks for it). Runs on bash 3.2 (macOS) too.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: build.sh OUT VERSION}"
version="${2:?usage: build.sh OUT VERSION}"

required=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$HERE/go.mod")
if [[ "$required" != "$version" ]]; then
  echo "build.sh: $HERE/go.mod requires k8s.io/kubernetes $required, not $version" >&2
  exit 1
fi
minor="${version#v1.}"
minor="${minor%%.*}"

partial="$out.partial-$$"
rm -rf "$partial"
mkdir -p "$partial/bin"
trap 'rm -rf "$partial"' EXIT

# What Kubernetes' own build stamps (hack/lib/version.sh): the binary version matters to the
# API server (emulation and compatibility versions), not only to `--version`.
x=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  x="$x -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  x="$x -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

cd "$HERE"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
go build -ldflags "-s -w $x" -o "$partial/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -ldflags "-s -w $x" -o "$partial/bin/kubectl" k8s.io/kubernetes/cmd/kubectl
go build -ldflags "-s -w" -o "$partial/bin/etcd" ./etcd

printf '%s' "$version" >"$partial/.complete"
rm -rf "$out"
mv "$partial" "$out"
trap - EXIT
