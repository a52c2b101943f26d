{{/*
Helpers shared by the templates. Only Helm built-ins that the chart's render test (tests/helm) implements are used:
include, tpl, toYaml, nindent/indent (sprig), default, required, .Values, .Release, .Chart, .Files.Get.
*/}}

{{- define "reaseq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped base name; role objects append "-<role>" (kept within 63 characters). */}}
{{- define "reaseq.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a role's objects. Call with (dict "root" $ "role" "ingest"). */}}
{{- define "reaseq.roleName" -}}
{{- printf "%s-%s" (include "reaseq.fullname" .root) .role | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "reaseq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "reaseq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reaseq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "reaseq.labels" -}}
helm.sh/chart: {{ include "reaseq.chart" . }}
{{ include "reaseq.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: reaseq
{{- end -}}

{{/* Labels of a role's objects. Call with (dict "root" $ "role" "ingest"). */}}
{{- define "reaseq.roleLabels" -}}
{{ include "reaseq.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "reaseq.roleSelectorLabels" -}}
{{ include "reaseq.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "reaseq.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "reaseq.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "reaseq.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/* The consumer group a role's consumer uses: "<kafka.groupPrefix>.<group>", as the application forms it. */}}
{{- define "reaseq.consumerGroup" -}}
{{- printf "%s.%s" (required "kafka.groupPrefix is required" .root.Values.kafka.groupPrefix) .group -}}
{{- end -}}

{{- define "reaseq.kafka.bootstrapServers" -}}
{{- tpl (required "kafka.bootstrapServers is required: the roles of a cluster deployment must share one Kafka cluster" .Values.kafka.bootstrapServers) . -}}
{{- end -}}

{{- define "reaseq.kafka.saslEnabled" -}}
{{- if hasPrefix "SASL_" (upper .Values.kafka.security.protocol) }}true{{ end -}}
{{- end -}}

{{- define "reaseq.kafka.tlsEnabled" -}}
{{- if or (eq (upper .Values.kafka.security.protocol) "SSL") (eq (upper .Values.kafka.security.protocol) "SASL_SSL") }}true{{ end -}}
{{- end -}}

{{/* KEDA's name for a SASL mechanism. */}}
{{- define "reaseq.kafka.kedaSasl" -}}
{{- $m := upper .Values.kafka.security.sasl.mechanism -}}
{{- if eq $m "PLAIN" -}}plaintext
{{- else if eq $m "SCRAM-SHA-256" -}}scram_sha256
{{- else if eq $m "SCRAM-SHA-512" -}}scram_sha512
{{- else -}}{{ fail (printf "kafka.security.sasl.mechanism %q: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512" .Values.kafka.security.sasl.mechanism) }}
{{- end -}}
{{- end -}}

{{- define "reaseq.kafka.needsTriggerAuth" -}}
{{- if or (include "reaseq.kafka.saslEnabled" .) .Values.kafka.security.tls.caSecret }}true{{ end -}}
{{- end -}}

{{/*
The environment every role gets. Call with (dict "root" $ "role" "ingest").
Names follow REASEQ__Section__Key and the application's option classes:
  Kafka            -> KafkaOptions            (Kafka:BootstrapServers, Kafka:Client:<librdkafka property>, ...)
  Postgres         -> PostgresOptions         (Postgres:ConnectionString)
  Knowledge:VectorStore -> KnowledgeVectorStoreOptions (Backend, Url, ApiKey, CollectionName)
  Knowledge:Agents -> KnowledgeAgentOptions   (Backend, OpenAiOptions:BaseUrl/Model/ApiKey)
*/}}
{{- define "reaseq.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $k := $v.kafka -}}
- name: REASEQ__Kafka__BootstrapServers
  value: {{ include "reaseq.kafka.bootstrapServers" $root | quote }}
- name: REASEQ__Kafka__GroupPrefix
  value: {{ $k.groupPrefix | quote }}
- name: REASEQ__Kafka__Partitions
  value: {{ $k.partitions | quote }}
- name: REASEQ__Kafka__ReplicationFactor
  value: {{ $k.replicationFactor | quote }}
{{- if $k.schemaRegistryUrl }}
- name: REASEQ__Kafka__SchemaRegistryUrl
  value: {{ tpl $k.schemaRegistryUrl $root | quote }}
{{- end }}
{{- if ne (upper $k.security.protocol) "PLAINTEXT" }}
- name: REASEQ__Kafka__Client__security.protocol
  value: {{ upper $k.security.protocol | quote }}
{{- end }}
{{- if include "reaseq.kafka.saslEnabled" $root }}
{{- $secret := required "kafka.security.sasl.existingSecret is required when kafka.security.protocol is SASL_*" $k.security.sasl.existingSecret }}
- name: REASEQ__Kafka__Client__sasl.mechanism
  value: {{ upper $k.security.sasl.mechanism | quote }}
- name: REASEQ__Kafka__Client__sasl.username
  valueFrom:
    secretKeyRef:
      name: {{ $secret | quote }}
      key: {{ $k.security.sasl.usernameKey | quote }}
- name: REASEQ__Kafka__Client__sasl.password
  valueFrom:
    secretKeyRef:
      name: {{ $secret | quote }}
      key: {{ $k.security.sasl.passwordKey | quote }}
{{- end }}
{{- if $k.security.tls.caSecret }}
- name: REASEQ__Kafka__Client__ssl.ca.location
  value: {{ printf "%s/%s" $k.security.tls.mountPath $k.security.tls.caKey | quote }}
{{- end }}
{{- range $key, $value := $k.client }}
- name: {{ printf "REASEQ__Kafka__Client__%s" $key | quote }}
  value: {{ $value | toString | quote }}
{{- end }}
- name: REASEQ__Postgres__ConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ required "postgres.existingSecret is required: a Secret holding the PostgreSQL connection string" $v.postgres.existingSecret | quote }}
      key: {{ $v.postgres.connectionStringKey | quote }}
{{- if $v.qdrant.enabled }}
- name: REASEQ__Knowledge__VectorStore__Backend
  value: "qdrant"
- name: REASEQ__Knowledge__VectorStore__Url
  value: {{ tpl (required "qdrant.url is required when qdrant.enabled" $v.qdrant.url) $root | quote }}
- name: REASEQ__Knowledge__VectorStore__CollectionName
  value: {{ $v.qdrant.collection | quote }}
{{- if $v.qdrant.apiKey.existingSecret }}
- name: REASEQ__Knowledge__VectorStore__ApiKey
  valueFrom:
    secretKeyRef:
      name: {{ $v.qdrant.apiKey.existingSecret | quote }}
      key: {{ $v.qdrant.apiKey.key | quote }}
{{- end }}
{{- end }}
{{- if has .role $v.llm.roles }}
- name: REASEQ__Knowledge__Agents__Backend
  value: {{ $v.llm.backend | quote }}
{{- if eq $v.llm.backend "openai" }}
- name: REASEQ__Knowledge__Agents__OpenAiOptions__BaseUrl
  value: {{ required "llm.openai.endpoint is required when llm.backend is openai" $v.llm.openai.endpoint | quote }}
- name: REASEQ__Knowledge__Agents__OpenAiOptions__Model
  value: {{ required "llm.openai.model is required when llm.backend is openai" $v.llm.openai.model | quote }}
{{- if $v.llm.openai.apiKey.existingSecret }}
- name: REASEQ__Knowledge__Agents__OpenAiOptions__ApiKey
  valueFrom:
    secretKeyRef:
      name: {{ $v.llm.openai.apiKey.existingSecret | quote }}
      key: {{ $v.llm.openai.apiKey.key | quote }}
{{- end }}
{{- end }}
{{- end }}
- name: REASEQ__Logging__LogLevel__Default
  value: {{ $v.logLevel | quote }}
- name: {{ $v.management.portEnvName }}
  value: {{ $v.management.port | quote }}
# The process listens on loopback unless told otherwise; in a pod the kubelet and Prometheus come from outside.
- name: REASEQ__Management__Address
  value: "0.0.0.0"
- name: HOME
  value: {{ $v.state.mountPath | quote }}
- name: TMPDIR
  value: /tmp
{{- end -}}

{{- define "reaseq.modelsClaimName" -}}
{{- default (printf "%s-models" (include "reaseq.fullname" .)) .Values.models.persistence.existingClaim -}}
{{- end -}}
