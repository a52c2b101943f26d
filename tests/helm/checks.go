package main

// Checks on the rendered manifests. Expectations come from two places: the merged values (what the chart was asked to
// render) and, for the Kafka topology, the application's own topic and consumer-group names (expectedConsumers).

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// expectedConsumers is the application's consumer topology: role -> consumer-group suffix -> topic. The groups are
// "<Kafka:GroupPrefix>.<suffix>" (IngestorBase.ConsumerGroup, KnowledgeProcessor/SequenceProcessor.Group); the dllm
// and trainer names follow the same "<prefix>.<role>" convention. KEDA must watch exactly these.
var expectedConsumers = map[string]map[string]string{
	"ingest": {
		"ingest-clicks":      "reaseq.clicks",
		"ingest-items":       "reaseq.item-updates",
		"ingest-impressions": "reaseq.impressions",
	},
	"knowledge": {"knowledge": "reaseq.item-updates", "knowledge-queries": "reaseq.queries"},
	"sequence":  {"sequence": "reaseq.clicks"},
	"dllm":      {"dllm": "reaseq.sequence-gaps", "dllm-train": "reaseq.sequence-gaps"},
	"trainer":   {"trainer": "reaseq.impressions", "trainer-augmented": "reaseq.augmented-sequences"},
}

var allRoles = []string{"ingest", "knowledge", "sequence", "dllm", "trainer", "api"}

var kindAPIVersions = map[string]string{
	"Deployment":              "apps/v1",
	"Service":                 "v1",
	"ServiceAccount":          "v1",
	"ConfigMap":               "v1",
	"PersistentVolumeClaim":   "v1",
	"PodDisruptionBudget":     "policy/v1",
	"HorizontalPodAutoscaler": "autoscaling/v2",
	"ScaledObject":            "keda.sh/v1alpha1",
	"TriggerAuthentication":   "keda.sh/v1alpha1",
	"ServiceMonitor":          "monitoring.coreos.com/v1",
}

var (
	dnsName        = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	reaseqEnvName  = regexp.MustCompile(`^REASEQ__[A-Z][A-Za-z0-9]*(__[A-Za-z0-9][A-Za-z0-9._-]*)+$`)
	secretEnvName  = regexp.MustCompile(`(?i)(password|passwd|secret|api_?key|token|connectionstring|credential)`)
	secretLiterals = regexp.MustCompile(`(?i)(password\s*=|pwd\s*=|-----BEGIN [A-Z ]*PRIVATE KEY-----|sk-[A-Za-z0-9]{16,})`)
)

type checker struct {
	errors []string
	values map[string]interface{}
	docs   []Document
	rel    string
}

func (c *checker) fail(format string, args ...interface{}) {
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}

// --- small accessors over decoded YAML ---

