package spec

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// isAliasDef reports whether the definition of a type declares another name
// for a type (`Title: {type: string, maxLength: 200}`) rather than an object
// or an enum.
func isAliasDef(v *yaml.Node) bool {
	return hasKey(v, "type") && !hasKey(v, "fields") && !hasKey(v, "enum")
}

// hasKey reports whether the mapping v has the key.
func hasKey(v *yaml.Node, key string) bool {
	if v.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == key {
			return true
		}
	}
	return false
}

// aliasDef records an alias's keys; its type is resolved later, once every
// type name is known.
func (l *loader) aliasDef(name string, k, v *yaml.Node) {
	d := &aliasDecl{alias: &Alias{Name: name, Pos: pos(k)}}
	l.aliases[name] = d
	l.aliasList = append(l.aliasList, d)
	l.order = append(l.order, name)
	what := fmt.Sprintf("type %q", name)
	l.fields(v, what, func(key string, k2, v2 *yaml.Node) {
		if d.rules.take(key, k2, v2) {
			return
		}
		switch key {
		case "type":
			d.typ = v2
		case "doc":
			d.alias.Doc, _ = l.scalar(v2, what, key)
		default:
			l.d.add(pos(k2), "%s: unknown key %q%s", what, key, ruleSuggestion(key, append([]string{"type", "doc"}, ruleKeys...)))
		}
	})
}

// resolveAlias returns the type d stands for, resolving it on first use.
// A type that fails to resolve is reported once and stands in as `any`, so
// that the checks after loading meet no nil types.
func (l *loader) resolveAlias(d *aliasDecl) *Type {
	if d.state == resolved {
		return d.alias.Type
	}
	d.state = resolving
	what := fmt.Sprintf("type %q", d.alias.Name)
	var t *Type
	if d.typ.Kind == yaml.MappingNode {
		l.d.add(pos(d.typ), "%s: `type` names a type; an object is declared with `fields:` instead", what)
	} else {
		t = l.applyRules(what, l.typeExpr(what, d.typ), &d.rules)
	}
	if t == nil {
		t = &Type{Kind: Any}
	}
	own := *t
	own.Alias = d.alias
	d.alias.Type = &own
	d.state = resolved
	l.aliasOrder = append(l.aliasOrder, d.alias)
	return d.alias.Type
}

// markConstrained sets Named.Constrained: an object is constrained when a
// field's value is, directly or through the objects it holds. Recursive
// types make this a fixed point.
func markConstrained(m *Model) {
	for changed := true; changed; {
		changed = false
		for _, n := range m.Types {
			if n.Constrained {
				continue
			}
			for _, f := range n.Fields {
				if f.Type != nil && f.Type.Constrained() {
					n.Constrained, changed = true, true
					break
				}
			}
		}
	}
}
