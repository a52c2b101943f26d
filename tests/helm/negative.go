package main

// Negative cases: values that must be refused, by `required` in the chart, by values.schema.json or by the checks.

import (
	"fmt"
	"os"
	"strings"

	yaml "gopkg.in/yaml.v3"
)

type negativeCase struct {
	name   string
	values string // YAML merged over values.yaml
	want   string // a substring of the error or of one problem
}

var negativeCases = []negativeCase{
	{"empty Kafka bootstrap servers", `kafka: {bootstrapServers: ""}`, "kafka.bootstrapServers is required"},
	{"SASL without a credentials Secret", `kafka: {security: {protocol: SASL_SSL}}`, "kafka.security.sasl.existingSecret is required"},
	{"no PostgreSQL Secret", `postgres: {existingSecret: ""}`, "postgres.existingSecret is required"},
	{"Qdrant without a URL", `qdrant: {enabled: true}`, "qdrant.url is required"},
	{"OpenAI backend without an endpoint", `llm: {backend: openai, openai: {model: m}}`, "llm.openai.endpoint is required"},
	{"unknown SASL mechanism", `kafka: {security: {protocol: SASL_SSL, sasl: {mechanism: GSSAPI, existingSecret: s}}}`, "values.kafka.security.sasl.mechanism"},
	{"a literal password in extra env", `roles: {api: {env: [{name: DB_PASSWORD, value: hunter2}]}}`, "env DB_PASSWORD must come from a Secret"},
	{"a credential in a connection-string-like env", `env: [{name: REASEQ__Other__Dsn, value: "Host=x;Password=y"}]`, "looks like a credential"},
	{"writable root filesystem", `securityContext: {readOnlyRootFilesystem: false}`, "readOnlyRootFilesystem must be true"},
	{"running as root", `podSecurityContext: {runAsNonRoot: false, runAsUser: 0}`, "runAsNonRoot must be true"},
	{"capabilities not dropped", `securityContext: {capabilities: {drop: [NET_RAW]}}`, "capabilities.drop must contain ALL"},
	{"wrong consumer group", `roles: {sequence: {consumers: [{group: seq, topic: reaseq.clicks}]}}`, "roles.sequence.consumers"},
	{"KEDA scaling past the partitions", `{autoscaling: {keda: {enabled: true}}, roles: {ingest: {keda: {maxReplicas: 50}}}}`, "exceeds kafka.partitions"},
	{"missing resources", `roles: {dllm: {resources: null}}`, "roles.dllm.resources is required"},
	{"a secret-looking librdkafka property in kafka.client", `kafka: {client: {sasl.password: x}}`, "key name is not allowed"},
	{"a replayed data set in the cluster", `replay: synthetic`, "must not replay"},
}

func runNegative(chart *Chart, release, namespace string) int {
	failed := 0
	for _, tc := range negativeCases {
		override := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(tc.values), &override); err != nil {
			fmt.Fprintf(os.Stderr, "negative case %q: bad YAML: %v\n", tc.name, err)
			failed++
			continue
		}
		values := mergeValues(chart.Values, override)
		_, _, problems, err := evaluate(chart, values, release, namespace)
		var all []string
		if err != nil {
			all = append(all, err.Error())
		}
		all = append(all, problems...)
		joined := strings.Join(all, "\n")
		switch {
		case len(all) == 0:
			fmt.Fprintf(os.Stderr, "  FAIL %s: accepted, want it refused (%q)\n", tc.name, tc.want)
			failed++
		case !strings.Contains(joined, tc.want):
			fmt.Fprintf(os.Stderr, "  FAIL %s: refused, but not with %q:\n      %s\n", tc.name, tc.want, strings.ReplaceAll(joined, "\n", "\n      "))
			failed++
		default:
			fmt.Printf("  ok   %s: refused (%s)\n", tc.name, firstLine(all, tc.want))
		}
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "helmcheck: %d of %d negative cases failed\n", failed, len(negativeCases))
		return 1
	}
	fmt.Printf("helmcheck: negative cases: all %d refused as expected\n", len(negativeCases))
	return 0
}

func firstLine(all []string, want string) string {
	for _, a := range all {
		if strings.Contains(a, want) {
			i := strings.LastIndex(a, want)
			start, end := i-60, i+len(want)+60
			prefix, suffix := "...", "..."
			if start <= 0 {
				start, prefix = 0, ""
			}
			if end >= len(a) {
				end, suffix = len(a), ""
			}
			return prefix + a[start:end] + suffix
		}
	}
	return all[0]
}
