#!/usr/bin/env bash
# SCRAM-SHA-512 for Conduktor Console on the kind cluster of `make up`:
#   1. waits until the Kafka cluster is reconciled and Ready (scripts/kind/wait-kafka.sh);
#      its `dockerscram` listener (port 9097, broker N advertised as
#      host.docker.internal:19292+N, SCRAM-SHA-512) is declared in k8s/kafka/kafka*.yaml, so
#      `make up` deploys it and keeps it; nothing here changes the Kafka resource;
#   2. applies the KafkaUser `conduktor` (kafka-user.yaml) and waits for its Secret;
#   3. writes COMPOSE_FILE, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD into conduktor/.env
#      (CONDUKTOR_ENV_FILE names another file).
# Then `make forward` (it forwards every outside listener, 19292+N included) and
# `docker compose up -d` in conduktor/. Runs on bash 3.2 (stock macOS).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAMESPACE="${NAMESPACE:-event-pipeline}"
KAFKA_CLUSTER="${KAFKA_CLUSTER:-event-kafka}"
USER_NAME=conduktor
ENV_FILE="${CONDUKTOR_ENV_FILE:-$HERE/../.env}"
CONTEXT="${KUBE_CONTEXT:-}"

kc() {
  if [[ -n "$CONTEXT" ]]; then
    kubectl --context "$CONTEXT" -n "$NAMESPACE" "$@"
  else
    kubectl -n "$NAMESPACE" "$@"
  fi
}

kc get "kafka/$KAFKA_CLUSTER" >/dev/null || {
  echo "no Kafka cluster $KAFKA_CLUSTER in namespace $NAMESPACE: run \`make up\` first" >&2
  exit 1
}
listeners=$(kc get "kafka/$KAFKA_CLUSTER" -o jsonpath='{.spec.kafka.listeners[*].name}')
if [[ " $listeners " != *" dockerscram "* ]]; then
  echo "kafka/$KAFKA_CLUSTER has no listener dockerscram: run \`make up\` (k8s/kafka declares it)" >&2
  exit 1
fi
if [[ -n "$CONTEXT" ]]; then
  bash "$HERE/../../scripts/kind/wait-kafka.sh" --context "$CONTEXT" "$NAMESPACE" "$KAFKA_CLUSTER" 900
else
  bash "$HERE/../../scripts/kind/wait-kafka.sh" "$NAMESPACE" "$KAFKA_CLUSTER" 900
fi

kc apply -f "$HERE/kafka-user.yaml"
kc wait "kafkauser/$USER_NAME" --for=condition=Ready --timeout=180s
password=$(kc get "secret/$USER_NAME" -o jsonpath='{.data.password}' | base64 --decode)
[[ -n "$password" ]] || {
  echo "the Secret $USER_NAME has no password" >&2
  exit 1
}

[[ -f "$ENV_FILE" ]] || cp "$HERE/../.env.example" "$ENV_FILE"
set_env() {
  local name="$1" value="$2" rest
  rest=$(grep -v -E "^#?${name}=" "$ENV_FILE" || true)
  printf '%s\n%s=%s\n' "$rest" "$name" "$value" >"$ENV_FILE"
}
set_env COMPOSE_FILE compose.yaml:compose.scram.yaml
set_env KAFKA_SASL_USERNAME "$USER_NAME"
set_env KAFKA_SASL_PASSWORD "$password"
chmod 600 "$ENV_FILE"
echo "$ENV_FILE: COMPOSE_FILE, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD set"
echo "next: \`make forward\` (FORWARD_ADDRESS=0.0.0.0 on Linux), then \`docker compose up -d\` in conduktor/"
