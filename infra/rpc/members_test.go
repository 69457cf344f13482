package rpc_test

import (
	"go/ast"
	"reflect"
	"slices"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	classic "github.com/aliyun/alibaba-cloud-sdk-go/services/kms"

	"github.com/kmsless/kmsless/internal/codereach"
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
	core, err := codereach.Read("../../core/*.go")
	if err != nil {
		t.Fatal(err)
	}
	rpc, err := codereach.Read("*.go")
	if err != nil {
		t.Fatal(err)
	}
	actions, protocol := actionTable(core), rpc.Strings()
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
			action, ok := actions[m.Name]
			if !ok {
				t.Errorf("%T: %s is no action of core's table", sdk.client, m.Name)
				continue
			}
			reads := core.Of(action.run).Strings
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

// tableEntry is an action of core's table: its handler's name and whether
// it is marked as taking DryRun.
type tableEntry struct {
	run    string
	dryRun bool
}

// actionTable reads core's table, `"Action": {run: (*call).handler,
// dryRun: true, …}`.
func actionTable(code *codereach.Code) map[string]tableEntry {
	out := map[string]tableEntry{}
	for action, lit := range code.Entries() {
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
			out[action] = e
		}
	}
	return out
}
