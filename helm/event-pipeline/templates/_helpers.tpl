{{/* Name of the chart, overridable. */}}
{{- define "ep.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name: the release name, unless it lacks the chart name. */}}
{{- define "ep.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "ep.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "ep.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ep.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: event-pipeline
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "producer"). */}}
{{- define "ep.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ep.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ep.componentLabels" -}}
{{ include "ep.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ep.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ep.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ep.kafkaUserName" -}}
{{- default (include "ep.fullname" .) .Values.kafka.user.name -}}
{{- end -}}

{{/* Bootstrap servers the services use: the SCRAM listener when the KafkaUser is on. */}}
{{- define "ep.bootstrapServers" -}}
{{- if .Values.kafka.user.enabled -}}
{{- .Values.kafka.user.bootstrapServers -}}
{{- else -}}
{{- .Values.kafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{/* Image reference; `latest` is refused so that a rollout always names what it runs. */}}
{{- define "ep.image" -}}
{{- $image := .image -}}
{{- if eq (toString $image.tag) "latest" -}}
{{- fail (printf "%s.image.tag must not be \"latest\": name the version (skaffold sets the tag it built)" .component) -}}
{{- end -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (toString $image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds = preStop sleep + shutdown deadline + margin, so the kubelet
never kills a service that is still inside its own deadline.
*/}}
{{- define "ep.gracePeriod" -}}
{{- add .preStopSleepSeconds .timeoutSeconds .marginSeconds -}}
{{- end -}}

{{/* Whether to create the monitoring.coreos.com objects. */}}
{{- define "ep.monitoring" -}}
{{- $mode := .Values.monitoring.create -}}
{{- if or (eq $mode "always") (and (eq $mode "auto") (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) -}}
true
{{- end -}}
{{- end -}}

{{/* Ports of the bootstrap servers, for the NetworkPolicy egress rule. */}}
{{- define "ep.kafkaPorts" -}}
{{- $ports := list -}}
{{- range splitList "," (include "ep.bootstrapServers" .) -}}
{{- $ports = append $ports (int (last (splitList ":" (trim .)))) -}}
{{- end -}}
{{- toJson (uniq $ports) -}}
{{- end -}}
