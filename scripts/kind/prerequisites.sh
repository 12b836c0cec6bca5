#!/usr/bin/env bash
# `make prerequisites` (and so `make up`, `make dev`): the tools of the kind path, at versions
# that can run it, and a Docker daemon that answers. Runs on bash 3.2 (stock macOS).
#   skaffold >= 2.19  reads skaffold/v4beta14 (older ones refuse skaffold.yaml; < 2.17 cannot
#                     drive Helm 4's post-renderer)
#   helm 4.x          the chart and skaffold's helm deployer are tested with Helm 4
#   kind >= 0.33.0    lists the kindest/node v1.37.0 image that k8s/kind/cluster.yaml pins
#   kubectl 1.36-1.38 within one minor version of the cluster's Kubernetes 1.37
# PREREQUISITES_SKIP_DOCKER=1 skips the Docker daemon check (the tests use it).
set -euo pipefail

problems=""
problem() { problems="${problems}  $1"$'\n'; }

# The first x.y.z in the text, or nothing.
version_of() { printf '%s\n' "$1" | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1; }

# at_least VERSION MINIMUM: true when VERSION (x.y.z) >= MINIMUM (x.y.z).
at_least() {
  local a1 a2 a3 b1 b2 b3
  IFS=. read -r a1 a2 a3 <<<"$1"
  IFS=. read -r b1 b2 b3 <<<"$2"
  ((a1 != b1)) && { ((a1 > b1)); return; }
  ((a2 != b2)) && { ((a2 > b2)); return; }
  ((a3 >= b3))
}

# check TOOL MINIMUM MAXIMUM_EXCLUSIVE HOW-TO-INSTALL VERSION-COMMAND...
check() {
  local tool="$1" min="$2" below="$3" how="$4" output version
  shift 4
  if ! command -v "$tool" >/dev/null 2>&1; then
    problem "$tool: missing; $how"
    return 0
  fi
  output=$("$@" 2>&1 || true)
  version=$(version_of "$output")
  if [[ -z "$version" ]]; then
    problem "$tool: cannot read its version from \`$*\` ($output); $how"
  elif ! at_least "$version" "$min"; then
    problem "$tool: $version is older than $min; $how"
  elif [[ -n "$below" ]] && at_least "$version" "$below"; then
    problem "$tool: $version is $below or newer, which this repo is not tested with; $how"
  else
    found="${found:+$found, }$tool $version"
  fi
}

found=""
if command -v docker >/dev/null 2>&1; then
  found="docker"
else
  problem "docker: missing; Docker Engine or Docker Desktop"
fi
check kind 0.33.0 "" "go install sigs.k8s.io/kind@v0.33.0 (or your package manager)" kind version
check kubectl 1.36.0 1.39.0 "a kubectl 1.36, 1.37 or 1.38 (within one minor version of Kubernetes 1.37)" \
  kubectl version --client
check helm 4.0.0 5.0.0 "Helm 4: make tools (into .cache/tools/bin), or your package manager" \
  helm version --template '{{.Version}}'
check skaffold 2.19.0 3.0.0 "skaffold v2.19 or newer (it reads skaffold/v4beta14)" skaffold version

if [[ -n "$problems" ]]; then
  printf 'prerequisites:\n%s' "$problems" >&2
  exit 1
fi
if [[ "${PREREQUISITES_SKIP_DOCKER:-}" != 1 ]] && ! docker info >/dev/null 2>&1; then
  echo "prerequisites: docker is installed but the daemon does not answer (is Docker running?)" >&2
  exit 1
fi
echo "prerequisites: $found"
