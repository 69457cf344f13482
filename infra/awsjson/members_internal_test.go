package awsjson

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/internal/codereach"
)

// TestEveryMemberOfTheSDKIsRead: every request member of every operation of
// AWS's SDK is one the handler reads (a field of input, and of
// grantConstraints for GrantConstraints'), and one that operation's params
// function reaches (codereach: in.<member>), so none is silently ignored: a
// member AWS adds shows here once the SDK is updated, to be served or
// refused. The custom key store operations are answered as an account
// without one answers, before any member is read; ReplicateKey, as for
// single-Region keys, from its key and region alone.
func TestEveryMemberOfTheSDKIsRead(t *testing.T) {
	absent := []string{"CreateCustomKeyStore", "UpdateCustomKeyStore"}
	unread := map[string][]string{"ReplicateKey": {"BypassPolicyLockoutSafetyCheck", "Description", "Policy", "Tags"}}
	reaches := paramsReach(t)
	read := reflect.TypeFor[input]()
	n := 0
	for m := range reflect.TypeFor[*kms.Client]().Methods() {
		if m.Type.NumIn() < 3 || m.Type.In(2).Kind() != reflect.Pointer || !strings.HasSuffix(m.Type.In(2).Elem().Name(), "Input") || slices.Contains(absent, m.Name) {
			continue
		}
		for f := range m.Type.In(2).Elem().Fields() {
			if !f.IsExported() {
				continue
			}
			n++
			if _, ok := read.FieldByName(f.Name); !ok {
				t.Errorf("%s's member %s is not read", m.Name, f.Name)
			} else if !reaches[m.Name].Fields["in."+f.Name] && !slices.Contains(unread[m.Name], f.Name) {
				t.Errorf("%s's member %s is not read by its params function", m.Name, f.Name)
			}
		}
	}
	if n < 200 {
		t.Fatalf("the SDK's operations have %d members outside the absent ones; want 200 or more", n)
	}
	constraints := reflect.TypeFor[grantConstraints]()
	for f := range reflect.TypeFor[types.GrantConstraints]().Fields() {
		if _, ok := constraints.FieldByName(f.Name); f.IsExported() && !ok {
			t.Errorf("GrantConstraints' member %s is not read", f.Name)
		}
	}
}

// paramsReach is what each operation's params function may reach, read
// from the operations table's source: `"Op": {"Action", params, render}`.
func paramsReach(t *testing.T) map[string]codereach.Reach {
	t.Helper()
	code, err := codereach.Read("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]codereach.Reach{}
	for op, lit := range code.Entries() {
		if operations[op] != nil && len(lit.Elts) == 3 {
			out[op] = code.From(lit.Elts[1])
		}
	}
	if len(out) != len(operations) {
		t.Fatalf("read the params of %d operations of %d", len(out), len(operations))
	}
	return out
}
