#!/usr/bin/env bash
# Builds, as local Docker images, every image a kind cluster from our node image runs, under the
# names kubeadm and kind ask for (Linux only):
#   - kubeadm's own list (`kubeadm config images list` of the kubeadm built here): kube-apiserver,
#     kube-controller-manager, kube-scheduler, kube-proxy, etcd, coredns, pause;
#   - the images of kind's CNI and storage manifests, as kind v0.33.0's node-image builder names
#     them (read from its Go module source): kindnetd (ours, images/kindnetd/kindnetd.sh),
#     local-path-provisioner and its helper.
#
#   bash scripts/kind/node-image/build-images.sh KUBERNETES_OUT BUILD_DIR   # prints the image names
#
# KUBERNETES_OUT is build-kubernetes.sh's OUT. CoreDNS and local-path-provisioner are built from
# the Go module proxy into BUILD_DIR/bin, pause with gcc (static). An image is rebuilt only when
# its build context changed (label event-pipeline.node-image.context). Runs on bash 3.2.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

kube="${1:?usage: build-images.sh KUBERNETES_OUT BUILD_DIR}/bin"
build="${2:?usage: build-images.sh KUBERNETES_OUT BUILD_DIR}"
base_image="$(bash "$HERE/../../docker/stand-ins.sh" --names | sed -n 1p)"
docker image inspect "$base_image" >/dev/null 2>&1 || fail "no image $base_image: run scripts/docker/stand-ins.sh"
mkdir -p "$build/bin"

# The images kubeadm and kind name; kubeadm's coredns tag must be the CoreDNS we build.
kubeadm_images="$("$kube/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION")"
kubeadm_image() {
  local image
  image="$(echo "$kubeadm_images" | grep -E "/$1:" | sed -n 1p)"
  [ -n "$image" ] || fail "kubeadm $KUBERNETES_VERSION lists no $1 image"
  echo "$image"
}
coredns_image="$(kubeadm_image coredns)"
[ "${coredns_image##*:}" = "$COREDNS_VERSION" ] ||
  fail "kubeadm $KUBERNETES_VERSION wants $coredns_image; versions.env builds CoreDNS $COREDNS_VERSION"
kind_src="$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
kind_image() {
  local image
  image="$(sed -nE "s/^const $1 = \"(.*)\"$/\1/p" "$kind_src/pkg/build/nodeimage/$2")"
  [ -n "$image" ] || fail "kind $KIND_VERSION's $2 has no const $1"
  echo "$image"
}
kindnetd_image="$(kind_image kindnetdImage const_cni.go)"
provisioner_image="$(kind_image storageProvisionerImage const_storage.go)"
helper_image="$(kind_image storageHelperImage const_storage.go)"

# Binaries that are not Kubernetes'.
if [ ! -x "$build/bin/coredns" ] || ! "$build/bin/coredns" -version | grep -q "CoreDNS-${COREDNS_VERSION#v}"; then
  src="$(module_src github.com/coredns/coredns "$COREDNS_VERSION")"
  timed coredns go_build "$src" "$build/bin/coredns" . -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module"
fi
if [ ! -x "$build/bin/local-path-provisioner" ]; then
  src="$(module_src github.com/rancher/local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION")"
  timed local-path-provisioner go_build "$src" "$build/bin/local-path-provisioner" . \
    -ldflags "-s -w -X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION"
fi
if [ ! -x "$build/bin/pause" ] || [ "$HERE/images/pause/pause.c" -nt "$build/bin/pause" ]; then
  nice -n 10 gcc -Os -static -Wall -Werror -o "$build/bin/pause" "$HERE/images/pause/pause.c"
  strip "$build/bin/pause"
fi

# image NAME DOCKERFILE_DIR [FILE...] [-- BUILD_ARG...]: builds NAME from a context of the
# Dockerfile and the files, unless an image of that name was built from the same context.
image() {
  local name="$1" dir="$2"
  shift 2
  local context="$build/context/$(echo "$name" | tr '/:' '__')"
  rm -rf "$context"
  mkdir -p "$context"
  cp "$dir/Dockerfile" "$context/"
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    cp "$1" "$context/"
    shift
  done
  [ $# -gt 0 ] && shift
  local args=(--build-arg "BASE_IMAGE=$base_image")
  local arg
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  local digest
  digest="$( (cd "$context" && find . -type f | LC_ALL=C sort | xargs sha256sum; echo ${args[@]+"${args[*]}"}) | sha256sum | cut -c1-16)"
  if [ "$(docker image inspect --format '{{ index .Config.Labels "event-pipeline.node-image.context" }}' "$name" 2>/dev/null)" = "$digest" ]; then
    echo "$name"
    return 0
  fi
  log "building $name"
  docker_build ${args[@]+"${args[@]}"} --label "event-pipeline.node-image.context=$digest" -t "$name" "$context"
  echo "$name"
}

start=$(date +%s)
for command in kube-apiserver kube-controller-manager kube-scheduler etcd; do
  image "$(kubeadm_image "$command")" "$HERE/images/binary" "$kube/$command" -- "COMMAND=$command"
done
image "$(kubeadm_image kube-proxy)" "$HERE/images/kube-proxy" "$kube/kube-proxy"
image "$coredns_image" "$HERE/images/coredns" "$build/bin/coredns"
image "$(kubeadm_image pause)" "$HERE/images/pause" "$build/bin/pause"
image "$kindnetd_image" "$HERE/images/kindnetd" "$kube/kubectl" "$HERE/images/kindnetd/kindnetd.sh"
image "$provisioner_image" "$HERE/images/binary" "$build/bin/local-path-provisioner" -- COMMAND=local-path-provisioner
image "$helper_image" "$HERE/images/local-path-helper"
log "images: $(($(date +%s) - start)) s"
