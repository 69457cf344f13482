package awsjson

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/core"
)

// coreCodes reads every Code* constant declared in core's source, so that a
// code added there is checked here without anyone listing it.
func coreCodes(t *testing.T) map[string]string {
	t.Helper()
	dir := filepath.Join("..", "..", "core")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("core.%s is not a string literal", name.Name)
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					codes[name.Name] = v
				}
			}
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d core codes; has core/errors.go moved?", len(codes))
	}
	return codes
}

// TestEveryClientErrorIsA4xx holds every code core can raise to an AWS
// exception of the 4xx class unless the service is at fault: an unmapped code
// falls through to KMSInternalException (500), which the SDKs retry and
// callers cannot tell apart.
func TestEveryClientErrorIsA4xx(t *testing.T) {
	for name, code := range coreCodes(t) {
		got := errorFor(code)
		fault := (&core.Error{Code: code}).ServerFault()
		switch {
		case fault && got.Status < 500:
			t.Errorf("core.%s (%s), a service fault, maps to %s %d", name, code, got.Type, got.Status)
		case !fault && (got.Status >= 500 || got.Type == "KMSInternalException"):
			t.Errorf("core.%s (%s), the caller's error, maps to %s %d", name, code, got.Type, got.Status)
		case !fault && got.Status < 400:
			t.Errorf("core.%s (%s) maps to status %d", name, code, got.Status)
		}
	}
}
