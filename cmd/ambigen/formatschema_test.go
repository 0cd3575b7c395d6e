package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// TestFormatSchemaAcceptsWhatAmbigenAccepts checks the JSON Schema that editors use for
// messages.yaml (schema/ambigen.schema.json, reflected from ambigen's own types) with an
// independent validator: every schema ambigen accepts validates, and the mistakes an editor should
// underline do not.
func TestFormatSchemaAcceptsWhatAmbigenAccepts(t *testing.T) {
	path := filepath.Join(repoRoot, "schema", "ambigen.schema.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("ambigen.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("ambigen.schema.json")
	if err != nil {
		t.Fatalf("schema/ambigen.schema.json is not a valid JSON Schema: %v", err)
	}
	check := func(src []byte) error {
		var v any
		if err := yaml.Unmarshal(src, &v); err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		return sch.Validate(inst)
	}

	valid := []string{filepath.Join(repoRoot, "schema", "messages.yaml")}
	for _, dir := range cases(t) {
		if _, err := os.Stat(filepath.Join(dir, "schema.go.golden")); err == nil {
			valid = append(valid, filepath.Join(dir, "schema.yaml"))
		}
	}
	for _, f := range valid {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(src); err != nil {
			t.Errorf("%s: ambigen accepts it, the format schema does not:\n%v", f, err)
		}
	}

	for _, bad := range []string{
		"messages:\n  chat: {from: both, payload: string, dco: misspelt}\n",
		"messages:\n  chat: {from: everyone, payload: string}\n",
		"messages:\n  chat: {payload: string}\n",
		"types:\n  T: {fields: {a: {type: int, optional: maybe}}}\n",
		"types:\n  T: {fields: {a: {type: string, maxLength: -1}}}\n",
		"types:\n  T: {fields: {a: {type: string, pattern: 3}}}\n",
		"types:\n  T: {fields: {a: {type: list<int>, items: {maxItem: 3}}}}\n",
		"types:\n  T: {type: string, maxLenght: 3}\n",
		"extra: 1\n",
	} {
		if err := check([]byte(bad)); err == nil {
			t.Errorf("the format schema accepts a schema ambigen refuses:\n%s", bad)
		}
	}
}
