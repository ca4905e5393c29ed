{{/*
Names and labels.
*/}}
{{- define "granary.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "granary.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of one service's objects: <fullname>-<component>. The full name is cut to 43 characters so that
StatefulSet names stay within 52 (their pods' controller-revision-hash label) and "<name>-headless"
within 63. Call with (dict "root" $ "component" "online").
*/}}
{{- define "granary.componentName" -}}
{{- printf "%s-%s" (include "granary.fullname" .root | trunc 43 | trimSuffix "-") .component }}
{{- end }}

{{- define "granary.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "granary.selectorLabels" -}}
app.kubernetes.io/name: {{ include "granary.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "granary.labels" -}}
helm.sh/chart: {{ include "granary.chart" . }}
{{ include "granary.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: granary
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Call with (dict "root" $ "component" "online"). */}}
{{- define "granary.componentSelectorLabels" -}}
{{ include "granary.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "granary.componentLabels" -}}
{{ include "granary.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "granary.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "granary.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "granary.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{/* host:port other services dial: the Service's DNS name in the release namespace. */}}
{{- define "granary.address" -}}
{{- $svc := index .root.Values .component -}}
{{- printf "%s.%s.svc:%d" (include "granary.componentName" .) .root.Release.Namespace (int $svc.port) }}
{{- end }}

{{/* The base URL of a service's HTTP port, as the console reaches it (https with tls.enabled). */}}
{{- define "granary.httpUrl" -}}
{{- $svc := index .root.Values .component -}}
{{- printf "%s://%s.%s.svc:%d" (ternary "https" "http" (and .root.Values.tls.enabled true)) (include "granary.componentName" .) .root.Release.Namespace (int $svc.httpPort) }}
{{- end }}

{{- define "granary.terminationGracePeriodSeconds" -}}
{{- add .Values.drainDelaySeconds .Values.shutdownGraceSeconds .Values.terminationGraceExtraSeconds }}
{{- end }}

{{/* The DATABASE_URL EnvVar (one mapping: use with fromYaml) for metadata and registry. */}}
{{- define "granary.databaseUrlEnv" -}}
name: DATABASE_URL
valueFrom:
  secretKeyRef:
    name: {{ required "postgres.existingSecret is required: a Secret holding DATABASE_URL (see docs/deploy.md)" .Values.postgres.existingSecret }}
    key: {{ .Values.postgres.secretKey }}
{{- end }}

{{/* The Secret holding the service key and the bootstrap admin key. */}}
{{- define "granary.authSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "granary.fullname" .)) }}
{{- end }}

{{/* "true" when the write log is configured (nats.url or nats.existingSecret), else "". */}}
{{- define "granary.writeLog" -}}
{{- if or .Values.nats.url .Values.nats.existingSecret }}true{{ end }}
{{- end }}

{{/*
The write log's EnvVars for online and offline, a YAML list (use with fromYamlArray); empty without
nats.url and nats.existingSecret. The URL comes from the Secret when one is named.
*/}}
{{- define "granary.natsEnv" -}}
{{- $nats := .Values.nats }}
{{- if include "granary.writeLog" . }}
{{- if $nats.existingSecret }}
- name: GRANARY_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $nats.existingSecret }}
      key: {{ $nats.secretKey }}
{{- else }}
- name: GRANARY_NATS_URL
  value: {{ $nats.url | quote }}
{{- end }}
- name: GRANARY_NATS_STREAM
  value: {{ $nats.stream | quote }}
- name: GRANARY_NATS_SUBJECT_PREFIX
  value: {{ $nats.subjectPrefix | quote }}
- name: GRANARY_NATS_REPLICAS
  value: {{ int $nats.streamReplicas | quote }}
- name: GRANARY_NATS_MAX_AGE_H
  value: {{ int $nats.maxAgeHours | quote }}
{{- else }}
[]
{{- end }}
{{- end }}

{{/* Where the TLS Secret is mounted. */}}
{{- define "granary.tlsDir" -}}
/etc/granary/tls
{{- end }}

{{/*
The pod template every workload shares: security context, probes, config, /tmp, shutdown timing.
Call with (dict "root" $ "component" "online" "env" (list ...) "volumeMounts" (list ...) "volumes" (list ...)):
lists of EnvVar, VolumeMount and Volume added to the common ones. "startupService" (optional) is the
health name the startup probe asks for: "" (the readiness status) by default.
*/}}
{{- define "granary.podTemplate" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $svc := index $values .component -}}
{{- $port := int $svc.port -}}
{{- /* Kubelet's gRPC probes cannot speak TLS: with TLS on they use the cleartext health-only port. */ -}}
{{- $probePort := ternary (int $values.tls.healthPort) $port (and $values.tls.enabled true) -}}
metadata:
  labels:
    {{- include "granary.componentLabels" . | nindent 4 }}
    {{- with $values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- if $values.metrics.enabled }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ int $values.metrics.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "granary.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $values.automountServiceAccountToken }}
  # Service links would put <SERVICE>_PORT=tcp://... variables in the environment, and a Service
  # named granary-metadata would collide with GRANARY_METADATA_PORT.
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ include "granary.terminationGracePeriodSeconds" $root }}
  {{- with $values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ .component }}
      image: {{ include "granary.image" $root }}
      imagePullPolicy: {{ $values.image.pullPolicy }}
      command: ["node", "dist/{{ .component }}.js"]
      ports:
        - name: grpc
          containerPort: {{ $port }}
          protocol: TCP
        - name: http
          containerPort: {{ int $svc.httpPort }}
          protocol: TCP
        {{- if $values.metrics.enabled }}
        - name: metrics
          containerPort: {{ int $values.metrics.port }}
          protocol: TCP
        {{- end }}
        {{- if $values.tls.enabled }}
        - name: health
          containerPort: {{ $probePort }}
          protocol: TCP
        {{- end }}
      envFrom:
        - configMapRef:
            name: {{ include "granary.fullname" $root }}
      env:
        - name: OTEL_SERVICE_NAME
          value: granary-{{ .component }}
        # Connect, gRPC-Web and JSON over HTTP/1.1 and h2c (TLS as the grpc port), for browsers and curl.
        - name: GRANARY_HTTP_PORT
          value: {{ int $svc.httpPort | quote }}
        {{- if $values.metrics.enabled }}
        # Prometheus /metrics on the pod's IP (the NetworkPolicy admits only metrics.from).
        - name: GRANARY_METRICS_PORT
          value: {{ int $values.metrics.port | quote }}
        - name: GRANARY_METRICS_HOST
          value: 0.0.0.0
        {{- with $values.metrics.tokenSecret }}
        - name: GRANARY_METRICS_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ . }}
              key: token
        {{- end }}
        {{- end }}
        # The key the services call each other with; never a literal (auth.existingSecret or the chart's Secret).
        - name: GRANARY_SERVICE_KEY
          valueFrom:
            secretKeyRef:
              name: {{ include "granary.authSecretName" $root }}
              key: {{ $values.auth.serviceKeyKey }}
        {{- with .env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $svc.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      startupProbe:
        grpc:
          port: {{ $probePort }}
          {{- with .startupService }}
          service: {{ . }}
          {{- end }}
        periodSeconds: {{ $values.probes.startup.periodSeconds }}
        timeoutSeconds: {{ $values.probes.startup.timeoutSeconds }}
        failureThreshold: {{ $values.probes.startup.failureThreshold }}
      readinessProbe:
        grpc:
          port: {{ $probePort }}
        periodSeconds: {{ $values.probes.readiness.periodSeconds }}
        timeoutSeconds: {{ $values.probes.readiness.timeoutSeconds }}
        failureThreshold: {{ $values.probes.readiness.failureThreshold }}
        successThreshold: {{ $values.probes.readiness.successThreshold }}
      livenessProbe:
        # grpc.health.v1 under the name "liveness": SERVING while the process answers, whatever
        # PostgreSQL does, so a database outage takes pods out of rotation but never restarts them.
        grpc:
          port: {{ $probePort }}
          service: liveness
        periodSeconds: {{ $values.probes.liveness.periodSeconds }}
        timeoutSeconds: {{ $values.probes.liveness.timeoutSeconds }}
        failureThreshold: {{ $values.probes.liveness.failureThreshold }}
      resources:
        {{- toYaml $svc.resources | nindent 8 }}
      securityContext:
        {{- toYaml $values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $values.tls.enabled }}
        - name: tls
          mountPath: {{ include "granary.tlsDir" $root }}
          readOnly: true
        {{- end }}
        {{- with .volumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      {{- if $values.tmpVolume.sizeLimit }}
      emptyDir:
        sizeLimit: {{ $values.tmpVolume.sizeLimit }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- if $values.tls.enabled }}
    - name: tls
      secret:
        secretName: {{ required "tls.secretName is required when tls.enabled: a Secret with tls.crt and tls.key (docs/deploy.md)" $values.tls.secretName }}
        # 0440: readable by the pod's group (fsGroup), not by others.
        defaultMode: 288
    {{- end }}
    {{- with .volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with ($svc.nodeSelector | default $values.nodeSelector) }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with ($svc.tolerations | default $values.tolerations) }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with ($svc.affinity | default $values.affinity) }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with ($svc.topologySpreadConstraints | default $values.topologySpreadConstraints) }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* A ClusterIP (or other type) Service for one component. Call with (dict "root" $ "component" "online"). */}}
{{- define "granary.service" -}}
{{- $svc := index .root.Values .component -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "granary.componentName" . }}
  labels:
    {{- include "granary.componentLabels" . | nindent 4 }}
  {{- with $svc.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $svc.service.type }}
  selector:
    {{- include "granary.componentSelectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ int $svc.port }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    # No appProtocol: one port speaks HTTP/1.1 and h2c (HTTP/2 with TLS), Connect, gRPC-Web and gRPC.
    - name: http
      port: {{ int $svc.httpPort }}
      targetPort: http
      protocol: TCP
{{- end }}
