# Helpers shared by the node-image scripts (sourced; bash 3.2).
# shellcheck shell=bash

log() { echo "node-image: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

# Prints "<what>: <seconds> s" after running the rest of the arguments.
timed() {
  local what="$1" start
  shift
  start=$(date +%s)
  "$@"
  log "$what: $(($(date +%s) - start)) s"
}

# A writable copy of a module's source from the Go module proxy (the module cache is read-only),
# kept under the cache's src/ so that a second build reuses it. Prints its path.
module_src() {
  local module="$1" version="$2" dir
  dir="$(go mod download -json "$module@$version" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
  [ -n "$dir" ] || fail "go mod download $module@$version gave no directory"
  local copy="${NODE_IMAGE_SRC:-${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}/node-image-src}/$(echo "$module" | tr / _)@$version"
  if [ ! -f "$copy/.copied" ]; then
    rm -rf "$copy"
    mkdir -p "$copy"
    cp -R "$dir/." "$copy/"
    chmod -R u+w "$copy"
    touch "$copy/.copied"
  fi
  echo "$copy"
}

# go_build SRC OUT PACKAGE [go build flags...]: builds PACKAGE of the main module in SRC, nice'd
# (the machines this runs on are shared). Modules come from the proxy (-mod=mod): a module's
# vendor directory, when it ships one, is not in its module zip.
go_build() {
  local src="$1" out="$2" pkg="$3"
  shift 3
  (cd "$src" && CGO_ENABLED="${CGO_ENABLED:-0}" GOFLAGS="-trimpath -buildvcs=false -mod=mod" \
    nice -n 10 go build "$@" -o "$out" "$pkg")
}

# docker build with the legacy builder (it pulls nothing for a `# syntax=` line), quiet: its
# deprecation notice is dropped, its output shown only when the build fails.
docker_build() {
  local errors
  errors="$(mktemp)"
  if ! DOCKER_BUILDKIT=0 nice -n 10 docker build -q "$@" >/dev/null 2>"$errors"; then
    cat "$errors" >&2
    rm -f "$errors"
    fail "docker build $* failed"
  fi
  rm -f "$errors"
}
