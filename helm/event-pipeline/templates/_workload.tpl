{{/*
The settings of one service as environment variables: what the chart derives from its
structured values (Kafka, ports, topics, shutdown deadline) and the service's `env` map.
The schema forbids the derived names in `env`, so the two cannot disagree.
Called with (dict "root" $ "component" "producer" "svc" .Values.producer).
*/}}
{{- define "ep.configData" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $topics := $root.Values.kafka.topics -}}
KAFKA_BROKERS: {{ include "ep.bootstrapServers" $root | quote }}
{{- if $root.Values.kafka.user.enabled }}
KAFKA_SASL_MECHANISM: "scram-sha-512"
KAFKA_SASL_USERNAME: {{ include "ep.kafkaUserName" $root | quote }}
{{- else }}
KAFKA_SASL_MECHANISM: "none"
{{- end }}
MANAGEMENT_PORT: {{ $svc.managementPort | quote }}
SHUTDOWN_TIMEOUT_MS: {{ mul $svc.shutdown.timeoutSeconds 1000 | quote }}
TOPICS: {{ $topics.events.name | quote }}
{{- if eq .component "producer" }}
{{- include "ep.checkProduceTimeout" $svc }}
HTTP_PORT: {{ $svc.httpPort | quote }}
{{- if $svc.apiKeys.existingSecret }}
API_KEYS_FILE: {{ printf "/etc/event-pipeline/api-keys/%s" $svc.apiKeys.key | quote }}
{{- end }}
{{- else }}
CONSUMER_GROUP_ID: {{ $svc.groupId | quote }}
DLQ_TOPIC: {{ $topics.deadLetter.name | quote }}
{{- end }}
{{- range $name, $value := $svc.env }}
{{ $name }}: {{ toString $value | quote }}
{{- end }}
{{- end -}}

{{/*
The producer refuses to start unless PRODUCE_TIMEOUT_MS < SHUTDOWN_TIMEOUT_MS (requests in
flight must finish within the shutdown deadline; services/common/config.ts), so a values
file that breaks the rule fails here instead of crash-looping the pods. 10000 is the
service's default of PRODUCE_TIMEOUT_MS.
*/}}
{{- define "ep.checkProduceTimeout" -}}
{{- $produce := 10000 -}}
{{- if hasKey .env "PRODUCE_TIMEOUT_MS" -}}
{{- $produce = int (toString (index .env "PRODUCE_TIMEOUT_MS")) -}}
{{- end -}}
{{- $deadline := mul .shutdown.timeoutSeconds 1000 -}}
{{- if ge (int64 $produce) (int64 $deadline) -}}
{{- fail (printf "producer.shutdown.timeoutSeconds (%v) must be above PRODUCE_TIMEOUT_MS (%v ms%s): the producer refuses to start otherwise, since the requests in flight must finish before the shutdown deadline" .shutdown.timeoutSeconds $produce (ternary "" ", the default" (hasKey .env "PRODUCE_TIMEOUT_MS"))) -}}
{{- end -}}
{{- end -}}

