package spec

import (
	"regexp"
	"strings"
	"testing"
)

// fingerprintBase is the schema every case below varies.
const fingerprintBase = `messages:
  chat: {from: both, payload: string, doc: A line.}
  add:
    from: client
    payload: {a: int, b: int}
    reply: int
  post: {from: server, payload: Post}
  tree: {from: server, payload: Tree}
types:
  Post:
    doc: A post.
    fields:
      text: string
      when: {type: timestamp, optional: true, doc: When.}
      mood: Mood
  Mood: {enum: [happy, sad]}
  Tree: {fields: {name: string, children: list<Tree>}}
`

func mustFingerprint(t *testing.T, src string) string {
	t.Helper()
	m, err := Load("f.yaml", []byte(src))
	if err != nil {
		t.Fatalf("load:\n%s\n%v", src, err)
	}
	if m.Fingerprint != Fingerprint(m) {
		t.Fatalf("Model.Fingerprint %q is not Fingerprint(m) %q", m.Fingerprint, Fingerprint(m))
	}
	return m.Fingerprint
}

func TestFingerprintForm(t *testing.T) {
	fp := mustFingerprint(t, fingerprintBase)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(fp) {
		t.Errorf("fingerprint %q is not 32 lower-case hex digits", fp)
	}
	m, err := Load("f.yaml", []byte(fingerprintBase))
	if err != nil {
		t.Fatal(err)
	}
	want := `ambigen-fingerprint-v1
"add" client #1{"a":int,"b":int} reply int
"chat" both string
"post" server #1{"mood":enum["happy","sad"],"text":string,"when"?:timestamp}
"tree" server #1{"children":list<#1>,"name":string}
`
	if got := Canonical(m); got != want {
		t.Errorf("Canonical:\n%s\nwant:\n%s", got, want)
	}
}

// TestFingerprintIgnores: rewrites that peers cannot tell apart on the
// wire keep the fingerprint.
func TestFingerprintIgnores(t *testing.T) {
	base := mustFingerprint(t, fingerprintBase)
	same := map[string]string{
		"docs changed and removed": `messages:
  chat: {from: both, payload: string, doc: Another text.}
  add:
    from: client
    payload: {a: int, b: int}
    reply: int
    doc: Adds.
  post: {from: server, payload: Post}
  tree: {from: server, payload: Tree}
types:
  Post:
    fields:
      text: {type: string, doc: The text.}
      when: {type: timestamp, optional: true}
      mood: Mood
  Mood: {enum: [happy, sad], doc: Moods.}
  Tree: {fields: {name: string, children: list<Tree>}}
`,
		"keys, messages, types, fields and enum values reordered": `types:
  Tree: {fields: {children: list<Tree>, name: string}}
  Mood: {enum: [sad, happy]}
  Post:
    fields:
      mood: Mood
      when: {optional: true, type: timestamp}
      text: string
messages:
  tree: {payload: Tree, from: server}
  post: {payload: Post, from: server}
  add:
    reply: int
    payload: {b: int, a: int}
    from: client
  chat: {payload: string, from: both}
`,
		"Go names and type names changed, inline payload declared": `messages:
  chat: {from: both, payload: string, goName: Talk}
  add:
    from: client
    payload: Pair
    reply: int
  post: {from: server, payload: Article}
  tree: {from: server, payload: Node}
types:
  Pair: {fields: {a: {type: int, goName: First}, b: int}}
  Article:
    fields:
      text: string
      when: {type: timestamp, optional: true}
      mood: Feeling
  Feeling: {enum: [happy, sad]}
  Node: {fields: {name: string, children: list<Node>}}
  Unused: {fields: {x: int}}
`,
	}
	for name, src := range same {
		if fp := mustFingerprint(t, src); fp != base {
			t.Errorf("%s: fingerprint %s, want the base's %s", name, fp, base)
		}
	}
}

