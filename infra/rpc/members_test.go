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
// both Alibaba SDKs is a parameter name core reads somewhere, or this
// package as one of the protocol's own (RegionId), so none is
// silently dropped: a member Alibaba adds shows here once an SDK is updated,
// to be served or refused. The check is by name across core, not by action;
// it catches a member no action reads. Left out: the KMS instance actions
// answered before any member is read, and AdvanceEncrypt, which only a KMS
// instance's shared gateway answers (this service answers it on the
// instance API, infra/instance).
func TestEveryMemberOfTheSDKsIsRead(t *testing.T) {
	absent := []string{"ConnectKmsInstance", "UpdateKmsInstanceBindVpc", "AdvanceEncrypt"}
	read := literals(t, "../../core/*.go", "*.go")
	for _, sdk := range []struct {
		client any
		name   func(reflect.StructField) string
	}{
		{(*kms.Client)(nil), func(f reflect.StructField) string { return strings.Split(f.Tag.Get("json"), ",")[0] }},
		{(*classic.Client)(nil), func(f reflect.StructField) string { return f.Tag.Get("name") }},
	} {
		n := 0
		for m := range reflect.TypeOf(sdk.client).Methods() {
			if m.Type.NumIn() != 2 || m.Type.In(1).Kind() != reflect.Pointer || m.Type.In(1).Elem().Name() != m.Name+"Request" || slices.Contains(absent, m.Name) {
				continue
			}
			for f := range m.Type.In(1).Elem().Fields() {
				name := sdk.name(f)
				if !f.IsExported() || name == "" {
					continue
				}
				n++
				// A member flattened into several (ExtendedConfig.CustomData)
				// is read by the name before its first dot.
				if head, _, _ := strings.Cut(name, "."); !read[name] && !read[head] {
					t.Errorf("%T: %s's member %s is not read", sdk.client, m.Name, name)
				}
			}
		}
		if n < 250 {
			t.Errorf("%T: the actions have %d members; want 250 or more", sdk.client, n)
		}
	}
}

// literals is every string constant in the code (not the tests) of the
// files the patterns match: the names it reads parameters by.
func literals(t *testing.T, patterns ...string) map[string]bool {
	t.Helper()
	var files []string
	for _, pattern := range patterns {
		matched, err := filepath.Glob(pattern)
		if err != nil || len(matched) == 0 {
			t.Fatalf("%s matches no file (%v)", pattern, err)
		}
		files = append(files, matched...)
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out[s] = true
				}
			}
			return true
		})
	}
	return out
}
