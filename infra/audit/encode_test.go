package audit

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

type testARNs struct{}

func (testARNs) KeyARN(id string) string         { return "acs:kms:r:1:key/" + id }
func (testARNs) AliasARN(name string) string     { return "acs:kms:r:1:" + name }
func (testARNs) PartitionARN(id string) string   { return "acs:kms:r:1:partition/" + id }
func (testARNs) SecretARN(name string) string    { return "acs:kms:r:1:secret/" + name }
func (testARNs) CertificateARN(id string) string { return "acs:kms:r:1:certificate/" + id }

func TestEncodingMatchesEncodingJSON(t *testing.T) {
	odd := "q\"b\\s\n\r\t\x01<>&\u2028\u2029é\xff end"
	for _, r := range []Request{
		{Time: time.Unix(1, 0), ID: "a", Action: "Decrypt"},
		{Time: time.Now(), ID: odd, Entry: odd, MessageID: odd, Action: odd, Principal: odd, AccessKeyID: odd,
			SourceIP: odd, UserAgent: odd, Err: core.Errorf(core.CodeInvalidParameter, "%s", odd),
			Params: core.Params{"KeyId": odd, "AliasName": "alias/" + odd, "PartitionId": "p-1", "NumberOfBytes": "32", "DryRun": "true", "DryRunModifiers": "IGNORE_CIPHERTEXT",
				"EncryptionContext": "{ \"k\" :\n \"v<&>\" }", "SourceEncryptionContext": "not json", "PageSize": "x"}},
		{Time: time.Now(), ID: "b", Action: "ProvisionPartition", Result: core.Partition{ID: "p-1", KeyID: "k", KeyVersionID: "v"},
			Params: core.Params{"PartitionId": "p-1", "KeyId": "alias/partitions"}},
		{Time: time.Now(), ID: "c", Action: "DescribeKey", Result: core.Key{ID: "k", PrimaryVersionID: "v", State: core.KeyEnabled}},
		{Time: time.Now(), ID: "e", Action: "CreateGrant", GrantID: odd, Result: core.GrantCreated{KeyID: "k", GrantID: "g", Token: "t"},
			Params: core.Params{"KeyId": "k", "GranteePrincipal": odd, "Operations": `["Decrypt"]`, "EncryptionContextSubset": `{"a":"b"}`, "GrantToken": "t"}},
		{Time: time.Now(), ID: "d", Action: "TagResources", Params: core.Params{"ResourceId.1": "k", "ResourceId.2": odd,
			"Tag.1.Key": odd, "Tag.1.Value": odd, "TagKey.1": odd, "All": "true", "Description": odd,
			"Tags": " [ {\"TagKey\": \"<k>\"} ]", "TagKeys": "{}", "KeyMaterialExpireUnix": "1900000000"}},
	} {
		rec := Build(r, testARNs{})
		ours := rec.appendJSON(nil)
		theirs, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var a, b map[string]any
		if err := json.Unmarshal(ours, &a); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, ours)
		}
		_ = json.Unmarshal(theirs, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("ours:   %s\ntheirs: %s", ours, theirs)
		}
		for _, c := range ours {
			if c == '\n' {
				t.Fatalf("a newline inside the record: %s", ours)
			}
		}
	}
}
