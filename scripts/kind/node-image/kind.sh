#!/usr/bin/env bash
# kind with the node image built here (build.sh), for CI and machines that cannot pull kind's own
# images (Linux only). A user's machine runs `make up`, which uses kind's image and config as they are.
#
#   bash scripts/kind/node-image/kind.sh create [kind create cluster flags...]
#   bash scripts/kind/node-image/kind.sh delete   # the cluster, and kind's network when nothing else uses it
#   bash scripts/kind/node-image/kind.sh load IMAGE...  # kind load docker-image into the cluster
#   bash scripts/kind/node-image/kind.sh path     # prints the kind binary (installed when missing)
#
# create: builds the node image (cached), then `kind create cluster` with it and k8s/kind/cluster.yaml,
# plus cgroup-v1.yaml when `docker info` says the host runs cgroup v1. When the engine cannot start
# privileged containers (Docker 20.10 whose dockerd lacks a capability: "unable to apply caps"),
# kind runs with docker-shim/ first on its PATH (see docker-shim/docker).
# kind is `go install sigs.k8s.io/kind@$KIND_VERSION` into ~/.cache/event-pipeline/kind-<version>/bin.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

CACHE="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}"
KIND_BIN="$CACHE/kind-$KIND_VERSION/bin"
CONFIG="$ROOT/k8s/kind/cluster.yaml"
CLUSTER="$(sed -nE 's/^name: *([^ ]+).*/\1/p' "$CONFIG")"

kind_path() {
  if ! [ -x "$KIND_BIN/kind" ] || ! "$KIND_BIN/kind" version | grep -q "^kind $KIND_VERSION "; then
    mkdir -p "$KIND_BIN"
    timed "kind $KIND_VERSION (go install)" env GOBIN="$KIND_BIN" nice -n 10 go install "sigs.k8s.io/kind@$KIND_VERSION"
  fi
  echo "$KIND_BIN/kind"
}

# PATH for kind: the shim first when this engine cannot start a privileged container.
kind_env_path() {
  local out
  if out="$(docker run --rm --privileged --entrypoint true "$1" 2>&1)"; then
    echo "$PATH"
  else
    case "$out" in
      *"unable to apply caps"*)
        log "this Docker engine cannot start privileged containers ($(echo "$out" | grep -o 'unable to apply caps[^:]*: [a-z ]*' | sed -n 1p)): kind runs through docker-shim"
        echo "$HERE/docker-shim:$PATH"
        ;;
      *) fail "docker run --privileged $1 failed: $out" ;;
    esac
  fi
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  path) kind_path ;;
  create)
    [ "$(uname -s)" = Linux ] || fail "the node image is built on Linux only; use \`make up\` on macOS"
    kind="$(kind_path)"
    image="$(bash "$HERE/build.sh" | tail -n 1)"
    config="$CACHE/kind-$KIND_VERSION/cluster-$CLUSTER.yaml"
    cp "$CONFIG" "$config"
    if [ "$(docker info --format '{{.CgroupVersion}}')" = 1 ]; then
      grep -q '^kubeadmConfigPatches:' "$CONFIG" && fail "$CONFIG has its own kubeadmConfigPatches: merge cgroup-v1.yaml by hand"
      cat "$HERE/cgroup-v1.yaml" >>"$config"
      log "cgroup v1 host: the cluster config adds $HERE/cgroup-v1.yaml"
    fi
    path="$(kind_env_path "$image")"
    PATH="$path" timed "kind create cluster" "$kind" create cluster --image "$image" --config "$config" "$@"
    ;;
  load)
    [ $# -gt 0 ] || fail "usage: kind.sh load IMAGE..."
    kind="$(kind_path)"
    # kind imports the images with `docker exec --privileged` into the node: the shim applies too.
    path="$(kind_env_path "event-pipeline/kind-node:$KUBERNETES_VERSION")"
    PATH="$path" "$kind" load docker-image --name "$CLUSTER" "$@"
    ;;
  delete)
    kind="$(kind_path)"
    "$kind" delete cluster --name "$CLUSTER" "$@"
    # kind leaves its Docker network behind; remove it once no container of any cluster uses it.
    if [ "$(docker network inspect kind --format '{{len .Containers}}' 2>/dev/null)" = 0 ]; then
      docker network rm kind >/dev/null
    fi
    ;;
  *)
    echo "usage: kind.sh create|load|delete|path" >&2
    exit 2
    ;;
esac
