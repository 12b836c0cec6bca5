#!/usr/bin/env bash
# Builds the Kubernetes binaries of the kind node image (Linux only): kubelet, kubeadm, kubectl,
# kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, and etcd's server command.
#
#   bash scripts/kind/node-image/build-kubernetes.sh OUT
#
# The module is scripts/tools/kube-apiserver's (k8s.io/kubernetes with its staging modules at their
# v0.x releases, etcd's server module at the version Kubernetes requires): its go.mod and go.sum
# are copied into OUT's work folder with etcd/main.go beside them, and the go.sum entries that the
# other commands need on top of kube-apiserver's are added there (the copy in the repo is left as
# it is). The version stamps are those of Kubernetes' own build, as that module's build.sh sets
# them. Writes OUT/bin/... and OUT/.complete last. Runs on bash 3.2.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
MODULE="$ROOT/scripts/tools/kube-apiserver"
# shellcheck source=versions.env
source "$HERE/versions.env"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

out="${1:?usage: build-kubernetes.sh OUT}"
[ "$(uname -s)" = Linux ] || fail "the node image's binaries are built on Linux only"
required=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$MODULE/go.mod")
[ "$required" = "$KUBERNETES_VERSION" ] ||
  fail "$MODULE/go.mod requires k8s.io/kubernetes $required, versions.env says $KUBERNETES_VERSION"

partial="$out.partial-$$"
rm -rf "$partial"
mkdir -p "$partial/bin" "$partial/module/etcd"
trap 'rm -rf "$partial"' EXIT
cp "$MODULE/go.mod" "$MODULE/go.sum" "$partial/module/"
cp "$HERE/etcd/main.go" "$partial/module/etcd/"

minor="${KUBERNETES_VERSION#v1.}"
minor="${minor%%.*}"
x=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  x="$x -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  x="$x -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

for cmd in kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  timed "$cmd" go_build "$partial/module" "$partial/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd" -ldflags "-s -w $x"
done
timed etcd go_build "$partial/module" "$partial/bin/etcd" ./etcd -ldflags "-s -w"

"$partial/bin/kubelet" --version | grep -qx "Kubernetes $KUBERNETES_VERSION" || fail "kubelet does not report $KUBERNETES_VERSION"
rm -rf "$partial/module"
printf '%s\n' "$KUBERNETES_VERSION" >"$partial/.complete"
rm -rf "$out"
mv "$partial" "$out"
trap - EXIT
log "Kubernetes binaries in $out ($(du -sh "$out" | cut -f1))"
