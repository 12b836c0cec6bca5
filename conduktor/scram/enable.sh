#!/usr/bin/env bash
# SCRAM-SHA-512 for Conduktor Console on the kind cluster, in three steps:
#   1. adds the `dockerscram` listener (listener-patch.json: port 9097, broker N advertised as
#      host.docker.internal:19292+N) to the Kafka cluster unless it has it; Strimzi then rolls
#      the brokers, one at a time (a few minutes);
#   2. applies the KafkaUser `conduktor` (kafka-user.yaml) and waits for its Secret;
#   3. writes COMPOSE_FILE, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD into conduktor/.env.
# Then restart `make forward` (it forwards every outside listener the cluster has, the new one
# included) and run `docker compose up -d` in conduktor/.
# `make up` keeps the listener while k8s/kafka/kafka.yaml's listeners stay as they are; after a
# change there, run this again.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAMESPACE="${NAMESPACE:-event-pipeline}"
KAFKA_CLUSTER="${KAFKA_CLUSTER:-event-kafka}"
USER_NAME=conduktor
ENV_FILE="$HERE/../.env"
CONTEXT_ARGS=()
[[ -n "${KUBE_CONTEXT:-}" ]] && CONTEXT_ARGS=(--context "$KUBE_CONTEXT")
kc() { kubectl "${CONTEXT_ARGS[@]}" -n "$NAMESPACE" "$@"; }

kc get "kafka/$KAFKA_CLUSTER" >/dev/null || {
  echo "no Kafka cluster $KAFKA_CLUSTER in namespace $NAMESPACE: run \`make up\` first" >&2
  exit 1
}

listeners=$(kc get "kafka/$KAFKA_CLUSTER" -o jsonpath='{.spec.kafka.listeners[*].name}')
if [[ " $listeners " == *" dockerscram "* ]]; then
  echo "listener dockerscram: present"
else
  echo "listener dockerscram: adding it (Strimzi rolls the brokers; this takes a few minutes)"
  kc patch "kafka/$KAFKA_CLUSTER" --type=json --patch-file "$HERE/listener-patch.json"
  # The operator first notices the change (Ready turns False), then rolls the brokers.
  sleep 20
  kc wait "kafka/$KAFKA_CLUSTER" --for=condition=Ready --timeout=900s
fi

kc apply -f "$HERE/kafka-user.yaml"
kc wait "kafkauser/$USER_NAME" --for=condition=Ready --timeout=180s
password=$(kc get "secret/$USER_NAME" -o jsonpath='{.data.password}' | base64 -d)
[[ -n "$password" ]] || { echo "the Secret $USER_NAME has no password" >&2; exit 1; }

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
echo "conduktor/.env: COMPOSE_FILE, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD set"
echo "next: restart \`make forward\` (FORWARD_ADDRESS=0.0.0.0 on Linux), then \`docker compose up -d\` in conduktor/"
