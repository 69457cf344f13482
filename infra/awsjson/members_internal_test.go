package awsjson

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestEveryMemberOfTheSDKIsRead: every request member of every operation of
// AWS's SDK is one the handler reads (a field of input, and of
// grantConstraints for GrantConstraints'), so none is silently ignored: a
// member AWS adds shows here once the SDK is updated, to be served or
// refused. The custom key store operations are answered as an account
// without one answers, before any member is read.
func TestEveryMemberOfTheSDKIsRead(t *testing.T) {
	absent := []string{"CreateCustomKeyStore", "UpdateCustomKeyStore"}
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
