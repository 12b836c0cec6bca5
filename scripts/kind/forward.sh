#!/usr/bin/env bash
# `make forward`: port-forwards to the kind deployment until Ctrl-C.
#   producer API          127.0.0.1:8080   (management 8081, consumer management 8082)
#   Kafka, host tools     127.0.0.1:19092+N  -> broker N, listener `host` (advertises 127.0.0.1:19092+N)
#   Kafka, Docker tools   :19192+N           -> broker N, listener `docker` (advertises host.docker.internal:19192+N)
#   Grafana               127.0.0.1:3000   (when the monitoring stack is installed)
# A Kafka client learns every broker's advertised address from the first one it reaches,
# so each broker pod gets its own forward to the port it advertises.
# FORWARD_ADDRESS=0.0.0.0 makes the Kafka forwards reachable from Docker containers on Linux
# (host.docker.internal -> host-gateway); the default keeps them on 127.0.0.1.
set -euo pipefail

NAMESPACE="${NAMESPACE:-event-pipeline}"
KAFKA_CLUSTER="${KAFKA_CLUSTER:-event-kafka}"
ADDRESS="${FORWARD_ADDRESS:-127.0.0.1}"
CONTEXT_ARGS=()
[[ -n "${KUBE_CONTEXT:-}" ]] && CONTEXT_ARGS=(--context "$KUBE_CONTEXT")
kc() { kubectl "${CONTEXT_ARGS[@]}" "$@"; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

forward() {
  local description="$1"
  shift
  echo "forward: $description"
  kc port-forward "$@" >/dev/null &
  pids+=("$!")
}

forward "producer API http://127.0.0.1:8080, management :8081" \
  -n "$NAMESPACE" service/event-pipeline-producer 8080:http 8081:management
forward "consumer management http://127.0.0.1:8082" \
  -n "$NAMESPACE" service/event-pipeline-consumer 8082:management

# Broker pods of the cluster: <cluster>-<pool>-<node id>.
mapfile -t brokers < <(kc -n "$NAMESPACE" get pods \
  -l "strimzi.io/cluster=$KAFKA_CLUSTER,strimzi.io/broker-role=true" \
  -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
[[ ${#brokers[@]} -gt 0 ]] || echo "no Kafka broker pods of $KAFKA_CLUSTER in $NAMESPACE (is the cluster up?)" >&2
for pod in "${brokers[@]}"; do
  id="${pod##*-}"
  forward "Kafka broker $id: host tools $ADDRESS:$((19092 + id)), Docker tools $ADDRESS:$((19192 + id))" \
    -n "$NAMESPACE" --address "$ADDRESS" "pod/$pod" "$((19092 + id)):9094" "$((19192 + id)):9095"
done

if kc -n monitoring get service monitoring-grafana >/dev/null 2>&1; then
  forward "Grafana http://127.0.0.1:3000 (admin / event-pipeline)" -n monitoring service/monitoring-grafana 3000:80
fi

echo "Kafka bootstrap for host tools: 127.0.0.1:19092; Ctrl-C stops the forwards."
wait
