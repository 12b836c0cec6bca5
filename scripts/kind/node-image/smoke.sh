#!/usr/bin/env bash
# Creates the kind cluster from the node image built here (kind.sh create), checks that it works,
# and deletes it, also when a check fails (Linux only). Not in CI yet.
#
#   bash scripts/kind/node-image/smoke.sh
#
# Checks: the node Ready; every pod of kube-system and local-path-storage Ready; no image pulled
# (every Pulled event says "already present"); a pod resolves kubernetes.default and reaches the
# API server's Service; a PVC of the default StorageClass binds and a pod writes to it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

CACHE="${EVENT_PIPELINE_CACHE:-$HOME/.cache/event-pipeline}"
CONTEXT=kind-event-pipeline
kubectl() { "$CACHE/node-kubernetes-$KUBERNETES_VERSION/bin/kubectl" --context "$CONTEXT" "$@"; }

trap 'timed "kind delete cluster" bash "$HERE/kind.sh" delete' EXIT
bash "$HERE/kind.sh" create --wait 3m

start=$(date +%s)
kubectl wait --for=condition=Ready node --all --timeout=120s
for namespace in kube-system local-path-storage; do
  kubectl -n "$namespace" wait --for=condition=Ready pod --all --timeout=180s
done
log "system pods Ready $(($(date +%s) - start)) s after kind returned"
kubectl get pods -A -o wide

pulled="$(kubectl get events -A --field-selector reason=Pulled -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')"
if echo "$pulled" | grep -v 'already present' | grep -q .; then
  echo "$pulled" >&2
  fail "an image was pulled"
fi

# A Debian image that the node has preloaded (the storage provisioner's helper).
image="$(kubectl -n local-path-storage get configmap local-path-config -o jsonpath='{.data.helperPod\.yaml}' | sed -nE 's/^ *image: *([^ ]+).*/\1/p')"
[ -n "$image" ] || fail "no helper image in local-path-config"
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: smoke, namespace: default }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Mi } } }
---
apiVersion: v1
kind: Pod
metadata: { name: smoke, namespace: default }
spec:
  restartPolicy: Never
  containers:
    - name: smoke
      image: $image
      imagePullPolicy: Never
      command:
        - bash
        - -c
        - getent hosts kubernetes.default.svc.cluster.local && timeout 5 bash -c 'exec 3<>/dev/tcp/kubernetes.default/443' && echo written >/data/file && cat /data/file
      volumeMounts: [{ name: data, mountPath: /data }]
  volumes: [{ name: data, persistentVolumeClaim: { claimName: smoke } }]
YAML
kubectl -n default wait --for=jsonpath='{.status.phase}'=Succeeded pod/smoke --timeout=120s ||
  {
    kubectl -n default describe pod smoke >&2 || true
    kubectl -n default logs smoke >&2 || true
    fail "the smoke pod did not succeed"
  }
kubectl -n default logs smoke
log "smoke test passed"
