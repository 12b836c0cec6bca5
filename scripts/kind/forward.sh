#!/usr/bin/env bash
# `make forward`: port-forwards to the kind deployment, supervised, until Ctrl-C.
#   producer API          127.0.0.1:8080   (management 8081, consumer management 8082)
#   Kafka, host tools     127.0.0.1:19092+N  -> broker N, listener `host` (advertises 127.0.0.1:19092+N)
#   Kafka, Docker tools   :19192+N           -> broker N, listener `docker` (advertises host.docker.internal:19192+N)
#                         :19292+N           -> broker N, listener `dockerscram` (SCRAM-SHA-512, for
#                                               conduktor/scram; k8s/kafka declares it)
#   Grafana               127.0.0.1:3000   (when the monitoring stack is installed)
#
# A Kafka client learns every broker's advertised address from the first one it reaches, so
# each broker pod gets its own forward, to the ports its listeners advertise. The Kafka ports
# come from the live Kafka resource: every listener whose brokers advertise 127.0.0.1,
# localhost or host.docker.internal is forwarded, broker N's advertisedPort to the listener's
# port in broker N's pod.
#
# Supervision: one `kubectl port-forward` per target pod (each broker; one ready pod of the
# producer, of the consumer and of Grafana). Every FORWARD_POLL_SECONDS (default 2) each target
# is checked; a forward is restarted when its kubectl exited, or when its pod was replaced,
# restarted a container, or stopped being ready (a Service's forward then moves to another
# ready pod). Ctrl-C (or SIGTERM) stops them all.
#
# Runs on bash 3.2 (stock macOS): no associative arrays, no expansion of a possibly empty array
# (tests/chart/scripts.test.ts checks every script for the constructs bash 3.2 lacks).
#
# FORWARD_ADDRESS: where the Kafka forwards listen (default 127.0.0.1). A container of Docker
# Engine on Linux reaches the host through host.docker.internal -> host-gateway (the docker0
# bridge address), so there use FORWARD_ADDRESS=0.0.0.0, or the narrower
# FORWARD_ADDRESS=127.0.0.1,172.17.0.1. Docker Desktop reaches 127.0.0.1 by itself.
set -uo pipefail

NAMESPACE="${NAMESPACE:-event-pipeline}"
RELEASE="${RELEASE:-event-pipeline}"
KAFKA_CLUSTER="${KAFKA_CLUSTER:-event-kafka}"
ADDRESS="${FORWARD_ADDRESS:-127.0.0.1}"
POLL="${FORWARD_POLL_SECONDS:-2}"
LOG_DIR="${FORWARD_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/forward.XXXXXX")}"
CONTEXT="${KUBE_CONTEXT:-}"
kc() {
  if [[ -n "$CONTEXT" ]]; then
    kubectl --context "$CONTEXT" "$@"
  else
    kubectl "$@"
  fi
}
say() { printf '[forward] %s\n' "$*"; }

# The Kafka forwards always listen on 127.0.0.1 too (the `host` listener is for host tools).
KAFKA_ADDRESS="$ADDRESS"
[[ ",$ADDRESS," == *,0.0.0.0,* || ",$ADDRESS," == *,127.0.0.1,* ]] || KAFKA_ADDRESS="127.0.0.1,$ADDRESS"

# The state of each slot (a forward: api, consumer, grafana, broker-N), field by field, in
# variables named S_<field>_<slot>: get FIELD SLOT prints it, put FIELD SLOT VALUE sets it.
SLOTS=""
slot_var() {
  local slot="$2"
  printf 'S_%s_%s' "$1" "${slot//[^A-Za-z0-9]/_}"
}
get() {
  local var
  var=$(slot_var "$1" "$2")
  eval "printf '%s' \"\${$var:-}\""
}
put() {
  local var
  var=$(slot_var "$1" "$2")
  eval "$var=\$3"
  [[ " $SLOTS " == *" $2 "* ]] || SLOTS="$SLOTS $2"
}

stop_slot() {
  local slot="$1" pid
  pid=$(get PID "$slot")
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  put PID "$slot" ""
}

