# The kind path: a local Kubernetes cluster with Strimzi Kafka and both services.
#   make up        create the kind cluster if absent, deploy everything, wait, print how to reach it
#   make dev       skaffold dev of the services only: rebuild and redeploy them on every change
#                  (the platform of `make up` stays; Ctrl-C leaves the services deployed)
#   make forward   port-forwards to the API, the Kafka brokers and Grafana (until Ctrl-C)
#   make down      delete the kind cluster
#   make test      the CI tests (npm test)
#   make e2e       the end-to-end tests against the kind cluster
# Options: KAFKA=light (one-node Kafka), MONITORING=1 (Prometheus + Grafana).
# Tools: docker, kind, kubectl, helm, skaffold (`make prerequisites` checks their versions).
# `make tools` installs Helm into .cache/tools/bin, which this Makefile puts first on PATH.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CLUSTER ?= event-pipeline
KUBE_CONTEXT := kind-$(CLUSTER)
NAMESPACE := event-pipeline
KAFKA ?= default
MONITORING ?= 0
export PATH := $(CURDIR)/.cache/tools/bin:$(PATH)

comma := ,
empty :=
space := $(empty) $(empty)
PROFILES := $(strip $(if $(filter light,$(KAFKA)),light) $(if $(filter 1 true yes,$(MONITORING)),monitoring))
PROFILE_FLAG := $(if $(PROFILES),--profile $(subst $(space),$(comma),$(PROFILES)))
SKAFFOLD := skaffold --kube-context $(KUBE_CONTEXT) $(PROFILE_FLAG)

.PHONY: help prerequisites cluster up dev forward down test e2e tools

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  options: KAFKA=light (one-node Kafka), MONITORING=1 (Prometheus + Grafana), CLUSTER=$(CLUSTER)"

prerequisites: ## check docker, kind, kubectl, helm and skaffold (versions too) and that Docker runs
	@bash scripts/kind/prerequisites.sh

cluster: prerequisites ## create the kind cluster unless it exists
	@if kind get clusters 2>/dev/null | grep -qx '$(CLUSTER)'; then \
	  echo "kind cluster $(CLUSTER) exists"; \
	else \
	  kind create cluster --name $(CLUSTER) --config k8s/kind/cluster.yaml --wait 120s; \
	fi

up: cluster ## cluster + Strimzi + Kafka + services (KAFKA=light, MONITORING=1), then how to reach them
	$(SKAFFOLD) run --status-check=true
	kubectl --context $(KUBE_CONTEXT) -n $(NAMESPACE) rollout status deployment/event-pipeline-producer --timeout=300s
	kubectl --context $(KUBE_CONTEXT) -n $(NAMESPACE) rollout status deployment/event-pipeline-consumer --timeout=300s
	@echo
	@echo "event-pipeline runs in kind cluster $(CLUSTER), namespace $(NAMESPACE)."
	@echo "  API:     kubectl --context $(KUBE_CONTEXT) -n $(NAMESPACE) port-forward service/event-pipeline-producer 8080:http"
	@echo "           curl -X POST http://127.0.0.1:8080/v1/topics/events/messages -H 'content-type: application/json' -d '{\"messages\":[{\"value\":{\"hello\":\"kind\"}}]}'"
	@echo "  all forwards (API, Kafka for tools, Grafana): make forward"
	@$(if $(filter monitoring,$(PROFILES)),echo "  Grafana: kubectl --context $(KUBE_CONTEXT) -n monitoring port-forward service/monitoring-grafana 3000:80  (admin / event-pipeline)",true)

# Only the services' config (-m): without it skaffold dev would deploy Strimzi, Kafka and the
# monitoring stack too, and delete them when it exits. --cleanup=false leaves the services as
# dev last deployed them, so `make forward`, `make e2e` and Conduktor keep working after Ctrl-C.
dev: cluster ## skaffold dev of the services only (after make up): rebuild and redeploy on change
	$(SKAFFOLD) dev --module event-pipeline --cleanup=false --port-forward

forward: ## port-forward the API (8080), Kafka for tools (19092+N, 19192+N, SCRAM 19292+N) and Grafana (3000)
	KUBE_CONTEXT=$(KUBE_CONTEXT) NAMESPACE=$(NAMESPACE) bash scripts/kind/forward.sh

down: ## delete the kind cluster (and everything in it)
	kind delete cluster --name $(CLUSTER)

test: ## the CI test suite (npm test)
	npm test

e2e: ## end-to-end tests against the kind cluster (npm run e2e)
	KUBE_CONTEXT=$(KUBE_CONTEXT) npm run e2e

# Only Helm: the chart test tools (promtool comes from Debian's packages) are for `npm test`
# on Linux, where `bash scripts/tools/install.sh` installs them all.
tools: ## install Helm 4 into .cache/tools/bin (needs Go; works on Linux and macOS)
	bash scripts/tools/install.sh helm
