// Command helmcheck renders the ReaSeq Helm chart without helm (Go text/template + sprig and the few Helm built-ins
// the chart uses) and validates the manifests: structure, security, probes, secrets only via secretKeyRef, the Kafka
// consumer topology KEDA scales on, and values.schema.json.
//
//	helmcheck -chart helm/reaseq -out DIR [-f override.yaml ...] [-release NAME] [-namespace NS]
//	helmcheck -chart helm/reaseq -negative      # values that must be refused are refused
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	chartDir := flag.String("chart", "helm/reaseq", "chart directory")
	out := flag.String("out", "", "write the rendered manifests here (one file per template, plus all.yaml and NOTES.txt)")
	release := flag.String("release", "reaseq", "release name")
	namespace := flag.String("namespace", "reaseq", "release namespace")
	negative := flag.Bool("negative", false, "run the negative cases instead: values the chart or the checks must refuse")
	var files multiFlag
	flag.Var(&files, "f", "values file deep-merged over values.yaml (repeatable, later wins)")
	flag.Parse()

	chart, err := loadChart(*chartDir)
	if err != nil {
		fatal("load chart %s: %v", *chartDir, err)
	}
	if *negative {
		os.Exit(runNegative(chart, *release, *namespace))
	}
	values := chart.Values
	for _, f := range files {
		override, err := readYAMLMap(f)
		if err != nil {
			fatal("values file %s: %v", f, err)
		}
		values = mergeValues(values, override)
	}
	label := "default values"
	if len(files) > 0 {
		label = "values.yaml + " + strings.Join(files, " + ")
	}
	docs, rendered, problems, err := evaluate(chart, values, *release, *namespace)
	if err != nil {
		fatal("%s: %v", label, err)
	}
	if *out != "" && rendered != nil {
		if err := writeOut(*out, rendered, docs); err != nil {
			fatal("write %s: %v", *out, err)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "helmcheck: %s: %d problem(s):\n", label, len(problems))
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "  - %s\n", p)
		}
		os.Exit(1)
	}
	kinds := map[string]int{}
	for _, d := range docs {
		kinds[str(d.Obj, "kind")]++
	}
	var summary []string
	for k, n := range kinds {
		summary = append(summary, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(summary)
	fmt.Printf("helmcheck: %s: OK, %d objects (%s)%s\n", label, len(docs), strings.Join(summary, ", "), outNote(*out))
}

func outNote(out string) string {
	if out == "" {
		return ""
	}
	return "; manifests in " + out
}

// evaluate validates values against the schema, renders, parses and checks. err: the chart could not be rendered or
// parsed; problems: what the schema and the checks found.
func evaluate(chart *Chart, values map[string]interface{}, release, namespace string) ([]Document, *Rendered, []string, error) {
	var problems []string
	if chart.Schema == nil {
		problems = append(problems, "the chart has no values.schema.json")
	} else {
		schemaErrors, err := validateSchema(chart.Schema, values)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, e := range schemaErrors {
			problems = append(problems, "values.schema.json: "+e)
		}
	}
	rendered, err := render(chart, values, release, namespace)
	if err != nil {
		return nil, nil, problems, err
	}
	docs, err := splitDocuments(rendered)
	if err != nil {
		return nil, rendered, problems, err
	}
	problems = append(problems, runChecks(docs, rendered, release)...)
	return docs, rendered, problems, nil
}

func writeOut(dir string, r *Rendered, docs []Document) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var all strings.Builder
	names := make([]string, 0, len(r.Manifests))
	for n := range r.Manifests {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		parts := splitYAMLText(r.Manifests[n])
		if len(parts) == 0 {
			continue
		}
		var b strings.Builder
		for _, p := range parts {
			fmt.Fprintf(&b, "---\n# Source: %s/%s\n%s\n", "reaseq", n, strings.TrimPrefix(p, "---\n"))
		}
		all.WriteString(b.String())
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(n, "/", "_")), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(all.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "NOTES.txt"), []byte(r.Notes), 0o644)
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "helmcheck: "+format+"\n", args...)
	os.Exit(1)
}
