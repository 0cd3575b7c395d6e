package spec

import (
	"strings"
	"testing"
)

const rulesSchema = `messages:
  post: {from: client, payload: Post}
  names: {from: server, payload: list<Name>, reply: {ok: {type: bool}}}
  plain: {from: both, payload: list<string>}
types:
  Name: {type: string, minLength: 1, maxLength: 40, doc: A name.}
  Short: {type: Name, maxLength: 8}
  Post:
    fields:
      title: {type: Name, maxLength: 20, optional: true}
      who: Name
      tags: {type: list<string>, maxItems: 3, items: {pattern: "^[a-z]+$"}}
      plain: list<string>
      inner: {type: Inner, optional: true}
  Inner: {fields: {n: {type: int, min: 1}}}
  Free: {fields: {n: int}}
`

func TestRulesModel(t *testing.T) {
	m, err := Load("r.yaml", []byte(rulesSchema))
	if err != nil {
		t.Fatal(err)
	}
	post := m.Types[0]
	title, who, tags, plain := post.Fields[0].Type, post.Fields[1].Type, post.Fields[2].Type, post.Fields[3].Type

	// An alias used as it is is the alias's own type, with its codec; a
	// use that adds a constraint is a copy, with the tighter bound.
	if !who.IsAlias() || who.GoCodec != "codecName" || who.Rules.MaxLength.N != 40 {
		t.Errorf("who: %+v", who)
	}
	if title.IsAlias() || title.Alias.Name != "Name" || title.Rules.MinLength.N != 1 || title.Rules.MaxLength.N != 20 {
		t.Errorf("title: alias %v, rules %+v", title.Alias, title.Rules)
	}
	if title.GoCodec != "codec_Post_Title" || title.TSRead != "read_Post_Title" || post.Fields[0].GoOptionalCodec != "codec_Post_Title_optional" {
		t.Errorf("title's codecs: %q %q %q", title.GoCodec, title.TSRead, post.Fields[0].GoOptionalCodec)
	}
	short := m.Aliases[1]
	if short.Name != "Short" || short.Type.Rules.MaxLength.N != 8 || short.Type.Rules.MinLength.N != 1 || m.Aliases[0].Type.Rules.MaxLength.N != 40 {
		t.Errorf("an alias of an alias changed the first: %+v / %+v", short.Type.Rules, m.Aliases[0].Type.Rules)
	}
	if got := tags.Describe(); got != `maxItems 3; items: pattern "^[a-z]+$"` {
		t.Errorf("tags described as %q", got)
	}
	if tags.Elem.GoCodec != "" || !tags.Checked() || tags.GoCodec != "codec_Post_Tags" {
		t.Errorf("tags' codecs: %q, element %q", tags.GoCodec, tags.Elem.GoCodec)
	}
	// A list without constraints shares the composite codec, whatever
	// else uses list<string>.
	if plain.GoCodec != "codec_list_string" || plain.Checked() || m.Messages[2].Payload.GoCodec != "codec_list_string" {
		t.Errorf("plain list: %q", plain.GoCodec)
	}
	for _, c := range m.Composites {
		if strings.Contains(c.GoName, "Name") {
			t.Errorf("composite %s holds a constrained type", c.GoName)
		}
	}
	if p := m.Messages[1].Payload; p.GoCodec != "codec_Names_payload" || p.TSRead != "read_Names_payload" {
		t.Errorf("names' payload codecs: %q %q", p.GoCodec, p.TSRead)
	}

	// Checks come in an order where each follows those it is built from.
	var names []string
	for _, c := range m.Checks {
		names = append(names, c.GoName)
	}
	want := "codecName codecShort codec_Post_Title codec_Post_Title_optional codec_Post_Tags codec_Inner_N codec_Names_payload"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("checks:\n%s\nwant:\n%s", got, want)
	}

	// An object is constrained through its fields and the objects it holds.
	free := m.Types[2]
	if !post.Constrained || !m.Types[1].Constrained || free.Name != "Free" || free.Constrained {
		t.Errorf("constrained: Post %v, Inner %v, Free %v", post.Constrained, m.Types[1].Constrained, free.Constrained)
	}
	if m.Messages[1].Reply.Constrained() || !m.Messages[1].Payload.Constrained() {
		t.Error("names: the reply has no constraints, the payload has")
	}
}

func TestRulesBounds(t *testing.T) {
	load := func(field string) error {
		_, err := Load("b.yaml", []byte("messages:\n  m: {from: client, payload: {x: "+field+"}}\n"))
		return err
	}
	ok := []string{
		"{type: int, exclusiveMin: 4, exclusiveMax: 6}",
		"{type: int, min: 5, max: 5}",
		"{type: float, min: 1, max: 1}",
		"{type: float, exclusiveMin: 1, exclusiveMax: 1.0000001}",
		"{type: int, min: -9007199254740991}",
		"{type: float, max: 1e300}",
		"{type: int, min: 0x10}",
		"{type: string, maxLength: 0}",
		"{type: list<int>, minItems: 2, maxItems: 2}",
	}
	for _, f := range ok {
		if err := load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	bad := map[string]string{
		"{type: int, exclusiveMin: 4, exclusiveMax: 5}":         "leave no int",
		"{type: float, exclusiveMin: 1, max: 1}":                "leave no number",
		"{type: int, min: 1.5}":                                 "whole number",
		"{type: float, min: \"1\"}":                             "must be a number",
		"{type: float, min: .nan}":                              "must be a number",
		"{type: int, max: 9007199254740992}":                    "beyond ±(2^53-1)",
		"{type: string, maxLength: 1.5}":                        "whole number from 0",
		"{type: list<int>, minItems: 3, maxItems: 2}":           "minItems 3 is more than maxItems 2",
		"{type: map<int>, minEntries: 3, maxEntries: 2}":        "minEntries 3 is more than maxEntries 2",
		"{type: int, max: 1, exclusiveMax: 2}":                  "both upper bounds",
		"{type: string, pattern: [a]}":                          "pattern must be a string",
		"{type: list<string>, items: maxLength}":                "expected a mapping of constraints",
		"{type: list<list<int>>, items: {items: {max: \"x\"}}}": "items: items: max must be a number",
	}
	for f, want := range bad {
		if err := load(f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", f, err, want)
		}
	}
}
