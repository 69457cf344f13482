package awsjson_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// TestLongMembersAreRefusedInBoundedMessages sends every operation of AWS's
// SDK each of its request members, one at a time, as a long text in the
// shapes members take (a string, an alias or ARN, a map with it as a name or
// a value, a list of it, Tags and Constraints with it inside); a shape of
// the wrong type is refused as such. Whatever the operation makes of it, an
// answer is no fault of the service and a refusal quotes at most a bounded
// part, as FuzzAWSRequest requires, for shapes it seldom builds.
func TestLongMembersAreRefusedInBoundedMessages(t *testing.T) {
	t.Parallel()
	api := newFuzzAPI(t)
	var created struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(api.ok(t, "CreateKey", map[string]any{}), &created); err != nil {
		t.Fatal(err)
	}
	api.ok(t, "CreateAlias", map[string]any{"AliasName": "alias/long", "TargetKeyId": created.KeyMetadata.KeyId})
	// Longer than maxRefusal, so that a message quoting it whole fails.
	long := strings.Repeat("é", maxRefusal/2+100)
	shapes := []any{
		long,
		"alias/" + long,
		"arn:aws:kms:" + testRegion + ":" + awsAccount + ":key/" + long,
		map[string]string{long: "v"},
		map[string]string{"k": long},
		[]string{long},
		[]map[string]string{{"TagKey": long, "TagValue": "v"}},
		map[string]any{"EncryptionContextSubset": map[string]string{long: "v"}, "EncryptionContextEquals": map[string]string{"k": long}},
	}
	ops, n := 0, 0
	for m := range reflect.TypeFor[*kms.Client]().Methods() {
		if m.Type.NumIn() < 3 || m.Type.In(2).Kind() != reflect.Pointer || !strings.HasSuffix(m.Type.In(2).Elem().Name(), "Input") {
			continue
		}
		ops++
		for f := range m.Type.In(2).Elem().Fields() {
			if !f.IsExported() {
				continue
			}
			for _, v := range shapes {
				in := map[string]any{"KeyId": "alias/long", f.Name: v}
				body, err := json.Marshal(in)
				if err != nil {
					t.Fatal(err)
				}
				r := api.call(t, m.Name, body)
				n++
				switch {
				case r.status >= 500:
					t.Errorf("%s with a long %s: %d %s: %.200s", m.Name, f.Name, r.status, r.Type, r.Message)
				case len(r.Message) > maxRefusal:
					t.Errorf("%s with a long %s (%.30s…): a refusal of %d bytes: %.200s…", m.Name, f.Name, body, len(r.Message), r.Message)
				}
			}
		}
	}
	if ops < 50 {
		t.Fatalf("found %d operations in the SDK", ops)
	}
	t.Logf("%d operations, %d requests", ops, n)
}
