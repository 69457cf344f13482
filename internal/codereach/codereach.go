// Package codereach reads a Go package's code, for tests, as what each of
// its functions may reach: the strings it holds and the fields it reads off
// a named value (in.KeyId), through the functions, local closures and
// package variables it names, and theirs in turn. It over-approximates (a
// name counts wherever it is mentioned, methods of one name are one), which
// suits the guards that use it: each checks that an operation's handler
// reaches every member of the operation's request, so a member no handler
// reads fails them.
package codereach

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"iter"
	"path/filepath"
	"strconv"
	"strings"
)

// Code is a package's code, tests left out.
type Code struct {
	// Files are the parsed files, for a caller to read tables from.
	Files []*ast.File
	// By the name of a function, local closure or package variable: its
	// strings, the names it mentions and the fields it reads.
	strings, names, fields map[string]map[string]bool
}

// Reach is what some code may reach.
type Reach struct {
	// Strings are its string constants; Fields its selectors off a name,
	// as "in.KeyId".
	Strings, Fields map[string]bool
}

// Read parses the files pattern matches, but tests.
func Read(pattern string) (*Code, error) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s matches no file (%v)", pattern, err)
	}
	c := &Code{strings: map[string]map[string]bool{}, names: map[string]map[string]bool{}, fields: map[string]map[string]bool{}}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		c.Files = append(c.Files, f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Body != nil {
					c.add(d.Name.Name, d.Body)
				}
			case *ast.GenDecl:
				// A variable's or constant's value counts where it is named.
				for _, spec := range d.Specs {
					if v, ok := spec.(*ast.ValueSpec); ok {
						for _, name := range v.Names {
							for _, value := range v.Values {
								c.add(name.Name, value)
							}
						}
					}
				}
			}
		}
	}
	return c, nil
}

// add reads node as part of what name may reach.
func (c *Code) add(name string, node ast.Node) {
	if c.strings[name] == nil {
		c.strings[name], c.names[name], c.fields[name] = map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	ast.Inspect(node, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
				c.strings[name][s] = true
			}
		case *ast.Ident:
			c.names[name][x.Name] = true
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				c.fields[name][id.Name+"."+x.Sel.Name] = true
			}
		case *ast.AssignStmt:
			// A local closure (check := func…) is reached by its name too.
			if x.Tok == token.DEFINE && len(x.Lhs) == len(x.Rhs) {
				for i, rhs := range x.Rhs {
					if lit, ok := rhs.(*ast.FuncLit); ok {
						if id, ok := x.Lhs[i].(*ast.Ident); ok && id.Name != name {
							c.add(id.Name, lit)
						}
					}
				}
			}
		}
		return true
	})
}

// From is what node may reach: its own strings and fields, and those of
// what it names.
func (c *Code) From(node ast.Node) Reach {
	c.add("\x00node", node)
	defer func() { delete(c.strings, "\x00node"); delete(c.names, "\x00node"); delete(c.fields, "\x00node") }()
	return c.Of("\x00node")
}

// Of is what the function, closure or variable name may reach.
func (c *Code) Of(name string) Reach {
	r := Reach{Strings: map[string]bool{}, Fields: map[string]bool{}}
	seen, next := map[string]bool{}, []string{name}
	for len(next) > 0 {
		n := next[len(next)-1]
		next = next[:len(next)-1]
		if seen[n] || c.strings[n] == nil {
			continue
		}
		seen[n] = true
		for s := range c.strings[n] {
			r.Strings[s] = true
		}
		for f := range c.fields[n] {
			r.Fields[f] = true
		}
		for m := range c.names[n] {
			next = append(next, m)
		}
	}
	return r
}

// Strings is every string constant of the code.
func (c *Code) Strings() map[string]bool {
	out := map[string]bool{}
	for _, set := range c.strings {
		for s := range set {
			out[s] = true
		}
	}
	return out
}

// Entries yields each `"key": {…}` of the code, a table's entries among
// them, with its key unquoted.
func (c *Code) Entries() iter.Seq2[string, *ast.CompositeLit] {
	return func(yield func(string, *ast.CompositeLit) bool) {
		for _, f := range c.Files {
			more := true
			ast.Inspect(f, func(n ast.Node) bool {
				kv, ok := n.(*ast.KeyValueExpr)
				if !more || !ok {
					return more
				}
				key, ok := kv.Key.(*ast.BasicLit)
				lit, isLit := kv.Value.(*ast.CompositeLit)
				if ok && isLit && key.Kind == token.STRING {
					k, _ := strconv.Unquote(key.Value)
					more = yield(k, lit)
				}
				return more
			})
			if !more {
				return
			}
		}
	}
}