func get(v interface{}, path ...string) interface{} {
	for _, p := range path {
		m, ok := v.(map[string]interface{})
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(v interface{}, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func mapAt(v interface{}, path ...string) map[string]interface{} {
	m, _ := get(v, path...).(map[string]interface{})
	return m
}

func listAt(v interface{}, path ...string) []interface{} {
	l, _ := get(v, path...).([]interface{})
	return l
}

func boolAt(v interface{}, path ...string) (bool, bool) {
	b, ok := get(v, path...).(bool)
	return b, ok
}

func intAt(v interface{}, path ...string) (int, bool) {
	switch x := get(v, path...).(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	}
	return 0, false
}

func scalar(v interface{}) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (c *checker) val(path ...string) interface{} { return get(c.values, path...) }
func (c *checker) valStr(path ...string) string   { return scalar(c.val(path...)) }
func (c *checker) valBool(path ...string) bool    { b, _ := c.val(path...).(bool); return b }

func (c *checker) byKind(kind string) []Document {
	var out []Document
	for _, d := range c.docs {
		if str(d.Obj, "kind") == kind {
			out = append(out, d)
		}
	}
	return out
}

func (c *checker) find(kind, name string) map[string]interface{} {
	for _, d := range c.byKind(kind) {
		if str(d.Obj, "metadata", "name") == name {
			return d.Obj
		}
	}
	return nil
}

func (c *checker) enabledRoles() []string {
	var out []string
	roles := mapAt(c.values, "roles")
	names := make([]string, 0, len(roles))
	for r := range roles {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		if b, _ := boolAt(roles[r], "enabled"); b {
			out = append(out, r)
		}
	}
	return out
}

// deploymentOf finds a role's Deployment by its component label.
func (c *checker) deploymentOf(role string) map[string]interface{} {
	for _, d := range c.byKind("Deployment") {
		if str(d.Obj, "metadata", "labels", "app.kubernetes.io/component") == role {
			return d.Obj
		}
	}
	return nil
}

func labelsMatch(selector, labels map[string]interface{}) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if scalar(labels[k]) != scalar(v) {
			return false
		}
	}
	return true
}

// --- the checks ---

func runChecks(docs []Document, r *Rendered, release string) []string {
	c := &checker{values: r.Values, docs: docs, rel: release}
	c.checkDocuments(r)
	c.checkRoleTopology()
	for _, role := range c.enabledRoles() {
		c.checkDeployment(role)
		c.checkServices(role)
		c.checkPDB(role)
	}
	c.checkDisabledRoles()
	c.checkKEDA()
	c.checkHPA()
	c.checkServiceMonitor()
	c.checkDashboard()
	c.checkModelsPVC()
	c.checkNotes(r.Notes)
	return c.errors
}

func (c *checker) checkDocuments(r *Rendered) {
	for src, text := range r.Manifests {
		for _, bad := range []string{"<no value>", "%!", "map["} {
			if strings.Contains(text, bad) {
				c.fail("%s: rendered text contains %q (a missing value or a formatting error)", src, bad)
			}
		}
		if m := secretLiterals.FindString(text); m != "" {
			c.fail("%s: rendered text contains what looks like a credential (%q); secrets must come from secretKeyRef", src, m)
		}
	}
	seen := map[string]string{}
	for _, d := range c.docs {
		kind, api, name := str(d.Obj, "kind"), str(d.Obj, "apiVersion"), str(d.Obj, "metadata", "name")
		where := fmt.Sprintf("%s (%s %s)", d.Source, kind, name)
		if kind == "" || api == "" || name == "" {
			c.fail("%s: every document needs apiVersion, kind and metadata.name", where)
			continue
		}
		if want, ok := kindAPIVersions[kind]; !ok {
			c.fail("%s: unexpected kind %s", where, kind)
		} else if api != want {
			c.fail("%s: apiVersion %s, want %s", where, api, want)
		}
		if kind == "Secret" {
			c.fail("%s: the chart must not create Secrets; it references existing ones", where)
		}
		if len(name) > 63 || !dnsName.MatchString(name) {
			c.fail("%s: name %q is not a DNS-1123 label of at most 63 characters", where, name)
		}
		key := kind + "/" + name
		if prev, dup := seen[key]; dup {
			c.fail("%s: duplicate %s (also in %s)", where, key, prev)
		}
		seen[key] = d.Source
		labels := mapAt(d.Obj, "metadata", "labels")
		if scalar(labels["app.kubernetes.io/instance"]) != c.rel || scalar(labels["app.kubernetes.io/managed-by"]) != "Helm" {
			c.fail("%s: missing the standard labels app.kubernetes.io/instance=%s and managed-by=Helm", where, c.rel)
		}
	}
}

// checkRoleTopology holds the values' consumers to the application's topology.
func (c *checker) checkRoleTopology() {
	for _, role := range allRoles {
		if c.val("roles", role) == nil {
			c.fail("values: roles.%s is missing", role)
		}
	}
	for role, want := range expectedConsumers {
		got := map[string]string{}
		for _, x := range listAt(c.values, "roles", role, "consumers") {
			got[str(x, "group")] = str(x, "topic")
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			c.fail("values: roles.%s.consumers = %v, the application consumes %v (group suffix: topic)", role, got, want)
		}
	}
	if n := len(listAt(c.values, "roles", "api", "consumers")); n != 0 {
		c.fail("values: the api role consumes no topic, but roles.api.consumers has %d entries", n)
	}
}

func (c *checker) checkDisabledRoles() {
	enabled := map[string]bool{}
	for _, r := range c.enabledRoles() {
		enabled[r] = true
	}
	for _, d := range c.docs {
		role := str(d.Obj, "metadata", "labels", "app.kubernetes.io/component")
		if role != "" && !enabled[role] {
			c.fail("%s %s: belongs to role %s, which is disabled", str(d.Obj, "kind"), str(d.Obj, "metadata", "name"), role)
		}
	}
	if got, want := len(c.byKind("Deployment")), len(enabled); got != want {
		c.fail("%d Deployments rendered for %d enabled roles", got, want)
	}
}

func (c *checker) scaledBy(role string) string {
	if c.valBool("autoscaling", "keda", "enabled") && len(listAt(c.values, "roles", role, "consumers")) > 0 {
		return "keda"
	}
	if c.valBool("autoscaling", "hpa", "enabled") && role == "api" {
		return "hpa"
	}
	return ""
}

func (c *checker) checkDeployment(role string) {
	dep := c.deploymentOf(role)
	if dep == nil {
		c.fail("role %s: no Deployment", role)
		return
	}
	name := str(dep, "metadata", "name")
	where := "Deployment " + name
	if !strings.HasSuffix(name, "-"+role) {
		c.fail("%s: name should end in -%s", where, role)
	}
	_, hasReplicas := get(dep, "spec", "replicas").(int)
	switch c.scaledBy(role) {
	case "":
		want, _ := intAt(c.values, "roles", role, "replicas")
		if got, ok := intAt(dep, "spec", "replicas"); !ok || got != want {
			c.fail("%s: spec.replicas = %v, want %d from roles.%s.replicas", where, get(dep, "spec", "replicas"), want, role)
		}
	default:
		if hasReplicas {
			c.fail("%s: is scaled by %s, so spec.replicas must be left out (it would fight the autoscaler on upgrade)", where, c.scaledBy(role))
		}
	}
	sel := mapAt(dep, "spec", "selector", "matchLabels")
	podLabels := mapAt(dep, "spec", "template", "metadata", "labels")
	if !labelsMatch(sel, podLabels) {
		c.fail("%s: selector %v does not match the pod labels %v", where, sel, podLabels)
	}
	if scalar(sel["app.kubernetes.io/component"]) != role {
		c.fail("%s: selector must include app.kubernetes.io/component=%s (roles must not select each other's pods)", where, role)
	}
	pod := mapAt(dep, "spec", "template", "spec")
	if b, ok := boolAt(pod, "automountServiceAccountToken"); !ok || b {
		c.fail("%s: automountServiceAccountToken should be false", where)
	}

	// Pod security context.
	psc := mapAt(pod, "securityContext")
	if b, _ := boolAt(psc, "runAsNonRoot"); !b {
		c.fail("%s: pod securityContext.runAsNonRoot must be true", where)
	}
	if uid, ok := intAt(psc, "runAsUser"); !ok || uid <= 0 {
		c.fail("%s: pod securityContext.runAsUser must be a non-zero UID", where)
	} else if want, _ := intAt(c.values, "podSecurityContext", "runAsUser"); uid != want {
		c.fail("%s: runAsUser %d, values say %d", where, uid, want)
	}
	if _, ok := intAt(psc, "fsGroup"); !ok {
		c.fail("%s: pod securityContext.fsGroup must be set (volumes must be writable by the app user)", where)
	}

	containers := listAt(pod, "containers")
	if len(containers) != 1 {
		c.fail("%s: expected exactly one container, found %d", where, len(containers))
		return
	}
	ctr := containers[0]

	// Command line.
	var args []string
	for _, a := range listAt(ctr, "args") {
		args = append(args, scalar(a))
	}
	wantArgs := []string{"run", "--roles", role, "--replay", c.valStr("replay")}
	for _, a := range listAt(c.values, "roles", role, "extraArgs") {
		wantArgs = append(wantArgs, scalar(a))
	}
	if strings.Join(args, " ") != strings.Join(wantArgs, " ") {
		c.fail("%s: args %q, want %q", where, args, wantArgs)
	}
	if c.valStr("replay") != "none" {
		c.fail("values: replay is %q; a cluster deployment must not replay data sets (use none)", c.valStr("replay"))
	}
	if get(ctr, "command") != nil {
		c.fail("%s: must not override the image's ENTRYPOINT (/app/reaseq)", where)
	}
	wantImage := c.valStr("image", "repository") + ":"
	if d := c.valStr("image", "digest"); d != "" {
		wantImage = c.valStr("image", "repository") + "@" + d
	}
	if img := str(ctr, "image"); !strings.HasPrefix(img, wantImage) || strings.HasSuffix(img, ":") {
		c.fail("%s: image %q, want %s<tag>", where, img, wantImage)
	}
	if str(ctr, "workingDir") != c.valStr("state", "mountPath") {
		c.fail("%s: workingDir %q, want the state volume %q (relative .state paths live there)", where, str(ctr, "workingDir"), c.valStr("state", "mountPath"))
	}

	// Ports and probes.
	ports := map[string]int{}
	for _, p := range listAt(ctr, "ports") {
		n, _ := intAt(p, "containerPort")
		ports[str(p, "name")] = n
	}
	mgmt, _ := intAt(c.values, "management", "port")
	if ports["management"] != mgmt {
		c.fail("%s: container port 'management' = %d, want management.port %d", where, ports["management"], mgmt)
	}
	if role == "api" {
		want, _ := intAt(c.values, "roles", "api", "http", "port")
		if ports["http"] != want || want == 0 {
			c.fail("%s: container port 'http' = %d, want %d", where, ports["http"], want)
		}
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		p := mapAt(ctr, probe)
		if p == nil {
			c.fail("%s: %s is missing", where, probe)
			continue
		}
		if got := str(p, "httpGet", "path"); got != path {
			c.fail("%s: %s path %q, want %s", where, probe, got, path)
		}
		port := get(p, "httpGet", "port")
		if s, ok := port.(string); ok {
			if ports[s] != mgmt {
				c.fail("%s: %s port %q is not the management port", where, probe, s)
			}
		} else if n, _ := intAt(p, "httpGet", "port"); n != mgmt {
			c.fail("%s: %s port %v is not the management port %d", where, probe, port, mgmt)
		}
	}

	// Resources.
	for _, r := range []string{"requests.cpu", "requests.memory", "limits.memory"} {
		parts := strings.Split(r, ".")
		if scalar(get(ctr, "resources", parts[0], parts[1])) == "" {
			c.fail("%s: resources.%s must be set", where, r)
		}
	}

	// Container security context.
	sc := mapAt(ctr, "securityContext")
	if b, ok := boolAt(sc, "allowPrivilegeEscalation"); !ok || b {
		c.fail("%s: securityContext.allowPrivilegeEscalation must be false", where)
	}
	if b, _ := boolAt(sc, "readOnlyRootFilesystem"); !b {
		c.fail("%s: securityContext.readOnlyRootFilesystem must be true", where)
	}
	if b, ok := boolAt(sc, "privileged"); ok && b {
		c.fail("%s: must not be privileged", where)
	}
	dropsAll := false
	for _, x := range listAt(sc, "capabilities", "drop") {
		if scalar(x) == "ALL" {
			dropsAll = true
		}
	}
	if !dropsAll {
		c.fail("%s: securityContext.capabilities.drop must contain ALL", where)
	}
	if len(listAt(sc, "capabilities", "add")) > 0 {
		c.fail("%s: must not add capabilities", where)
	}
	if str(sc, "seccompProfile", "type") != "RuntimeDefault" && str(psc, "seccompProfile", "type") != "RuntimeDefault" {
		c.fail("%s: seccompProfile RuntimeDefault is required", where)
	}

	// Volumes: writable state and /tmp on a read-only root filesystem.
	volumes := map[string]map[string]interface{}{}
	for _, v := range listAt(pod, "volumes") {
		volumes[str(v, "name")] = v.(map[string]interface{})
	}
	mounts := map[string]string{}
	for _, m := range listAt(ctr, "volumeMounts") {
		mounts[str(m, "mountPath")] = str(m, "name")
		if _, ok := volumes[str(m, "name")]; !ok {
			c.fail("%s: volumeMount %s refers to an undefined volume %q", where, str(m, "mountPath"), str(m, "name"))
		}
	}
	for _, p := range []string{"/tmp", c.valStr("state", "mountPath")} {
		v := volumes[mounts[p]]
		if v == nil {
			c.fail("%s: no writable volume mounted at %s", where, p)
		} else if v["emptyDir"] == nil && v["persistentVolumeClaim"] == nil {
			c.fail("%s: %s must be an emptyDir or a PVC", where, p)
		}
	}
	for n, v := range volumes {
		if s := mapAt(v, "secret"); s != nil && str(s, "secretName") == "" {
			c.fail("%s: secret volume %s without secretName", where, n)
		}
		if v["hostPath"] != nil {
			c.fail("%s: hostPath volume %s is not allowed", where, n)
		}
	}

	c.checkEnv(role, where, ctr, volumes, mounts)
}

type envVar struct {
	value     string
	hasValue  bool
	secretRef map[string]interface{}
	from      map[string]interface{}
}

func (c *checker) checkEnv(role, where string, ctr interface{}, volumes map[string]map[string]interface{}, mounts map[string]string) {
	env := map[string]envVar{}
	for _, e := range listAt(ctr, "env") {
		name := str(e, "name")
		if _, dup := env[name]; dup {
			c.fail("%s: env %s is set twice", where, name)
		}
		v, hasValue := get(e, "value").(string)
		if get(e, "value") != nil && !hasValue {
			c.fail("%s: env %s value must be a string (quote it)", where, name)
		}
		ev := envVar{value: v, hasValue: get(e, "value") != nil, secretRef: mapAt(e, "valueFrom", "secretKeyRef"), from: mapAt(e, "valueFrom")}
		env[name] = ev
		if strings.HasPrefix(name, "REASEQ__") && !reaseqEnvName.MatchString(name) {
			c.fail("%s: env %s does not follow REASEQ__Section__Key", where, name)
		}
		if ev.hasValue && ev.from != nil {
			c.fail("%s: env %s has both value and valueFrom", where, name)
		}
		if secretEnvName.MatchString(name) {
			if ev.hasValue || ev.secretRef == nil {
				c.fail("%s: env %s must come from a Secret via valueFrom.secretKeyRef, never inline", where, name)
			} else if str(ev.secretRef, "name") == "" || str(ev.secretRef, "key") == "" {
				c.fail("%s: env %s secretKeyRef needs name and key", where, name)
			}
		}
		if ev.hasValue && secretLiterals.MatchString(v) {
			c.fail("%s: env %s has a literal credential-like value", where, name)
		}
	}
	literal := func(name, want string) {
		ev, ok := env[name]
		if !ok {
			c.fail("%s: env %s is missing", where, name)
		} else if !ev.hasValue || ev.value != want {
			c.fail("%s: env %s = %q, want %q", where, name, ev.value, want)
		}
	}
	fromSecret := func(name, secret, key string) {
		ev, ok := env[name]
		if !ok {
			c.fail("%s: env %s is missing", where, name)
		} else if ev.secretRef == nil || str(ev.secretRef, "name") != secret || str(ev.secretRef, "key") != key {
			c.fail("%s: env %s must be secretKeyRef %s/%s", where, name, secret, key)
		}
	}
	absent := func(prefix string) {
		for n := range env {
			if strings.HasPrefix(n, prefix) {
				c.fail("%s: env %s should not be set here", where, n)
			}
		}
	}

	if ev := env["REASEQ__Kafka__BootstrapServers"]; ev.value == "" || strings.Contains(ev.value, "{{") {
		c.fail("%s: REASEQ__Kafka__BootstrapServers must be a rendered, non-empty value (got %q)", where, ev.value)
	}
	literal("REASEQ__Kafka__GroupPrefix", c.valStr("kafka", "groupPrefix"))
	fromSecret("REASEQ__Postgres__ConnectionString", c.valStr("postgres", "existingSecret"), c.valStr("postgres", "connectionStringKey"))
	literal(c.valStr("management", "portEnvName"), c.valStr("management", "port"))
	literal("HOME", c.valStr("state", "mountPath"))
	literal("TMPDIR", "/tmp")
	if role == "api" {
		literal(c.valStr("roles", "api", "http", "portEnvName"), c.valStr("roles", "api", "http", "port"))
	}
	if u := c.valStr("kafka", "schemaRegistryUrl"); u != "" {
		literal("REASEQ__Kafka__SchemaRegistryUrl", u)
	} else {
		absent("REASEQ__Kafka__SchemaRegistryUrl")
	}

	protocol := strings.ToUpper(c.valStr("kafka", "security", "protocol"))
	if protocol != "PLAINTEXT" {
		literal("REASEQ__Kafka__Client__security.protocol", protocol)
	}
	if strings.HasPrefix(protocol, "SASL_") {
		secret := c.valStr("kafka", "security", "sasl", "existingSecret")
		literal("REASEQ__Kafka__Client__sasl.mechanism", strings.ToUpper(c.valStr("kafka", "security", "sasl", "mechanism")))
		fromSecret("REASEQ__Kafka__Client__sasl.username", secret, c.valStr("kafka", "security", "sasl", "usernameKey"))
		fromSecret("REASEQ__Kafka__Client__sasl.password", secret, c.valStr("kafka", "security", "sasl", "passwordKey"))
	} else {
		absent("REASEQ__Kafka__Client__sasl.")
	}
	if ca := c.valStr("kafka", "security", "tls", "caSecret"); ca != "" {
		loc := c.valStr("kafka", "security", "tls", "mountPath") + "/" + c.valStr("kafka", "security", "tls", "caKey")
		literal("REASEQ__Kafka__Client__ssl.ca.location", loc)
		vol := volumes[mounts[c.valStr("kafka", "security", "tls", "mountPath")]]
		if str(vol, "secret", "secretName") != ca {
			c.fail("%s: the Kafka CA Secret %s is not mounted at %s", where, ca, c.valStr("kafka", "security", "tls", "mountPath"))
		}
	}

	if c.valBool("qdrant", "enabled") {
		literal("REASEQ__Knowledge__VectorStore__Backend", "qdrant")
		literal("REASEQ__Knowledge__VectorStore__Url", c.valStr("qdrant", "url"))
		if s := c.valStr("qdrant", "apiKey", "existingSecret"); s != "" {
			fromSecret("REASEQ__Knowledge__VectorStore__ApiKey", s, c.valStr("qdrant", "apiKey", "key"))
		}
	} else {
		absent("REASEQ__Knowledge__VectorStore__")
	}

	llmRole := false
	for _, r := range listAt(c.values, "llm", "roles") {
		if scalar(r) == role {
			llmRole = true
		}
	}
	if !llmRole {
		absent("REASEQ__Knowledge__Agents__") // least privilege: only the roles that call the agents get the key
	} else {
		literal("REASEQ__Knowledge__Agents__Backend", c.valStr("llm", "backend"))
		if c.valStr("llm", "backend") == "openai" {
			literal("REASEQ__Knowledge__Agents__OpenAiOptions__BaseUrl", c.valStr("llm", "openai", "endpoint"))
			literal("REASEQ__Knowledge__Agents__OpenAiOptions__Model", c.valStr("llm", "openai", "model"))
			if s := c.valStr("llm", "openai", "apiKey", "existingSecret"); s != "" {
				fromSecret("REASEQ__Knowledge__Agents__OpenAiOptions__ApiKey", s, c.valStr("llm", "openai", "apiKey", "key"))
			}
		} else {
			absent("REASEQ__Knowledge__Agents__OpenAiOptions__")
		}
	}

	if c.valBool("models", "persistence", "enabled") {
		vol := volumes[mounts[c.valStr("models", "mountPath")]]
		if str(vol, "persistentVolumeClaim", "claimName") == "" {
			c.fail("%s: models.persistence is enabled but no PVC is mounted at %s", where, c.valStr("models", "mountPath"))
		}
	}
}

func (c *checker) checkServices(role string) {
	dep := c.deploymentOf(role)
	if dep == nil {
		return
	}
	podLabels := mapAt(dep, "spec", "template", "metadata", "labels")
	mgmt, _ := intAt(c.values, "management", "port")
	var metricsSvc map[string]interface{}
	for _, d := range c.byKind("Service") {
		if str(d.Obj, "metadata", "labels", "app.kubernetes.io/component") == role && str(d.Obj, "metadata", "labels", "reaseq.io/metrics") == "true" {
			metricsSvc = d.Obj
		}
	}
	if metricsSvc == nil {
		c.fail("role %s: no metrics Service (label reaseq.io/metrics=true)", role)
	} else {
		name := str(metricsSvc, "metadata", "name")
		if str(metricsSvc, "spec", "clusterIP") != "None" {
			c.fail("Service %s: the metrics Service should be headless (clusterIP: None)", name)
		}
		if !labelsMatch(mapAt(metricsSvc, "spec", "selector"), podLabels) {
			c.fail("Service %s: selector does not match the %s pods", name, role)
		}
		ok := false
		for _, p := range listAt(metricsSvc, "spec", "ports") {
			port, _ := intAt(p, "port")
			if str(p, "name") == "management" && port == mgmt && scalar(get(p, "targetPort")) == "management" {
				ok = true
			}
		}
		if !ok {
			c.fail("Service %s: needs port 'management' %d -> targetPort management", name, mgmt)
		}
	}
	if role != "api" {
		return
	}
	svc := c.find("Service", str(dep, "metadata", "name"))
	if svc == nil {
		c.fail("role api: no Service named like its Deployment")
		return
	}
	if !labelsMatch(mapAt(svc, "spec", "selector"), podLabels) {
		c.fail("Service %s: selector does not match the api pods", str(svc, "metadata", "name"))
	}
	want, _ := intAt(c.values, "roles", "api", "service", "port")
	ok := false
	for _, p := range listAt(svc, "spec", "ports") {
		port, _ := intAt(p, "port")
		if str(p, "name") == "http" && port == want && scalar(get(p, "targetPort")) == "http" {
			ok = true
		}
	}
	if !ok {
		c.fail("Service %s: needs port http %d -> targetPort http", str(svc, "metadata", "name"), want)
	}
	if t := str(svc, "spec", "type"); t != c.valStr("roles", "api", "service", "type") {
		c.fail("Service %s: type %s, values say %s", str(svc, "metadata", "name"), t, c.valStr("roles", "api", "service", "type"))
	}
}

func (c *checker) checkPDB(role string) {
	dep := c.deploymentOf(role)
	if dep == nil {
		return
	}
	found := false
	for _, d := range c.byKind("PodDisruptionBudget") {
		if str(d.Obj, "metadata", "labels", "app.kubernetes.io/component") != role {
			continue
		}
		found = true
		if !labelsMatch(mapAt(d.Obj, "spec", "selector", "matchLabels"), mapAt(dep, "spec", "template", "metadata", "labels")) {
			c.fail("PodDisruptionBudget %s: selector does not match the %s pods", str(d.Obj, "metadata", "name"), role)
		}
		if get(d.Obj, "spec", "maxUnavailable") == nil && get(d.Obj, "spec", "minAvailable") == nil {
			c.fail("PodDisruptionBudget %s: needs maxUnavailable or minAvailable", str(d.Obj, "metadata", "name"))
		}
	}
	if !found {
		c.fail("role %s: no PodDisruptionBudget", role)
	}
}

func (c *checker) checkKEDA() {
	scaled := c.byKind("ScaledObject")
	auths := c.byKind("TriggerAuthentication")
	if !c.valBool("autoscaling", "keda", "enabled") {
		if len(scaled)+len(auths) > 0 {
			c.fail("autoscaling.keda.enabled is false, but %d ScaledObjects/TriggerAuthentications were rendered", len(scaled)+len(auths))
		}
		return
	}
	prefix := c.valStr("kafka", "groupPrefix")
	protocol := strings.ToUpper(c.valStr("kafka", "security", "protocol"))
	sasl := strings.HasPrefix(protocol, "SASL_")
	tls := protocol == "SSL" || protocol == "SASL_SSL"
	needAuth := sasl || c.valStr("kafka", "security", "tls", "caSecret") != ""
	var bootstrap string
	if dep := c.deploymentOf("ingest"); dep != nil {
		for _, ctr := range listAt(dep, "spec", "template", "spec", "containers") {
			for _, e := range listAt(ctr, "env") {
				if str(e, "name") == "REASEQ__Kafka__BootstrapServers" {
					bootstrap = str(e, "value")
				}
			}
		}
	}
	groupOwner := map[string]string{}
	for _, role := range c.enabledRoles() {
		consumers := listAt(c.values, "roles", role, "consumers")
		var so map[string]interface{}
		for _, d := range scaled {
			if str(d.Obj, "metadata", "labels", "app.kubernetes.io/component") == role {
				so = d.Obj
			}
		}
		if len(consumers) == 0 {
			if so != nil {
				c.fail("ScaledObject %s: role %s consumes no topic", str(so, "metadata", "name"), role)
			}
			continue
		}
		if so == nil {
			c.fail("role %s: KEDA is enabled but it has no ScaledObject", role)
			continue
		}
		where := "ScaledObject " + str(so, "metadata", "name")
		dep := c.deploymentOf(role)
		if dep == nil || str(so, "spec", "scaleTargetRef", "name") != str(dep, "metadata", "name") || str(so, "spec", "scaleTargetRef", "kind") != "Deployment" {
			c.fail("%s: scaleTargetRef %v does not name the %s Deployment", where, get(so, "spec", "scaleTargetRef"), role)
		}
		minR, _ := intAt(so, "spec", "minReplicaCount")
		maxR, ok := intAt(so, "spec", "maxReplicaCount")
		if !ok || maxR < minR || maxR < 1 {
			c.fail("%s: maxReplicaCount %d must be >= minReplicaCount %d and >= 1", where, maxR, minR)
		}
		if parts, _ := intAt(c.values, "kafka", "partitions"); parts > 0 && maxR > parts {
			c.fail("%s: maxReplicaCount %d exceeds kafka.partitions %d (extra consumers would idle)", where, maxR, parts)
		}
		want := map[string]string{}
		for _, x := range consumers {
			want[prefix+"."+str(x, "group")] = str(x, "topic")
		}
		got := map[string]string{}
		for _, t := range listAt(so, "spec", "triggers") {
			tw := fmt.Sprintf("%s trigger %s", where, str(t, "metadata", "consumerGroup"))
			if str(t, "type") != "kafka" {
				c.fail("%s: type %q, want kafka", tw, str(t, "type"))
			}
			md := mapAt(t, "metadata")
			got[str(md, "consumerGroup")] = str(md, "topic")
			if bootstrap == "" || str(md, "bootstrapServers") != bootstrap {
				c.fail("%s: bootstrapServers %q differs from the application's %q", tw, str(md, "bootstrapServers"), bootstrap)
			}
			if _, isString := md["lagThreshold"].(string); !isString {
				c.fail("%s: lagThreshold must be a string", tw)
			}
			if sasl != (str(md, "sasl") != "") {
				c.fail("%s: sasl metadata %q does not match kafka.security.protocol %s", tw, str(md, "sasl"), protocol)
			}
			if sasl {
				mech := map[string]string{"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
				if w := mech[strings.ToUpper(c.valStr("kafka", "security", "sasl", "mechanism"))]; str(md, "sasl") != w {
					c.fail("%s: sasl %q, want %q", tw, str(md, "sasl"), w)
				}
			}
			if tls != (str(md, "tls") == "enable") {
				c.fail("%s: tls metadata %q does not match kafka.security.protocol %s", tw, str(md, "tls"), protocol)
			}
			ref := str(t, "authenticationRef", "name")
			if needAuth {
				if ref == "" {
					c.fail("%s: needs an authenticationRef (SASL/TLS credentials)", tw)
				} else if c.find("TriggerAuthentication", ref) == nil {
					c.fail("%s: authenticationRef %s names no rendered TriggerAuthentication", tw, ref)
				}
			} else if ref != "" {
				c.fail("%s: authenticationRef %s without SASL/TLS", tw, ref)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			c.fail("%s: triggers watch %v, want %v (consumer group: topic)", where, got, want)
		}
		for g := range got {
			if other, dup := groupOwner[g]; dup {
				c.fail("consumer group %s is used by both %s and %s", g, other, role)
			}
			groupOwner[g] = role
		}
	}
	if !needAuth {
		if len(auths) > 0 {
			c.fail("a TriggerAuthentication was rendered without SASL/TLS")
		}
		return
	}
	if len(auths) != 1 {
		c.fail("want one TriggerAuthentication, found %d", len(auths))
		return
	}
	params := map[string]string{}
	for _, r := range listAt(auths[0].Obj, "spec", "secretTargetRef") {
		params[str(r, "parameter")] = str(r, "name") + "/" + str(r, "key")
	}
	if sasl {
		s := c.valStr("kafka", "security", "sasl", "existingSecret")
		if params["username"] != s+"/"+c.valStr("kafka", "security", "sasl", "usernameKey") ||
			params["password"] != s+"/"+c.valStr("kafka", "security", "sasl", "passwordKey") {
			c.fail("TriggerAuthentication: username/password must come from %s (got %v)", s, params)
		}
	}
	if ca := c.valStr("kafka", "security", "tls", "caSecret"); ca != "" && params["ca"] != ca+"/"+c.valStr("kafka", "security", "tls", "caKey") {
		c.fail("TriggerAuthentication: ca must come from %s (got %v)", ca, params)
	}
}

func (c *checker) checkHPA() {
	hpas := c.byKind("HorizontalPodAutoscaler")
	if !c.valBool("autoscaling", "hpa", "enabled") {
		if len(hpas) > 0 {
			c.fail("autoscaling.hpa.enabled is false, but %d HPAs were rendered", len(hpas))
		}
		return
	}
	if len(hpas) != 1 {
		c.fail("autoscaling.hpa.enabled: want one HPA (api), found %d", len(hpas))
		return
	}
	h := hpas[0].Obj
	dep := c.deploymentOf("api")
	if dep == nil || str(h, "spec", "scaleTargetRef", "name") != str(dep, "metadata", "name") {
		c.fail("HPA %s: does not target the api Deployment", str(h, "metadata", "name"))
	}
	minR, _ := intAt(h, "spec", "minReplicas")
	maxR, _ := intAt(h, "spec", "maxReplicas")
	if minR < 1 || maxR < minR {
		c.fail("HPA %s: minReplicas %d / maxReplicas %d", str(h, "metadata", "name"), minR, maxR)
	}
	if len(listAt(h, "spec", "metrics")) == 0 {
		c.fail("HPA %s: no metrics", str(h, "metadata", "name"))
	}
}

func (c *checker) checkServiceMonitor() {
	sms := c.byKind("ServiceMonitor")
	if !c.valBool("metrics", "serviceMonitor", "enabled") {
		if len(sms) > 0 {
			c.fail("metrics.serviceMonitor.enabled is false, but a ServiceMonitor was rendered")
		}
		return
	}
	if len(sms) != 1 {
		c.fail("want one ServiceMonitor, found %d", len(sms))
		return
	}
	sm := sms[0].Obj
	sel := mapAt(sm, "spec", "selector", "matchLabels")
	covered := map[string]bool{}
	for _, d := range c.byKind("Service") {
		if labelsMatch(sel, mapAt(d.Obj, "metadata", "labels")) {
			if str(d.Obj, "metadata", "labels", "reaseq.io/metrics") != "true" {
				c.fail("ServiceMonitor selects the non-metrics Service %s", str(d.Obj, "metadata", "name"))
			}
			covered[str(d.Obj, "metadata", "labels", "app.kubernetes.io/component")] = true
		}
	}
	for _, r := range c.enabledRoles() {
		if !covered[r] {
			c.fail("ServiceMonitor does not select the %s metrics Service", r)
		}
	}
	eps := listAt(sm, "spec", "endpoints")
	if len(eps) == 0 || str(eps[0], "port") != "management" || str(eps[0], "path") != "/metrics" {
		c.fail("ServiceMonitor: endpoint must scrape port management at /metrics")
	}
	for k, v := range mapAt(c.values, "metrics", "serviceMonitor", "labels") {
		if str(sm, "metadata", "labels", k) != scalar(v) {
			c.fail("ServiceMonitor: label %s=%v from values is missing", k, v)
		}
	}
}

func (c *checker) checkDashboard() {
	var cm map[string]interface{}
	for _, d := range c.byKind("ConfigMap") {
		if strings.HasSuffix(str(d.Obj, "metadata", "name"), "-dashboard") {
			cm = d.Obj
		}
	}
	if !c.valBool("metrics", "grafanaDashboard", "enabled") {
		if cm != nil {
			c.fail("metrics.grafanaDashboard.enabled is false, but the dashboard ConfigMap was rendered")
		}
		return
	}
	if cm == nil {
		c.fail("metrics.grafanaDashboard.enabled: no dashboard ConfigMap")
		return
	}
	for k, v := range mapAt(c.values, "metrics", "grafanaDashboard", "labels") {
		if str(cm, "metadata", "labels", k) != scalar(v) {
			c.fail("dashboard ConfigMap: label %s=%v (Grafana sidecar) is missing", k, v)
		}
	}
	var dash map[string]interface{}
	if err := json.Unmarshal([]byte(str(cm, "data", "reaseq.json")), &dash); err != nil {
		c.fail("dashboard ConfigMap: reaseq.json is not valid JSON: %v", err)
		return
	}
	var titles []string
	exprs := ""
	for _, p := range listAt(dash, "panels") {
		titles = append(titles, strings.ToLower(str(p, "title")))
		targets := listAt(p, "targets")
		if len(targets) == 0 {
			c.fail("dashboard: panel %q has no queries", str(p, "title"))
		}
		for _, t := range targets {
			if str(t, "expr") == "" {
				c.fail("dashboard: panel %q has a query without expr", str(p, "title"))
			}
			exprs += str(t, "expr") + "\n"
		}
	}
	all := strings.Join(titles, " | ")
	for _, want := range []string{"records in", "records out", "lag", "dead letters", "freshness", "auc", "gauc", "ib-acc"} {
		if !strings.Contains(all, want) {
			c.fail("dashboard: no panel about %q (panels: %s)", want, all)
		}
	}
	if !strings.Contains(exprs, "by (topic)") {
		c.fail("dashboard: records in/out must be broken down per topic")
	}
}

func (c *checker) checkModelsPVC() {
	pvcs := c.byKind("PersistentVolumeClaim")
	wantPVC := c.valBool("models", "persistence", "enabled") && c.valStr("models", "persistence", "existingClaim") == ""
	if wantPVC != (len(pvcs) == 1) || len(pvcs) > 1 {
		c.fail("models.persistence: want %v PVC, found %d", wantPVC, len(pvcs))
	}
	if wantPVC && len(pvcs) == 1 {
		claim := str(pvcs[0].Obj, "metadata", "name")
		for _, r := range c.enabledRoles() {
			dep := c.deploymentOf(r)
			found := false
			for _, v := range listAt(dep, "spec", "template", "spec", "volumes") {
				if str(v, "persistentVolumeClaim", "claimName") == claim {
					found = true
				}
			}
			if !found {
				c.fail("role %s does not mount the models PVC %s", r, claim)
			}
		}
	}
}

func (c *checker) checkNotes(notes string) {
	if strings.TrimSpace(notes) == "" {
		c.fail("NOTES.txt rendered empty")
	}
	if strings.Contains(notes, "<no value>") || strings.Contains(notes, "%!") {
		c.fail("NOTES.txt contains a missing value or formatting error")
	}
}