cleanup() {
  trap - EXIT INT TERM
  for slot in $SLOTS; do stop_slot "$slot"; done
  say "stopped"
  exit 0
}
trap cleanup EXIT INT TERM

# "uid restarts ready" of a pod, or nothing when it does not exist; ready is true only when
# the pod is Running, not terminating, and every container is ready.
pod_identity() {
  local ns="$1" pod="$2" out
  out=$(kc -n "$ns" get pod "$pod" -o jsonpath='{.metadata.uid} {.metadata.deletionTimestamp} {.status.phase} {range .status.containerStatuses[*]}{.restartCount},{.ready};{end}' 2>/dev/null) || return 0
  [[ -n "$out" ]] || return 0
  local uid deletion phase containers restarts=0 ready=true
  read -r uid deletion phase containers <<<"$out"
  # No deletionTimestamp: the fields shift left by one.
  if [[ "$deletion" == Running || "$deletion" == Pending || "$deletion" == Succeeded || "$deletion" == Failed || "$deletion" == Unknown ]]; then
    containers="$phase"
    phase="$deletion"
    deletion=""
  fi
  [[ -z "$deletion" && "$phase" == Running && -n "$containers" ]] || ready=false
  local entry
  # "restarts,ready;" per container; neither part has spaces or glob characters.
  for entry in ${containers//;/ }; do
    [[ -n "$entry" ]] || continue
    restarts=$((restarts + ${entry%%,*}))
    [[ "${entry##*,}" == true ]] || ready=false
  done
  echo "$uid $restarts $ready"
}

# A ready pod behind a Service (the current one while it stays ready), or nothing.
service_pod() {
  local ns="$1" service="$2" current="$3" selector pods pod
  selector=$(kc -n "$ns" get service "$service" -o jsonpath='{.spec.selector}' 2>/dev/null) || return 0
  selector=$(sed -e 's/[{}"]//g' -e 's/:/=/g' <<<"$selector")
  [[ -n "$selector" ]] || return 0
  if [[ -n "$current" && "$(pod_identity "$ns" "$current")" == *" true" ]]; then
    echo "$current"
    return 0
  fi
  pods=$(kc -n "$ns" get pods -l "$selector" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null) || return 0
  for pod in $pods; do
    if [[ "$(pod_identity "$ns" "$pod")" == *" true" ]]; then
      echo "$pod"
      return 0
    fi
  done
}

# One supervised forward: SLOT NAMESPACE POD ADDRESS DESCRIPTION PORT...
supervise() {
  local slot="$1" ns="$2" pod="$3" address="$4" description="$5"
  shift 5
  local identity="" pid old_identity old_pod old_ports
  pid=$(get PID "$slot")
  old_identity=$(get IDENTITY "$slot")
  old_pod=$(get POD "$slot")
  old_ports=$(get PORTS "$slot")
  [[ -n "$pod" ]] && identity=$(pod_identity "$ns" "$pod")
  local running=false
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && running=true
  if [[ "$running" == true && "$identity" == "$old_identity" && "$pod" == "$old_pod" && "$*" == "$old_ports" ]]; then
    return 0
  fi
  if [[ -n "$pid" ]]; then
    if [[ "$running" == true && "$*" != "$old_ports" ]]; then
      say "$description: ports changed ($old_ports -> $*), restarting"
    elif [[ "$running" == true ]]; then
      say "$description: pod/$old_pod changed (${old_identity:-?} -> ${identity:-gone}), restarting"
    else
      say "$description: kubectl port-forward to pod/$old_pod ended, restarting ($(tail -n 1 "$LOG_DIR/$slot.log" 2>/dev/null))"
    fi
    stop_slot "$slot"
  fi
  put IDENTITY "$slot" "$identity"
  put POD "$slot" "$pod"
  put PORTS "$slot" "$*"
  if [[ -z "$pod" || "$identity" != *" true" ]]; then
    [[ "$(get WAITING "$slot")" == yes ]] || say "$description: waiting for a ready pod${pod:+ ($pod)}"
    put WAITING "$slot" yes
    return 0
  fi
  put WAITING "$slot" no
  # kubectl itself, not the kc function: a backgrounded function is a subshell, and killing
  # that would leave kubectl running.
  if [[ -n "$CONTEXT" ]]; then
    kubectl --context "$CONTEXT" -n "$ns" port-forward --address "$address" "pod/$pod" "$@" \
      >"$LOG_DIR/$slot.log" 2>&1 &
  else
    kubectl -n "$ns" port-forward --address "$address" "pod/$pod" "$@" >"$LOG_DIR/$slot.log" 2>&1 &
  fi
  put PID "$slot" "$!"
  say "$description: pod/$pod $* on $address (pid $!)"
}

# Every outside listener of the Kafka resource: lines "name port broker@host:port ...".
kafka_listeners() {
  kc -n "$NAMESPACE" get "kafka/$KAFKA_CLUSTER" \
    -o jsonpath='{range .spec.kafka.listeners[*]}{.name} {.port}{range .configuration.brokers[*]} {.broker}@{.advertisedHost}:{.advertisedPort}{end}{"\n"}{end}' 2>/dev/null
}

# "local:remote ..." for broker ID from the listener lines on stdin.
broker_ports() {
  local id="$1" _name port entry broker host rest mappings=""
  while read -r _name port rest; do
    for entry in $rest; do
      broker="${entry%%@*}"
      host="${entry#*@}"
      host="${host%:*}"
      [[ "$broker" == "$id" ]] || continue
      case "$host" in
        127.0.0.1 | localhost | host.docker.internal) mappings="${mappings:+$mappings }${entry##*:}:$port" ;;
      esac
    done
  done
  echo "$mappings"
}

