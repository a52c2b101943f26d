package main

// A small Helm-compatible renderer: Go text/template + sprig plus the Helm built-ins the chart uses (include, tpl,
// toYaml, fromYaml, toJson, required, fail, .Values, .Release, .Chart, .Capabilities, .Files). lookup is refused: the
// chart must render without a cluster.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v3"
)

// Files is the chart's non-template files, as .Files.
type Files map[string][]byte

// Get returns a file's content, or "" when the chart has no such file (like Helm).
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's content.
func (f Files) GetBytes(name string) []byte { return f[name] }

// APIVersions answers .Capabilities.APIVersions.Has.
type APIVersions []string

// Has reports whether an API group/version (or group/version/kind) is known.
func (a APIVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

// Chart is a loaded chart directory.
type Chart struct {
	Dir       string
	Meta      map[string]interface{} // Chart.yaml
	Values    map[string]interface{} // values.yaml
	Schema    []byte                 // values.schema.json, if any
	Templates map[string]string      // "templates/x.yaml" -> text
	Files     Files
}

// Rendered is the output of one render.
type Rendered struct {
	Manifests map[string]string // template path -> rendered text (partials and NOTES.txt excluded)
	Notes     string
	Values    map[string]interface{}
}

func loadChart(dir string) (*Chart, error) {
	c := &Chart{Dir: dir, Templates: map[string]string{}, Files: Files{}}
	meta, err := readYAMLMap(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	for _, k := range []string{"apiVersion", "name", "version"} {
		if s, _ := meta[k].(string); s == "" {
			return nil, fmt.Errorf("Chart.yaml: %s is required", k)
		}
	}
	c.Meta = meta
	if c.Values, err = readYAMLMap(filepath.Join(dir, "values.yaml")); err != nil {
		return nil, fmt.Errorf("values.yaml: %w", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		c.Schema = b
	}
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if info.IsDir() {
			if strings.HasPrefix(info.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			c.Templates[rel] = string(b)
		} else {
			c.Files[rel] = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.Templates) == 0 {
		return nil, errors.New("the chart has no templates")
	}
	return c, nil
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// mergeValues deep-merges src over dst (Helm's rules: maps merge, everything else replaces, null deletes).
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if v == nil {
			delete(out, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeValues(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	_ = enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

const templateNamePrefix = "chart/"

// render renders the chart with values (already merged) as Helm would for `helm template`.
func render(c *Chart, values map[string]interface{}, releaseName, namespace string) (*Rendered, error) {
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": releaseName, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": map[string]interface{}{
			"Name": c.Meta["name"], "Version": c.Meta["version"], "AppVersion": c.Meta["appVersion"],
			"Description": c.Meta["description"], "Type": c.Meta["type"], "APIVersion": c.Meta["apiVersion"],
			"KubeVersion": c.Meta["kubeVersion"],
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.30.0", "Major": "1", "Minor": "30", "GitVersion": "v1.30.0"},
			"APIVersions": APIVersions{"v1", "apps/v1", "policy/v1", "autoscaling/v2"},
		},
		"Files":    c.Files,
		"Template": map[string]interface{}{"BasePath": templateNamePrefix + "templates"},
	}

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	// Helm removes these for safety.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	funcs["lookup"] = func(...interface{}) (interface{}, error) {
		return nil, errors.New("lookup is not allowed: the chart must render without a cluster")
	}
	includeDepth := 0
	funcs["include"] = func(name string, data interface{}) (string, error) {
		includeDepth++
		defer func() { includeDepth-- }()
		if includeDepth > 100 {
			return "", fmt.Errorf("include %q: recursion too deep", name)
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	tplCount := 0
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		tplCount++
		name := fmt.Sprintf("%stpl-%d", templateNamePrefix, tplCount)
		t, err := clone.New(name).Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %w", err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("tpl: %w", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	root.Funcs(funcs).Option("missingkey=zero")

	names := make([]string, 0, len(c.Templates))
	for n := range c.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := root.New(templateNamePrefix + n).Parse(c.Templates[n]); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
	}

	out := &Rendered{Manifests: map[string]string{}, Values: values}
	for _, n := range names {
		base := filepath.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		// Each template sees .Template.Name, as in Helm.
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": templateNamePrefix + n, "BasePath": templateNamePrefix + "templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, templateNamePrefix+n, data); err != nil {
			return nil, fmt.Errorf("render %s: %w", n, err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			out.Notes = text
			continue
		}
		if !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") && !strings.HasSuffix(base, ".tpl") {
			continue
		}
		out.Manifests[n] = text
	}
	return out, nil
}

// Document is one rendered Kubernetes object.
type Document struct {
	Source string
	Text   string
	Obj    map[string]interface{}
}

// splitDocuments parses every manifest into its YAML documents, skipping empty ones.
func splitDocuments(r *Rendered) ([]Document, error) {
	var docs []Document
	names := make([]string, 0, len(r.Manifests))
	for n := range r.Manifests {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dec := yaml.NewDecoder(strings.NewReader(r.Manifests[n]))
		parts := splitYAMLText(r.Manifests[n])
		i := 0
		for {
			var obj map[string]interface{}
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: invalid YAML: %w\n%s", n, err, numbered(r.Manifests[n]))
			}
			text := ""
			if i < len(parts) {
				text = parts[i]
			}
			i++
			if obj == nil {
				continue
			}
			docs = append(docs, Document{Source: n, Obj: obj, Text: text})
		}
	}
	return docs, nil
}

// splitYAMLText splits a stream on document separators and drops empty/comment-only parts (for writing files).
func splitYAMLText(s string) []string {
	var parts []string
	for _, p := range strings.Split("\n"+s, "\n---") {
		if strings.TrimSpace(stripComments(p)) == "" {
			continue
		}
		parts = append(parts, strings.Trim(p, "\n"))
	}
	return parts
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}

func numbered(s string) string {
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, line)
	}
	return b.String()
}
