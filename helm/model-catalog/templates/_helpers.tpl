{{/*
Chart name, truncated to 63 characters (a DNS label).
*/}}
{{- define "model-catalog.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, with the chart name unless the release name
already contains it; truncated to 63 characters.
*/}}
{{- define "model-catalog.fullname" -}}
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
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "model-catalog.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "model-catalog.labels" -}}
helm.sh/chart: {{ include "model-catalog.chart" . }}
{{ include "model-catalog.selectorLabels" . }}
app.kubernetes.io/version: {{ (default .Chart.AppVersion .Values.image.tag) | trunc 63 | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: model-catalog
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: stable for the life of a release.
*/}}
{{- define "model-catalog.selectorLabels" -}}
app.kubernetes.io/name: {{ include "model-catalog.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the ServiceAccount the pods run as.
*/}}
{{- define "model-catalog.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "model-catalog.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository with digest, or with tag (default appVersion).
*/}}
{{- define "model-catalog.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding the hub key; empty when there is none.
*/}}
{{- define "model-catalog.hubKeySecretName" -}}
{{- if .Values.hubApiKey.existingSecret }}
{{- .Values.hubApiKey.existingSecret }}
{{- else if .Values.hubApiKey.value }}
{{- printf "%s-hub-api-key" (include "model-catalog.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding the callers' tokens; empty when there is none.
*/}}
{{- define "model-catalog.authTokensSecretName" -}}
{{- if .Values.authTokens.existingSecret }}
{{- .Values.authTokens.existingSecret }}
{{- else if .Values.authTokens.value }}
{{- printf "%s-auth-tokens" (include "model-catalog.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Name of the snapshot PersistentVolumeClaim.
*/}}
{{- define "model-catalog.snapshotClaimName" -}}
{{- default (printf "%s-snapshot" (include "model-catalog.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
A probe from values: the gRPC health check on the grpc port, or, with TLS on (kubelet
gRPC probes speak plaintext only), a TCP check of the grpc port.
Usage: include "model-catalog.probe" (dict "probe" .Values.readinessProbe "root" .)
*/}}
{{- define "model-catalog.probe" -}}
{{- $probe := deepCopy .probe }}
{{- if hasKey $probe "grpc" }}
{{- if .root.Values.tls.enabled }}
{{- $_ := unset $probe "grpc" }}
{{- $_ := set $probe "tcpSocket" (dict "port" "grpc") }}
{{- else }}
{{- $_ := set $probe "grpc" (merge (dict "port" (int .root.Values.ports.grpc)) $probe.grpc) }}
{{- end }}
{{- end }}
{{- toYaml $probe }}
{{- end }}

{{/*
Fails rendering on values that cannot work together.
*/}}
{{- define "model-catalog.validate" -}}
{{- $grace := .Values.config.shutdown_grace | default "10s" | toString }}
{{- if not (regexMatch "^[0-9]+(s|m)$" $grace) }}
{{- fail (printf "config.shutdown_grace %q: use whole seconds or minutes (e.g. 10s, 1m) so the chart can compare it with terminationGracePeriodSeconds" $grace) }}
{{- end }}
{{- $graceSeconds := int (trimSuffix "s" (trimSuffix "m" $grace)) }}
{{- if hasSuffix "m" $grace }}{{ $graceSeconds = mul $graceSeconds 60 }}{{ end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (add $graceSeconds (int .Values.preStopSleepSeconds)) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed config.shutdown_grace (%s) plus preStopSleepSeconds (%d)" (int .Values.terminationGracePeriodSeconds) $grace (int .Values.preStopSleepSeconds)) }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- range $flag := list "listen" "http_listen" "metrics_listen" "hub_api_key_file" "snapshot_path" "auth_tokens_file" "tls_cert" "tls_key" "tls_client_ca" }}
{{- if hasKey $.Values.config $flag }}
{{- fail (printf "config.%s is set by the chart (from ports, hubApiKey, persistence, authTokens or tls)" $flag) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
--max_hub_response_bytes for the container's memory limit (resources.limits.memory, a
Kubernetes quantity such as 512Mi, 1Gi or 600M), by the server's own rule: two catalogs of
about 3 bytes per byte of the hub's JSON, and 64 MiB of the server's own, fit under the limit,
so (limit - 64 MiB) / 6, and never under 16 MiB. The server derives the same from its cgroup
when the flag is 0; set by the chart, the value shows in the pod spec. Empty without a limit.
*/}}
{{- define "model-catalog.maxHubResponseBytes" -}}
{{- $memory := toString (dig "limits" "memory" "" (.Values.resources | default dict)) }}
{{- if $memory }}
{{- $digits := regexFind "^[0-9]+" $memory }}
{{- $unit := trimPrefix $digits $memory }}
{{- $units := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 }}
{{- if or (not $digits) (not (hasKey $units $unit)) }}
{{- fail (printf "resources.limits.memory %q: write a whole number with one of the units Ki, Mi, Gi, Ti, k, M, G, T (or none), or set config.max_hub_response_bytes" $memory) }}
{{- end }}
{{- $bytes := mul (int64 $digits) (get $units $unit) }}
{{- max 16777216 (div (sub $bytes 67108864) 6) }}
{{- end }}
{{- end }}
