package rpc_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	classic "github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
)

// TestEveryMemberOfTheSDKsIsRead: every request member of every action of
// both Alibaba SDKs is a parameter name the action reads, so none is
// silently dropped: a member Alibaba adds shows here once an SDK is updated,
// to be served or refused. What an action reads is every string in the
// code it may reach in core (its handler and what that names, at most: a
// name another action reads does not count), the protocol's own parameters
// (RegionId) this package reads for every action, and DryRun for the
// actions the table marks as taking it.
func TestEveryMemberOfTheSDKsIsRead(t *testing.T) {
	// Left out, each for its reason: the KMS instance actions are answered
	// as for an account without one once KmsInstanceId is read; a generic
	// secret's automatic rotation is off, so its interval sets nothing; and
	// the classic SDK's AdvanceEncrypt is for a KMS instance's gateway,
	// which this service answers on the instance API (infra/instance).
	unread := map[string][]string{
		"ConnectKmsInstance":         {"KMProvider", "VSwitchIds", "VpcId", "ZoneIds"},
		"UpdateKmsInstanceBindVpc":   {"BindVpcs"},
		"CreateSecret":               {"RotationInterval"},
		"UpdateSecretRotationPolicy": {"RotationInterval"},
	}
	core := readCode(t, "../../core/*.go")
	protocol := readCode(t, "*.go").literals()
	for _, sdk := range []struct {
		client any
		name   func(reflect.StructField) string
	}{
		{(*kms.Client)(nil), func(f reflect.StructField) string { return strings.Split(f.Tag.Get("json"), ",")[0] }},
		{(*classic.Client)(nil), func(f reflect.StructField) string { return f.Tag.Get("name") }},
	} {
		n := 0
		for m := range reflect.TypeOf(sdk.client).Methods() {
			if m.Type.NumIn() != 2 || m.Type.In(1).Kind() != reflect.Pointer || m.Type.In(1).Elem().Name() != m.Name+"Request" || m.Name == "AdvanceEncrypt" {
				continue
			}
			action, ok := core.actions[m.Name]
			if !ok {
				t.Errorf("%T: %s is no action of core's table", sdk.client, m.Name)
				continue
			}
			reads := core.reachable(action.run)
			for f := range m.Type.In(1).Elem().Fields() {
				name := sdk.name(f)
				if !f.IsExported() || name == "" {
					continue
				}
				n++
				// A member flattened into several (ExtendedConfig.CustomData)
				// is read by the name before its first dot.
				head, _, _ := strings.Cut(name, ".")
				switch {
				case name == "DryRun" && !action.dryRun:
					t.Errorf("%T: %s takes DryRun, which core's table does not mark it as reading", sdk.client, m.Name)
				case name == "DryRun" || reads[name] || reads[head] || protocol[name]:
				case !slices.Contains(unread[m.Name], name):
					t.Errorf("%T: %s's member %s is not read", sdk.client, m.Name, name)
				}
			}
		}
		if n < 250 {
			t.Errorf("%T: the actions have %d members; want 250 or more", sdk.client, n)
		}
	}
}

// code is what a package's code (not its tests) holds: each function's and
// each package variable's strings and the names it mentions, by name
// (methods of one name merged), and core's action table.
type code struct {
	strings, names map[string]map[string]bool
	actions        map[string]tableEntry
}

// tableEntry is an action of core's table: its handler's name and whether
// it is marked as taking DryRun.
type tableEntry struct {
	run    string
	dryRun bool
}

func readCode(t *testing.T, pattern string) *code {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("%s matches no file (%v)", pattern, err)
	}
	c := &code{strings: map[string]map[string]bool{}, names: map[string]map[string]bool{}, actions: map[string]tableEntry{}}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Body != nil {
					c.read(d.Name.Name, d.Body)
				}
			case *ast.GenDecl:
				// A variable's or constant's value counts where it is named.
				for _, spec := range d.Specs {
					if v, ok := spec.(*ast.ValueSpec); ok {
						for _, name := range v.Names {
							for _, value := range v.Values {
								c.read(name.Name, value)
							}
						}
					}
				}
			}
		}
	}
	return c
}

// read adds the strings and names of node to those of fn.
func (c *code) read(fn string, node ast.Node) {
	if c.strings[fn] == nil {
		c.strings[fn], c.names[fn] = map[string]bool{}, map[string]bool{}
	}
	ast.Inspect(node, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
				c.strings[fn][s] = true
			}
		case *ast.Ident:
			c.names[fn][x.Name] = true
		case *ast.KeyValueExpr:
			c.tableEntry(x)
		}
		return true
	})
}

// tableEntry reads `"Action": {run: (*call).handler, dryRun: true, …}`.
func (c *code) tableEntry(kv *ast.KeyValueExpr) {
	key, ok := kv.Key.(*ast.BasicLit)
	lit, isLit := kv.Value.(*ast.CompositeLit)
	if !ok || !isLit || key.Kind != token.STRING {
		return
	}
	var e tableEntry
	for _, elt := range lit.Elts {
		field, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch id, _ := field.Key.(*ast.Ident); {
		case id == nil:
		case id.Name == "run":
			if sel, ok := field.Value.(*ast.SelectorExpr); ok {
				e.run = sel.Sel.Name
			}
		case id.Name == "dryRun":
			v, _ := field.Value.(*ast.Ident)
			e.dryRun = v != nil && v.Name == "true"
		}
	}
	if e.run != "" {
		action, _ := strconv.Unquote(key.Value)
		c.actions[action] = e
	}
}

// reachable is every string of the functions root may reach: those it
// names, and theirs in turn.
func (c *code) reachable(root string) map[string]bool {
	out, seen, next := map[string]bool{}, map[string]bool{}, []string{root}
	for len(next) > 0 {
		fn := next[len(next)-1]
		next = next[:len(next)-1]
		if seen[fn] || c.strings[fn] == nil {
			continue
		}
		seen[fn] = true
		for s := range c.strings[fn] {
			out[s] = true
		}
		for n := range c.names[fn] {
			next = append(next, n)
		}
	}
	return out
}

// literals is every string of the code.
func (c *code) literals() map[string]bool {
	out := map[string]bool{}
	for _, set := range c.strings {
		for s := range set {
			out[s] = true
		}
	}
	return out
}