service_slot() {
  local slot="$1" ns="$2" service="$3" description="$4"
  shift 4
  local pod
  pod=$(service_pod "$ns" "$service" "$(get POD "$slot")")
  supervise "$slot" "$ns" "$pod" 127.0.0.1 "$description" "$@"
}

say "namespace $NAMESPACE, Kafka cluster $KAFKA_CLUSTER, Kafka forwards on $KAFKA_ADDRESS; logs in $LOG_DIR"
kc -n "$NAMESPACE" get "kafka/$KAFKA_CLUSTER" >/dev/null 2>&1 ||
  say "no Kafka cluster $KAFKA_CLUSTER in namespace $NAMESPACE yet (is \`make up\` done?); waiting"
has_grafana=false
kc -n monitoring get service monitoring-grafana >/dev/null 2>&1 && has_grafana=true
announced=""
while true; do
  service_slot api "$NAMESPACE" "$RELEASE-producer" "producer API http://127.0.0.1:8080, management :8081" 8080:http 8081:management
  service_slot consumer "$NAMESPACE" "$RELEASE-consumer" "consumer management http://127.0.0.1:8082" 8082:management
  [[ "$has_grafana" == true ]] &&
    service_slot grafana monitoring monitoring-grafana "Grafana http://127.0.0.1:3000 (admin / event-pipeline)" 3000:3000

  listeners=$(kafka_listeners)
  brokers=$(kc -n "$NAMESPACE" get pods -l "strimzi.io/cluster=$KAFKA_CLUSTER,strimzi.io/broker-role=true" \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null)
  for pod in $brokers; do
    id="${pod##*-}"
    ports=$(broker_ports "$id" <<<"$listeners")
    if [[ -z "$ports" ]]; then
      [[ "$(get WAITING "broker-$id")" == none ]] || say "Kafka broker $id: no outside listener advertises it"
      put WAITING "broker-$id" none
      continue
    fi
    # shellcheck disable=SC2086 # "local:remote" words, meant to split
    supervise "broker-$id" "$NAMESPACE" "$pod" "$KAFKA_ADDRESS" "Kafka broker $id" $ports
  done
  if [[ -z "$announced" && -n "$brokers" ]]; then
    say "Kafka bootstrap for host tools: 127.0.0.1:19092; for Docker containers: host.docker.internal:19192. Ctrl-C stops the forwards."
    announced=yes
  fi
  sleep "$POLL" &
  wait $! 2>/dev/null
done
