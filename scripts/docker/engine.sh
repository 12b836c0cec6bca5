#!/usr/bin/env bash
# A Docker Engine for the container tests and CI (Linux; bash 3.2-compatible).
#
#   bash scripts/docker/engine.sh start    use the engine that answers; if none does, install
#                                          Debian's docker.io (root, apt-get) and start dockerd
#   bash scripts/docker/engine.sh stop     stop the dockerd that `start` started, and only that
#   bash scripts/docker/engine.sh status   say which engine answers, and whose it is
#
# On a machine whose Docker already runs (Docker Desktop, a system service) nothing is
# installed, started or stopped: `start` says so and `stop` leaves it alone.
#
# The engine started here keeps its data root, and so every image it built, under
# ~/.cache/event-pipeline/docker-<engine version> (EVENT_PIPELINE_CACHE moves the folder):
# a fresh clone on the same machine reuses the images, a new machine builds them again.
# It listens on the default socket, so the docker CLI, Compose and kind find it unchanged.
# `stop` ends dockerd (which stops its containers and its containerd), then checks that no
# process or mount of it is left, removes its bridge and puts back the iptables rules.
set -euo pipefail

CACHE="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}"
STATE="$CACHE/docker-engine.state"
IPTABLES_BEFORE="$CACHE/docker-engine.iptables"
SOCKET=/var/run/docker.sock
EXEC_ROOT=/run/event-pipeline-docker
START_TIMEOUT_S=60
STOP_TIMEOUT_S=60

log() { echo "docker engine: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

answers() { docker info >/dev/null 2>&1; }

engine_version() { dockerd --version | sed -E 's/^Docker version ([^ ,+]+).*/\1/'; }

install_engine() {
  if command -v dockerd >/dev/null 2>&1; then return 0; fi
  [ "$(uname -s)" = Linux ] || fail "no Docker engine answers: start Docker Desktop (or your engine) and try again"
  [ "$(id -u)" = 0 ] || fail "no Docker engine answers and dockerd is not installed: install Docker Engine, or run this as root on Debian/Ubuntu to install docker.io"
  command -v apt-get >/dev/null 2>&1 || fail "no Docker engine answers and there is no apt-get to install docker.io: install Docker Engine"
  log "installing Debian's docker.io"
  # The package's own service is not wanted (and there may be no init system): this script
  # starts and stops dockerd itself.
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io iptables >/dev/null
}

start() {
  if answers; then
    if [ -f "$STATE" ] && kill -0 "$(cat "$STATE")" 2>/dev/null; then
      log "dockerd $(cat "$STATE") started by this script answers"
    else
      log "using the Docker engine that answers on this machine (not started here; left as it is)"
    fi
    return 0
  fi
  [ -S "$SOCKET" ] && [ ! -f "$STATE" ] && [ "$(id -u)" != 0 ] &&
    fail "$SOCKET exists but does not answer: is your user allowed to use Docker?"
  install_engine
  command -v docker >/dev/null 2>&1 || fail "dockerd is installed but the docker CLI is not"

  local dir
  dir="$CACHE/docker-$(engine_version)"
  mkdir -p "$dir/data" "$EXEC_ROOT"
  rm -f "$STATE"
  if command -v iptables-save >/dev/null 2>&1; then iptables-save >"$IPTABLES_BEFORE" 2>/dev/null || rm -f "$IPTABLES_BEFORE"; fi
  log "starting dockerd (data root $dir/data, log $dir/dockerd.log)"
  # setsid: dockerd and its containerd leave the caller's process group, so a Ctrl-C or a
  # timeout that kills the test run does not kill them halfway; `stop` ends them.
  setsid dockerd \
    --data-root "$dir/data" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$EXEC_ROOT/dockerd.pid" \
    --host "unix://$SOCKET" \
    >>"$dir/dockerd.log" 2>&1 </dev/null &
  echo $! >"$STATE"
  local waited=0
  until answers; do
    if ! kill -0 "$(cat "$STATE")" 2>/dev/null; then
      rm -f "$STATE"
      tail -n 20 "$dir/dockerd.log" >&2
      fail "dockerd exited during start-up (log above: $dir/dockerd.log)"
    fi
    [ "$waited" -lt "$START_TIMEOUT_S" ] || fail "dockerd did not answer within ${START_TIMEOUT_S} s (log: $dir/dockerd.log)"
    sleep 1
    waited=$((waited + 1))
  done
  log "dockerd $(cat "$STATE") answers: $(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}') after ${waited} s"
}

stop() {
  if [ ! -f "$STATE" ]; then
    log "no dockerd started by this script; nothing stopped"
    return 0
  fi
  local pid waited=0
  pid="$(cat "$STATE")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd $pid"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do
      [ "$waited" -lt "$STOP_TIMEOUT_S" ] || {
        log "dockerd $pid still runs after ${STOP_TIMEOUT_S} s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
        break
      }
      sleep 1
      waited=$((waited + 1))
    done
  fi
  rm -f "$STATE"
  # What a stopped dockerd can leave behind: its managed containerd and shims, mounts under
  # the exec root and data root, the default bridge and its iptables chains.
  local left
  left="$(pgrep -f "$EXEC_ROOT|containerd-shim.*moby" || true)"
  if [ -n "$left" ]; then
    log "processes left by dockerd ($left): SIGKILL"
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $left 2>/dev/null || true
  fi
  grep -E " ($EXEC_ROOT|$CACHE/docker-[^ ]*/data)" /proc/mounts | awk '{print $2}' | sort -r |
    while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  if ip link show docker0 >/dev/null 2>&1; then ip link delete docker0 2>/dev/null || true; fi
  # dockerd adds NAT and forwarding rules and never removes them: put back the rules as
  # they were before it started.
  if [ -f "$IPTABLES_BEFORE" ]; then
    iptables-restore <"$IPTABLES_BEFORE" 2>/dev/null || log "could not restore the iptables rules saved in $IPTABLES_BEFORE"
    rm -f "$IPTABLES_BEFORE"
  fi
  if grep -qE " ($EXEC_ROOT|$CACHE/docker-[^ ]*/data)" /proc/mounts; then
    fail "mounts of dockerd are still there: $(grep -E " ($EXEC_ROOT|$CACHE/docker-)" /proc/mounts | awk '{print $2}' | tr '\n' ' ')"
  fi
  log "stopped; no process, mount or bridge of it is left"
}

status() {
  if ! answers; then
    echo "no Docker engine answers"
    return 1
  fi
  if [ -f "$STATE" ] && kill -0 "$(cat "$STATE")" 2>/dev/null; then
    echo "dockerd $(cat "$STATE"), started by scripts/docker/engine.sh"
  else
    echo "a Docker engine of this machine's (not started by this script)"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: bash scripts/docker/engine.sh start|stop|status" >&2
    exit 2
    ;;
esac
