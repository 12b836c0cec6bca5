#!/usr/bin/env bash
# Builds a kind node image on this machine from the Go module proxy and Debian's packages, for
# machines that cannot pull kind's kindest/node (CI here). Linux only (it builds Linux binaries on
# the host and runs them in containers); a user's machine uses kind's own image.
#
#   bash scripts/kind/node-image/build.sh      # prints the image name, event-pipeline/kind-node:<k8s>
#
# Steps, each cached under ~/.cache/event-pipeline (EVENT_PIPELINE_CACHE moves it) and redone only
# when its inputs change:
#   1. build-runtime.sh     containerd, runc, crictl, CNI plugins      node-runtime-<containerd>/
#   2. build-kubernetes.sh  kubelet, kubeadm, kubectl, control plane, etcd   node-kubernetes-<k8s>/
#   3. build-images.sh      the images kubeadm and kind's manifests name, as local images
#   4. base/Dockerfile      Debian (the stand-in debian image) + systemd + the runtime: event-pipeline/kind-base
#   5. the node image       the base + kubelet, kubeadm, kubectl, /kind/version, kind's CNI and
#                           storage manifests (from kind's Go module source), and step 3's images
#                           preloaded into the node's containerd, so that creating a cluster pulls nothing.
# Needs: Docker (scripts/docker/engine.sh), the stand-in images (scripts/docker/stand-ins.sh), Go,
# gcc, libseccomp-dev. Runs on bash 3.2.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

[ "$(uname -s)" = Linux ] || fail "the node image is built on Linux only; on macOS use kind's own image (k8s/kind/cluster.yaml)"
CACHE="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}"
NODE_IMAGE="event-pipeline/kind-node:$KUBERNETES_VERSION"
BASE_REPO=event-pipeline/kind-base
LABEL=event-pipeline.node-image.context
mkdir -p "$CACHE"

# Fingerprint of a folder's files (names and content).
fingerprint() {
  (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16
}
built_from() { [ "$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null)" = "$2" ]; }

bash "$HERE/../../docker/stand-ins.sh" >/dev/null
base_from="$(bash "$HERE/../../docker/stand-ins.sh" --names | sed -n 1p)"

runtime="$CACHE/node-runtime-$CONTAINERD_VERSION"
runtime_stamp="containerd $CONTAINERD_VERSION runc $RUNC_VERSION crictl $CRICTL_VERSION cni $CNI_PLUGINS_VERSION"
if [ "$(cat "$runtime/.complete" 2>/dev/null)" != "$runtime_stamp" ]; then
  timed "runtime (build-runtime.sh)" bash "$HERE/build-runtime.sh" "$runtime"
fi

kubernetes="$CACHE/node-kubernetes-$KUBERNETES_VERSION"
if [ "$(cat "$kubernetes/.complete" 2>/dev/null)" != "$KUBERNETES_VERSION" ]; then
  timed "Kubernetes (build-kubernetes.sh)" bash "$HERE/build-kubernetes.sh" "$kubernetes"
fi

work="$CACHE/node-image-$KUBERNETES_VERSION"
images="$(bash "$HERE/build-images.sh" "$kubernetes" "$work")"

# 4. The base image.
context="$work/context/base"
rm -rf "$context"
mkdir -p "$context/runtime"
cp -R "$HERE/base/." "$context/"
cp -R "$runtime/bin" "$runtime/cni" "$context/runtime/"
digest="$(fingerprint "$context")"
base="$BASE_REPO:$digest"
if ! built_from "$base" "$digest"; then
  log "building $base"
  timed "base image" docker_build --build-arg "BASE_IMAGE=$base_from" --label "$LABEL=$digest" -t "$base" "$context"
fi

# 5. The node image: kind's manifests as kind's node-image builder writes them (its Go constants,
# the image names put in), the Kubernetes binaries, then the images preloaded.
kind_src="$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
manifest() {
  local text
  text="$(awk -v start="const $2 = \`" '
    index($0, start) == 1 { on = 1; $0 = substr($0, length(start) + 1); if ($0 == "") next }
    on && /^`/ { exit }
    on { print }' "$kind_src/pkg/build/nodeimage/$1")"
  local name value
  for name in kindnetdImage storageProvisionerImage storageHelperImage; do
    value="$(sed -nE "s/^const $name = \"(.*)\"$/\1/p" "$kind_src"/pkg/build/nodeimage/const_*.go)"
    text="$(echo "$text" | sed "s|\` + $name + \`|$value|g")"
  done
  case "$text" in *'` +'* | '') fail "could not read $2 from kind $KIND_VERSION's $1" ;; esac
  echo "$text"
}
context="$work/context/node"
rm -rf "$context"
mkdir -p "$context/manifests"
manifest const_cni.go defaultCNIManifest >"$context/manifests/default-cni.yaml"
manifest const_storage.go defaultStorageManifest >"$context/manifests/default-storage.yaml"
for command in kubelet kubeadm kubectl; do cp "$kubernetes/bin/$command" "$context/"; done
echo "$KUBERNETES_VERSION" >"$context/version"
{
  echo "FROM $base"
  echo "COPY kubelet kubeadm kubectl /usr/bin/"
  echo "COPY version /kind/version"
  echo "COPY manifests/ /kind/manifests/"
} >"$context/Dockerfile"
image_ids=""
for image in $images; do image_ids="$image_ids $image@$(docker image inspect --format '{{.Id}}' "$image")"; done
echo "$image_ids" >"$context/images"
digest="$(fingerprint "$context")"
if built_from "$NODE_IMAGE" "$digest"; then
  echo "$NODE_IMAGE"
  exit 0
fi

start=$(date +%s)
docker_build -t "$NODE_IMAGE-unloaded" "$context"
container="event-pipeline-node-image-build-$$"
cleanup() { docker rm -f "$container" >/dev/null 2>&1 || true; }
trap cleanup EXIT
docker run -d --name "$container" --entrypoint sleep "$NODE_IMAGE-unloaded" infinity >/dev/null
docker exec -d "$container" sh -c 'exec containerd >/var/log/containerd-preload.log 2>&1'
waited=0
until docker exec "$container" ctr version >/dev/null 2>&1; do
  [ $waited -lt 30 ] || fail "containerd in the build container did not answer in 30 s"
  sleep 1
  waited=$((waited + 1))
done
# Pinned, as kind pins its preloaded images, so that the kubelet's image GC never removes them.
# shellcheck disable=SC2086
docker save $images | docker exec -i "$container" ctr --namespace=k8s.io images import \
  --label=io.cri-containerd.pinned=pinned --no-unpack --digests - >/dev/null
loaded="$(docker exec "$container" ctr --namespace=k8s.io images list -q)"
for image in $images; do
  # containerd names an image as Docker's reference rules do: no registry means docker.io.
  case "${image%%/*}" in *.* | *:* | localhost) want="$image" ;; *) want="docker.io/$image" ;; esac
  echo "$loaded" | grep -qxF "$want" || fail "$want is not in the node's containerd after the import"
done
docker exec "$container" pkill containerd
docker exec "$container" sh -c 'while pgrep -x containerd >/dev/null; do sleep 0.2; done; rm -rf /run/containerd /tmp/* /var/log/containerd-preload.log'
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change 'CMD []' \
  --change "LABEL $LABEL=$digest" \
  "$container" "$NODE_IMAGE" >/dev/null
cleanup
trap - EXIT
docker rmi "$NODE_IMAGE-unloaded" >/dev/null
log "node image $NODE_IMAGE: $(($(date +%s) - start)) s, $(docker image inspect --format '{{.Size}}' "$NODE_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
echo "$NODE_IMAGE"