// TestFingerprintChanges: every change that reaches the wire changes the
// fingerprint, and no two of them share one.
func TestFingerprintChanges(t *testing.T) {
	base := mustFingerprint(t, fingerprintBase)
	changes := map[string][2]string{
		"message renamed":          {"  chat: {from: both", "  talk: {from: both"},
		"message added":            {"  tree: {from: server, payload: Tree}\n", "  tree: {from: server, payload: Tree}\n  ping: {from: client, payload: string}\n"},
		"direction changed":        {"chat: {from: both", "chat: {from: client"},
		"message made a call":      {"post: {from: server, payload: Post}", "post: {from: server, payload: Post, reply: bool}"},
		"reply type changed":       {"    reply: int", "    reply: float"},
		"payload type changed":     {"chat: {from: both, payload: string", "chat: {from: both, payload: list<string>"},
		"field renamed":            {"payload: {a: int, b: int}", "payload: {a: int, c: int}"},
		"field type changed":       {"text: string", "text: bytes"},
		"field made optional":      {"mood: Mood", "mood: {type: Mood, optional: true}"},
		"field made required":      {"when: {type: timestamp, optional: true, doc: When.}", "when: {type: timestamp, doc: When.}"},
		"field added":              {"      mood: Mood\n", "      mood: Mood\n      tags: {type: list<string>, optional: true}\n"},
		"enum value added":         {"enum: [happy, sad]", "enum: [happy, sad, neutral]"},
		"enum value renamed":       {"enum: [happy, sad]", "enum: [happy, glad]"},
		"list became a map":        {"children: list<Tree>", "children: map<Tree>"},
		"recursion through a list": {"children: list<Tree>", "children: list<Post>"},
	}
	seen := map[string]string{base: "the base"}
	for name, c := range changes {
		src := replaceOnce(t, fingerprintBase, c[0], c[1])
		fp := mustFingerprint(t, src)
		if prev, dup := seen[fp]; dup {
			t.Errorf("%s: fingerprint %s is the same as for %s", name, fp, prev)
		}
		seen[fp] = name
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	i := strings.Index(s, old)
	if i < 0 {
		t.Fatalf("%q is not in the base schema", old)
	}
	return s[:i] + new + s[i+len(old):]
}

// TestMessageShape: the shape leaves the name out, so that a renamed
// message can be recognised.
func TestMessageShape(t *testing.T) {
	m, err := Load("f.yaml", []byte("messages:\n  a: {from: client, payload: {x: int}, reply: T}\n  b: {from: client, payload: {x: int}, reply: T}\n  c: {from: server, payload: {x: int}, reply: T}\ntypes:\n  T: {enum: [y]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := MessageShape(m.Messages[0]), MessageShape(m.Messages[1]), MessageShape(m.Messages[2])
	if a != b || a == c {
		t.Errorf("shapes a=%q b=%q c=%q; want a == b != c", a, b, c)
	}
	if want := `client #1{"x":int} reply enum["y"]`; a != want {
		t.Errorf("shape %q, want %q", a, want)
	}
}

// constrainedBase is fingerprintBase with constraints on the places that
// take them.
const constrainedBase = `messages:
  chat: {from: both, payload: Line}
  post: {from: server, payload: Post}
types:
  Line: {type: string, maxLength: 200}
  Post:
    fields:
      text: {type: string, minLength: 1, pattern: "^\\S"}
      score: {type: float, exclusiveMin: 0, max: 5}
      count: {type: int, min: 0}
      tags: {type: list<string>, maxItems: 3, items: {maxLength: 20}}
      byKey: {type: map<int>, maxEntries: 2, values: {exclusiveMax: 10}}
`

// TestFingerprintConstraints: constraints are part of the wire contract,
// and are written after the type they constrain.
func TestFingerprintConstraints(t *testing.T) {
	m, err := Load("f.yaml", []byte(constrainedBase))
	if err != nil {
		t.Fatal(err)
	}
	want := `ambigen-fingerprint-v1
"chat" both string{maxLength:200}
"post" server #1{"byKey":map<int{exclusiveMax:10}>{maxEntries:2},"count":int{min:0},"score":float{exclusiveMin:0,max:5},"tags":list<string{maxLength:20}>{maxItems:3},"text":string{minLength:1,pattern:"^\\S"}}
`
	if got := Canonical(m); got != want {
		t.Errorf("Canonical:\n%s\nwant:\n%s", got, want)
	}

	base := mustFingerprint(t, constrainedBase)
	// The same constraints written another way: an alias written out, a
	// constraint moved into an alias, keys reordered.
	same := replaceOnce(t, replaceOnce(t, constrainedBase,
		"chat: {from: both, payload: Line}", "chat: {from: both, payload: Short}"),
		"  Line: {type: string, maxLength: 200}\n", "  Short: {maxLength: 200, type: string}\n  Tag: {type: string, maxLength: 20}\n")
	same = replaceOnce(t, same, "items: {maxLength: 20}}", "}")
	same = replaceOnce(t, same, "type: list<string>", "type: list<Tag>")
	if fp := mustFingerprint(t, same); fp != base {
		t.Errorf("constraints written another way: fingerprint %s, want %s\n%s", fp, base, same)
	}

	changes := map[string][2]string{
		"maxLength changed":     {"maxLength: 200", "maxLength: 201"},
		"constraint removed":    {"minLength: 1, ", ""},
		"pattern changed":       {`"^\\S"`, `"^\\S+"`},
		"bound made exclusive":  {"max: 5", "exclusiveMax: 5"},
		"items constraint":      {"items: {maxLength: 20}", "items: {maxLength: 21}"},
		"values constraint":     {"exclusiveMax: 10", "max: 10"},
		"entries constraint":    {"maxEntries: 2", "minEntries: 2"},
		"int bound":             {"min: 0}", "min: 1}"},
		"constraint moved down": {"maxItems: 3, items: {maxLength: 20}", "items: {maxLength: 20, pattern: a}"},
	}
	seen := map[string]string{base: "the base"}
	for name, c := range changes {
		fp := mustFingerprint(t, replaceOnce(t, constrainedBase, c[0], c[1]))
		if prev, dup := seen[fp]; dup {
			t.Errorf("%s: fingerprint %s is the same as for %s", name, fp, prev)
		}
		seen[fp] = name
	}
}
