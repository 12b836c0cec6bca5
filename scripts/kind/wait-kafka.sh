#!/usr/bin/env bash
# Waits until Strimzi has reconciled the Kafka resource as it is now: Ready=True *and*
# .status.observedGeneration equal to .metadata.generation. Ready alone is not enough: after
# a change, Strimzi 1.2 keeps the old Ready=True until its reconciliation of the new
# generation ends (it sets NotReady only for a new resource), so `kubectl wait
# --for=condition=Ready` would return at once.
#
#   bash scripts/kind/wait-kafka.sh [--context CONTEXT] NAMESPACE NAME [TIMEOUT_SECONDS]
#
# Used by skaffold.yaml's after-hook (with --context "$SKAFFOLD_KUBE_CONTEXT") and by
# conduktor/scram/enable.sh. Runs on bash 3.2 (stock macOS). WAIT_POLL_SECONDS sets the pace
# (default 5).
set -euo pipefail

context=""
if [[ "${1:-}" == --context ]]; then
  context="${2:-}"
  shift 2
fi
namespace="${1:?usage: wait-kafka.sh [--context CONTEXT] NAMESPACE NAME [TIMEOUT_SECONDS]}"
name="${2:?usage: wait-kafka.sh [--context CONTEXT] NAMESPACE NAME [TIMEOUT_SECONDS]}"
timeout="${3:-900}"
poll="${WAIT_POLL_SECONDS:-5}"

kc() {
  if [[ -n "$context" ]]; then
    kubectl --context "$context" "$@"
  else
    kubectl "$@"
  fi
}

started=$(date +%s)
last=""
while true; do
  state=$(kc -n "$namespace" get "kafka/$name" \
    -o jsonpath='{.metadata.generation} {.status.observedGeneration} {.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  generation="" observed="" ready=""
  read -r generation observed ready <<<"$state" || true
  if [[ -n "$generation" && "$generation" == "$observed" && "$ready" == True ]]; then
    echo "kafka/$name: Ready, generation $generation reconciled"
    exit 0
  fi
  now="generation ${generation:-?}, observed ${observed:-none}, Ready ${ready:-unknown}"
  if [[ "$now" != "$last" ]]; then
    echo "kafka/$name: waiting ($now)"
    last="$now"
  fi
  if (($(date +%s) - started >= timeout)); then
    echo "kafka/$name: not reconciled after ${timeout}s ($now)" >&2
    exit 1
  fi
  sleep "$poll"
done
