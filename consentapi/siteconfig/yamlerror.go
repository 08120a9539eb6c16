package siteconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlError turns a YAML decoding error into an *Error with one problem per
// line the decoder complained about, each placed at its site and key (found
// in the document's node tree) and worded without Go type names.
func yamlError(name string, data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &Error{Problems: []Problem{{File: name, Message: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // it parsed: the decoder got to the types
	e := &Error{}
	for _, m := range te.Errors {
		p := Problem{File: name, Message: m}
		if line, rest, ok := cutLine(m); ok {
			p.Site, p.Field = locate(&root, line)
			p.Message = fmt.Sprintf("line %d: %s", line, plainTypeError(rest))
		}
		e.Problems = append(e.Problems, p)
	}
	return e
}

// cutLine splits "line N: rest".
func cutLine(m string) (int, string, bool) {
	head, rest, ok := strings.Cut(m, ": ")
	n, err := strconv.Atoi(strings.TrimPrefix(head, "line "))
	if !ok || !strings.HasPrefix(head, "line ") || err != nil {
		return 0, m, false
	}
	return n, rest, true
}

var (
	unknownField = regexp.MustCompile("^field (.+) not found in type [\\w.]+$")
	wrongType    = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
)

// plainTypeError rewords the decoder's messages that name Go types.
func plainTypeError(m string) string {
	if s := unknownField.FindStringSubmatch(m); s != nil {
		return fmt.Sprintf("unknown key %q (configs/crumb.yaml shows every key)", s[1])
	}
	if s := wrongType.FindStringSubmatch(m); s != nil {
		return fmt.Sprintf("want %s, not %s", goTypeWords(s[3]), yamlTagWords(s[1], s[2]))
	}
	return m
}

func goTypeWords(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "siteconfig."):
		return "keys with values"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "text"
	}
	return t
}

func yamlTagWords(tag, value string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "keys with values"
	}
	return strconv.Quote(value)
}

// locate names the site (its id, else its index) and the dotted key path
// within it, or outside any site the path from the top, of what is
// written on line of the document.
func locate(root *yaml.Node, line int) (site, field string) {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return "", ""
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if k.Value != "sites" || v.Kind != yaml.SequenceNode || !spans(v, line) {
			continue
		}
		for j, item := range v.Content {
			if !spans(item, line) {
				continue
			}
			site = fmt.Sprintf("sites[%d]", j)
			if id := value(item, "id"); id != "" {
				site = id
			}
			return site, path(item, line, "")
		}
	}
	return "", path(doc, line, "")
}

// path is the dotted path, from prefix, of the key or item on line in n.
func path(n *yaml.Node, line int, prefix string) string {
	join := func(p, k string) string {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case k.Line == line || spans(v, line) && v.Kind == yaml.ScalarNode:
				return join(prefix, k.Value)
			case spans(v, line):
				return path(v, line, join(prefix, k.Value))
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if spans(item, line) {
				return path(item, line, fmt.Sprintf("%s[%d]", prefix, i))
			}
		}
	}
	return prefix
}

// spans reports whether n, with everything under it, covers line.
func spans(n *yaml.Node, line int) bool { return n.Line <= line && line <= lastLine(n) }

func lastLine(n *yaml.Node) int {
	l := n.Line
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}

// value is the scalar under key in mapping n, "" if none.
func value(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}
