package main

// A deliberately small JSON Schema (draft-07 subset) validator: type, required, properties, additionalProperties,
// items, enum, const, minimum, maximum, minLength, pattern, contains, not, propertyNames. Enough to hold the chart's
// values to values.schema.json without a full implementation; unknown keywords are ignored (reported once).

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

type schemaValidator struct {
	errors  []string
	unknown map[string]bool
}

var knownKeywords = map[string]bool{
	"$schema": true, "title": true, "description": true, "type": true, "required": true, "properties": true,
	"additionalProperties": true, "items": true, "enum": true, "const": true, "minimum": true, "maximum": true,
	"minLength": true, "pattern": true, "contains": true, "not": true, "propertyNames": true, "default": true,
}

// validateSchema validates values (decoded YAML) against schema (JSON text).
func validateSchema(schemaText []byte, values interface{}) ([]string, error) {
	var schema map[string]interface{}
	if err := json.Unmarshal(schemaText, &schema); err != nil {
		return nil, fmt.Errorf("values.schema.json is not valid JSON: %w", err)
	}
	// Normalise the values through JSON so numbers and maps look like the schema's.
	b, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	sv := &schemaValidator{unknown: map[string]bool{}}
	sv.check(schema, v, "values")
	var unknown []string
	for k := range sv.unknown {
		unknown = append(unknown, k)
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		return sv.errors, fmt.Errorf("values.schema.json uses keywords this checker does not implement: %s", strings.Join(unknown, ", "))
	}
	return sv.errors, nil
}

func (sv *schemaValidator) fail(path, format string, args ...interface{}) {
	sv.errors = append(sv.errors, path+": "+fmt.Sprintf(format, args...))
}

func jsonType(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeMatches(want string, v interface{}) bool {
	got := jsonType(v)
	return got == want || (want == "number" && got == "integer")
}

// matches reports whether v satisfies schema without recording errors.
func (sv *schemaValidator) matches(schema map[string]interface{}, v interface{}) bool {
	probe := &schemaValidator{unknown: sv.unknown}
	probe.check(schema, v, "")
	return len(probe.errors) == 0
}

func (sv *schemaValidator) check(schema map[string]interface{}, v interface{}, path string) {
	for k := range schema {
		if !knownKeywords[k] {
			sv.unknown[k] = true
		}
	}
	switch t := schema["type"].(type) {
	case string:
		if !typeMatches(t, v) {
			sv.fail(path, "is %s, want %s", jsonType(v), t)
			return
		}
	case []interface{}:
		ok := false
		for _, x := range t {
			if s, _ := x.(string); typeMatches(s, v) {
				ok = true
			}
		}
		if !ok {
			sv.fail(path, "is %s, want one of %v", jsonType(v), t)
			return
		}
	}
	if enum, ok := schema["enum"].([]interface{}); ok {
		found := false
		for _, e := range enum {
			if reflect.DeepEqual(e, v) {
				found = true
			}
		}
		if !found {
			sv.fail(path, "%v is not one of %v", v, enum)
		}
	}
	if c, ok := schema["const"]; ok && !reflect.DeepEqual(c, v) {
		sv.fail(path, "must be %v, is %v", c, v)
	}
	if n, ok := v.(float64); ok {
		if m, ok := schema["minimum"].(float64); ok && n < m {
			sv.fail(path, "%v is below the minimum %v", n, m)
		}
		if m, ok := schema["maximum"].(float64); ok && n > m {
			sv.fail(path, "%v is above the maximum %v", n, m)
		}
	}
	if s, ok := v.(string); ok {
		if m, ok := schema["minLength"].(float64); ok && float64(len([]rune(s))) < m {
			sv.fail(path, "must not be empty (minLength %v)", m)
		}
		if p, ok := schema["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				sv.fail(path, "schema pattern %q does not compile: %v", p, err)
			} else if !re.MatchString(s) {
				sv.fail(path, "%q does not match %q", s, p)
			}
		}
	}
	if not, ok := schema["not"].(map[string]interface{}); ok && sv.matches(not, v) {
		sv.fail(path, "matches a forbidden shape (%v)", describe(not))
	}
	if obj, ok := v.(map[string]interface{}); ok {
		if req, ok := schema["required"].([]interface{}); ok {
			for _, r := range req {
				if _, present := obj[r.(string)]; !present {
					sv.fail(path, "required key %q is missing", r)
				}
			}
		}
		props, _ := schema["properties"].(map[string]interface{})
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := path + "." + k
			if pn, ok := schema["propertyNames"].(map[string]interface{}); ok && !sv.matches(pn, k) {
				sv.fail(child, "key name is not allowed (%v)", describe(pn))
			}
			if ps, ok := props[k].(map[string]interface{}); ok {
				sv.check(ps, obj[k], child)
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case bool:
				if !ap {
					sv.fail(child, "is not an allowed key")
				}
			case map[string]interface{}:
				sv.check(ap, obj[k], child)
			}
		}
	}
	if arr, ok := v.([]interface{}); ok {
		if items, ok := schema["items"].(map[string]interface{}); ok {
			for i, x := range arr {
				sv.check(items, x, fmt.Sprintf("%s[%d]", path, i))
			}
		}
		if contains, ok := schema["contains"].(map[string]interface{}); ok {
			found := false
			for _, x := range arr {
				if sv.matches(contains, x) {
					found = true
				}
			}
			if !found {
				sv.fail(path, "must contain an item matching %v", describe(contains))
			}
		}
	}
}

func describe(schema map[string]interface{}) string {
	b, _ := json.Marshal(schema)
	if len(b) > 160 {
		return string(b[:160]) + "..."
	}
	return string(b)
}