{{- define "ep.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "ep.fullname" .root }}-{{ .component }}
  labels:
    {{- include "ep.componentLabels" . | nindent 4 }}
data:
  {{- include "ep.configData" . | nindent 2 }}
{{- end -}}

{{- define "ep.deployment" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $name := printf "%s-%s" (include "ep.fullname" $root) .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "ep.componentLabels" . | nindent 4 }}
spec:
  {{- if not $svc.hpa.enabled }}
  replicas: {{ $svc.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "ep.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "ep.componentLabels" . | nindent 8 }}
        {{- with $svc.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # A change of configuration changes this hash and so rolls the pods.
        checksum/config: {{ include "ep.configData" . | sha256sum }}
        {{- with $svc.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "ep.serviceAccountName" $root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      # preStop sleep + in-process shutdown deadline + margin (computed, see values).
      terminationGracePeriodSeconds: {{ include "ep.gracePeriod" $svc.shutdown }}
      {{- with $svc.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ $root.Values.runAsUser }}
        runAsGroup: {{ $root.Values.runAsGroup }}
        fsGroup: {{ $root.Values.runAsGroup }}
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ .component }}
          image: {{ include "ep.image" (dict "image" $svc.image "component" .component) | quote }}
          imagePullPolicy: {{ $svc.image.pullPolicy }}
          ports:
            {{- if eq .component "producer" }}
            - name: http
              containerPort: {{ $svc.httpPort }}
              protocol: TCP
            {{- end }}
            - name: management
              containerPort: {{ $svc.managementPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $name }}
          {{- if $root.Values.kafka.user.enabled }}
          env:
            - name: KAFKA_SASL_PASSWORD
              valueFrom:
                secretKeyRef:
                  # Created by the Strimzi User Operator for the KafkaUser of this chart.
                  name: {{ include "ep.kafkaUserName" $root }}
                  key: password
          {{- end }}
          startupProbe:
            httpGet: {path: /livez, port: management}
            {{- toYaml $svc.probes.startup | nindent 12 }}
          readinessProbe:
            httpGet: {path: /readyz, port: management}
            {{- toYaml $svc.probes.readiness | nindent 12 }}
          livenessProbe:
            httpGet: {path: /livez, port: management}
            {{- toYaml $svc.probes.liveness | nindent 12 }}
          lifecycle:
            preStop:
              # The kubelet's own sleep: no shell needed in the image.
              sleep:
                seconds: {{ $svc.shutdown.preStopSleepSeconds }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            privileged: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            runAsUser: {{ $root.Values.runAsUser }}
            runAsGroup: {{ $root.Values.runAsGroup }}
            capabilities:
              drop: [ALL]
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if and (eq .component "producer") $svc.apiKeys.existingSecret }}
            - name: api-keys
              mountPath: /etc/event-pipeline/api-keys
              readOnly: true
            {{- end }}
      volumes:
        # The root filesystem is read-only; /tmp is the only writable place.
        - name: tmp
          emptyDir:
            sizeLimit: 16Mi
        {{- if and (eq .component "producer") $svc.apiKeys.existingSecret }}
        - name: api-keys
          secret:
            secretName: {{ $svc.apiKeys.existingSecret }}
            items:
              - key: {{ $svc.apiKeys.key }}
                path: {{ $svc.apiKeys.key }}
        {{- end }}
      {{- with $svc.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      affinity:
        {{- if $svc.affinity }}
        {{- toYaml $svc.affinity | nindent 8 }}
        {{- else }}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "ep.selectorLabels" . | nindent 20 }}
        {{- end }}
      {{- with $svc.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{- define "ep.service" -}}
{{- $svc := .svc -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "ep.fullname" .root }}-{{ .component }}
  labels:
    {{- include "ep.componentLabels" . | nindent 4 }}
  {{- with $svc.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $svc.service.type | default "ClusterIP" }}
  selector:
    {{- include "ep.selectorLabels" . | nindent 4 }}
  ports:
    {{- if eq .component "producer" }}
    - name: http
      port: {{ $svc.service.port }}
      targetPort: http
      protocol: TCP
    {{- end }}
    # /metrics for Prometheus; the probes use the same container port.
    - name: management
      port: {{ $svc.managementPort }}
      targetPort: management
      protocol: TCP
{{- end -}}

{{- define "ep.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "ep.fullname" .root }}-{{ .component }}
  labels:
    {{- include "ep.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .svc.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "ep.selectorLabels" . | nindent 6 }}
{{- end -}}

{{- define "ep.hpa" -}}
{{- $hpa := .svc.hpa -}}
{{- if gt (int $hpa.minReplicas) (int $hpa.maxReplicas) -}}
{{- fail (printf "%s.hpa.minReplicas must not exceed maxReplicas" .component) -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "ep.fullname" .root }}-{{ .component }}
  labels:
    {{- include "ep.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "ep.fullname" .root }}-{{ .component }}
  minReplicas: {{ $hpa.minReplicas }}
  maxReplicas: {{ $hpa.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $hpa.targetCPUUtilizationPercentage }}
  behavior:
    scaleDown:
      # Scaling the consumer down rebalances the group; do it slowly.
      stabilizationWindowSeconds: 300
{{- end -}}
