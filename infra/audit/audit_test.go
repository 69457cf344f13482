package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
)

var testKey = bytes.Repeat([]byte{7}, 32)

type arns struct{}

func (arns) KeyARN(id string) string         { return "acs:kms:r:1:key/" + id }
func (arns) AliasARN(name string) string     { return "acs:kms:r:1:" + name }
func (arns) PartitionARN(id string) string   { return "acs:kms:r:1:partition/" + id }
func (arns) SecretARN(name string) string    { return "acs:kms:r:1:secret/" + name }
func (arns) CertificateARN(id string) string { return "acs:kms:r:1:certificate/" + id }

func decrypt(i int) audit.Record {
	return audit.Build(audit.Request{
		Time: time.Unix(1700000000, 0), ID: fmt.Sprintf("req-%d", i), Entry: "alibaba-rpc", Action: "Decrypt",
		Principal: "consumer", AccessKeyID: "LTAIconsumer", SourceIP: "10.0.0.1", UserAgent: "sdk",
		Params: core.Params{"CiphertextBlob": "BLOBSECRET", "EncryptionContext": `{"PartitionId":"p-17"}`},
		Result: core.Opened{KeyID: "key-1", VersionID: "v-1", Plaintext: []byte("PLAINSECRET")},
	}, arns{})
}

// chain writes n records of one instance and returns its lines.
func chain(t *testing.T, n int) []string {
	t.Helper()
	var buf bytes.Buffer
	l := audit.New(&buf, testKey)
	for i := range n {
		if err := l.Write(decrypt(i)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	return lines[:len(lines)-1]
}

func verify(t *testing.T, text string) ([]audit.Problem, []audit.Chain, int) {
	t.Helper()
	v := audit.NewVerifier(testKey)
	if err := v.Read("log", strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	return v.Result()
}

func kinds(ps []audit.Problem) string {
	var k []string
	for _, p := range ps {
		k = append(k, fmt.Sprintf("%s@%d", p.Kind, p.Line))
	}
	return strings.Join(k, ",")
}

func TestRecordKeepsContextAndKeyButNoSecret(t *testing.T) {
	var buf bytes.Buffer
	if err := audit.New(&buf, testKey).Write(decrypt(1)); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	for _, secret := range []string{"BLOBSECRET", "PLAINSECRET", "UExBSU5TRUNSRVQ"} {
		if strings.Contains(line, secret) {
			t.Fatalf("record holds %q: %s", secret, line)
		}
	}
	for _, want := range []string{`"eventName":"Decrypt"`, `"requestId":"req-1"`, `"encryptionContext":{"PartitionId":"p-17"}`,
		`"ARN":"acs:kms:r:1:key/key-1"`, `"keyVersionId":"v-1"`, `"readOnly":true`, `"accessKeyId":"LTAIconsumer"`} {
		if !strings.Contains(line, want) {
			t.Errorf("record lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, "errorCode") {
		t.Errorf("a success carries an errorCode: %s", line)
	}
}

func TestVerifierPassesTwoInterleavedChains(t *testing.T) {
	a, b := chain(t, 5), chain(t, 4)
	var mixed strings.Builder
	for i := range 5 {
		mixed.WriteString(a[i])
		if i < 4 {
			mixed.WriteString("START RequestId: not an audit line\n")
			mixed.WriteString(b[i])
		}
	}
	problems, chains, n := verify(t, mixed.String())
	if len(problems) != 0 || len(chains) != 2 || n != 9 {
		t.Fatalf("problems %v, %d chains, %d records; want none, 2, 9", problems, len(chains), n)
	}
}

func TestVerifierCatchesEditsDropsSwapsAndTruncation(t *testing.T) {
	cases := []struct {
		name   string
		mangle func([]string) []string
		want   string
	}{
		{"edited line", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"principal":"consumer"`, `"principal":"someone"`, 1)
			return l
		}, "edited@3,dropped@4"},
		{"dropped line", func(l []string) []string { return append(l[:2], l[3:]...) }, "dropped@3"},
		{"swapped pair", func(l []string) []string { l[1], l[2] = l[2], l[1]; return l }, "reordered@3"},
		{"truncated tail", func(l []string) []string { l[5] = l[5][:len(l[5])/2]; return l }, "truncated@6"},
		{"duplicated line", func(l []string) []string { return append(l[:3], l[2:]...) }, "reordered@4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := c.mangle(chain(t, 6))
			problems, _, _ := verify(t, strings.Join(lines, ""))
			if got := kinds(problems); got != c.want {
				t.Fatalf("problems %s, want %s:\n%v", got, c.want, problems)
			}
		})
	}
}

func TestVerifierNeedsTheChainKey(t *testing.T) {
	lines := chain(t, 2)
	v := audit.NewVerifier(bytes.Repeat([]byte{8}, 32))
	_ = v.Read("log", strings.NewReader(strings.Join(lines, "")))
	if problems, _, _ := v.Result(); len(problems) != 2 {
		t.Fatalf("another key verified %d of 2 records", 2-len(problems))
	}
}

func TestFailedWriteLeavesNothingAndTheChainIntact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &flaky{f: f}
	l := audit.New(w, testKey)
	for i := range 4 {
		w.failNext = i == 2 // a partial write, as on a full disk
		err := l.Write(decrypt(i))
		if (err != nil) != (i == 2) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	text, _ := os.ReadFile(path)
	problems, chains, n := verify(t, string(text))
	if len(problems) != 0 || n != 3 || chains[0].Last != 3 {
		t.Fatalf("after a failed write: problems %v, %d records, last %d; want none, 3, 3", problems, n, chains[0].Last)
	}
}

// flaky writes only half of a line when told to, then fails; it passes the
// file through so the Log can take the half back.
type flaky struct {
	f        *os.File
	failNext bool
}

func (w *flaky) Write(p []byte) (int, error) {
	if w.failNext {
		n, _ := w.f.Write(p[:len(p)/2])
		return n, errors.New("no space left on device")
	}
	return w.f.Write(p)
}

func (w *flaky) Stat() (os.FileInfo, error) { return w.f.Stat() }
func (w *flaky) Truncate(size int64) error  { return w.f.Truncate(size) }

func TestDevFullFailsTheWrite(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer f.Close()
	if err := audit.New(f, testKey).Write(decrypt(1)); err == nil {
		t.Fatal("a write to a full device succeeded")
	}
}

func TestQueryFindsWhoDecryptedAPartition(t *testing.T) {
	rec := decrypt(1)
	match := []audit.Query{{Action: "Decrypt"}, {Partition: "p-17"}, {Principal: "consumer"}, {Principal: "LTAIconsumer"}, {Key: "key-1"},
		{Key: "acs:kms:r:1:key/key-1"}, {ErrorCode: "OK"}, {Since: time.Unix(1699999999, 0), Until: time.Unix(1700000001, 0)}, {Request: "req-1"}}
	for _, q := range match {
		if !q.Match(rec) {
			t.Errorf("%+v does not match", q)
		}
	}
	miss := []audit.Query{{Action: "Encrypt"}, {Principal: "other"}, {Key: "key-2"}, {ErrorCode: "AccessDeniedError"},
		{Since: time.Unix(1700000001, 0)}, {Alias: "alias/x"}, {Partition: "p-18"}, {Request: "req-2"}, {Request: "req-"}}
	for _, q := range miss {
		if q.Match(rec) {
			t.Errorf("%+v matches", q)
		}
	}
}

// TestQueryFollowsAGrant: -grant finds the grant's creation, each request it
// allowed (one of two on a ReEncrypt) and its revocation, and nothing else.
func TestQueryFollowsAGrant(t *testing.T) {
	const id, other = "1111111111111111111111111111111111111111111111111111111111111111", "2222222222222222222222222222222222222222222222222222222222222222"
	build := func(r audit.Request) audit.Record { r.Time = time.Unix(1700000000, 0); return audit.Build(r, arns{}) }
	made := build(audit.Request{Action: "CreateGrant", Params: core.Params{"KeyId": "key-1"}, Result: core.GrantCreated{KeyID: "key-1", GrantID: id}})
	used := build(audit.Request{Action: "Decrypt", Principal: "app", GrantID: id, Result: core.Opened{KeyID: "key-1"}})
	both := build(audit.Request{Action: "ReEncrypt", Principal: "app", GrantID: other + "," + id})
	revoked := build(audit.Request{Action: "RevokeGrant", Params: core.Params{"KeyId": "key-1", "GrantId": id}})
	for _, rec := range []audit.Record{made, used, both, revoked} {
		if !(audit.Query{Grant: id}).Match(rec) {
			t.Errorf("%s does not match -grant", rec.EventName)
		}
	}
	for _, rec := range []audit.Record{decrypt(1), build(audit.Request{Action: "Decrypt", GrantID: other})} {
		if (audit.Query{Grant: id}).Match(rec) {
			t.Errorf("%s of another grant matches -grant", rec.EventName)
		}
	}
}

func TestConcurrentWritesMakeOneUnbrokenChain(t *testing.T) {
	var buf bytes.Buffer
	l := audit.New(&buf, testKey)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if err := l.Write(decrypt(g*1000 + i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	problems, chains, n := verify(t, buf.String())
	if len(problems) != 0 || n != 1600 || chains[0].Last != 1600 {
		t.Fatalf("problems %v, %d records, last %d", problems, n, chains[0].Last)
	}
}

// Records of the actions that change keys are not read-only, whichever API
// reached them: CloudTrail's readOnly is how an auditor finds every change.
func TestChangesAreRecordedAsChanges(t *testing.T) {
	for _, action := range []string{"TagResource", "UntagResource", "TagResources", "UntagResources", "ImportKeyMaterial",
		"DeleteKeyMaterial", "SetDeletionProtection", "EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"} {
		if rec := audit.Build(audit.Request{Action: action}, arns{}); rec.ReadOnly {
			t.Errorf("%s is recorded read-only", action)
		}
	}
	if rec := audit.Build(audit.Request{Action: "ListResourceTags"}, arns{}); !rec.ReadOnly {
		t.Error("ListResourceTags is recorded as a change")
	}
}

// recordOf builds and encodes the record of one request.
func recordOf(t *testing.T, r audit.Request) string {
	t.Helper()
	var buf bytes.Buffer
	r.Time, r.ID, r.Entry, r.Principal, r.AccessKeyID = time.Unix(1700000000, 0), "req", "alibaba-rpc", "admin", "LTAIadmin"
	if err := audit.New(&buf, testKey).Write(audit.Build(r, arns{})); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// A change's record says what it changed: which tags a tagging action set
// or removed, on which keys (every one of TagResources' ResourceId.N), and
// the other settings a change takes, as CloudTrail keeps them.
func TestChangesRecordWhatTheyChange(t *testing.T) {
	for _, c := range []struct {
		name   string
		r      audit.Request
		want   []string
		absent []string
	}{
		{"TagResources", audit.Request{Action: "TagResources", Params: core.Params{
			"ResourceType": "key", "ResourceId.1": "key-1", "ResourceId.2": "alias/two",
			"Tag.1.Key": "env", "Tag.1.Value": "prod", "Tag.2.Key": "team"}},
			[]string{`"ARN":"acs:kms:r:1:key/key-1"`, `"ARN":"acs:kms:r:1:alias/two"`,
				`"tags":[{"TagKey":"env","TagValue":"prod"},{"TagKey":"team","TagValue":""}]`, `"resourceType":"key"`}, nil},
		{"UntagResources", audit.Request{Action: "UntagResources", Params: core.Params{
			"ResourceId.1": "key-1", "TagKey.1": "env", "TagKey.2": "team", "All": "true"}},
			[]string{`"ARN":"acs:kms:r:1:key/key-1"`, `"tagKeys":["env","team"]`, `"all":true`}, nil},
		{"TagResource", audit.Request{Action: "TagResource", Params: core.Params{
			"KeyId": "key-1", "Tags": `[ {"TagKey": "env", "TagValue": "prod"} ]`}},
			[]string{`"tags":[{"TagKey":"env","TagValue":"prod"}]`}, nil},
		{"UntagResource", audit.Request{Action: "UntagResource", Params: core.Params{"KeyId": "key-1", "TagKeys": `["env"]`}},
			[]string{`"tagKeys":["env"]`}, nil},
		{"UntagResource, not a list", audit.Request{Action: "UntagResource", Params: core.Params{"KeyId": "key-1", "TagKeys": `{"env":1}`}},
			[]string{`"tagKeys":"(not a JSON list)"`}, []string{`"env"`}},
		{"UpdateKeyDescription", audit.Request{Action: "UpdateKeyDescription", Params: core.Params{"KeyId": "key-1", "Description": "ledger"}},
			[]string{`"description":"ledger"`}, nil},
		{"SetDeletionProtection", audit.Request{Action: "SetDeletionProtection", Params: core.Params{
			"ProtectedResourceArn": "acs:kms:r:1:key/key-1", "EnableDeletionProtection": "true", "DeletionProtectionDescription": "prod"}},
			[]string{`"ARN":"acs:kms:r:1:key/key-1"`, `"enableDeletionProtection":true`, `"deletionProtectionDescription":"prod"`}, nil},
		{"CancelKeyDeletion", audit.Request{Action: "CancelKeyDeletion", Params: core.Params{"KeyId": "key-1", "RestoreState": "Disabled"}},
			[]string{`"restoreState":"Disabled"`}, nil},
		{"ImportKeyMaterial", audit.Request{Action: "ImportKeyMaterial", Params: core.Params{
			"KeyId": "key-1", "ImportToken": "TOKENSECRET", "EncryptedKeyMaterial": "MATERIALSECRET", "KeyMaterialExpireUnix": "1900000000"}},
			[]string{`"keyMaterialExpireUnix":1900000000`}, []string{"TOKENSECRET", "MATERIALSECRET"}},
		{"ImportKeyMaterial of new material", audit.Request{Action: "ImportKeyMaterial", Params: core.Params{
			"KeyId": "key-1", "ImportToken": "TOKENSECRET", "EncryptedKeyMaterial": "MATERIALSECRET", "ImportType": "NEW_KEY_MATERIAL", "KeyMaterialDescription": "hsm 2"},
			Result: core.Changed{Key: core.Key{ID: "key-1", State: core.KeyEnabled}, VersionID: "v-2"}},
			[]string{`"importType":"NEW_KEY_MATERIAL"`, `"keyMaterialDescription":"hsm 2"`, `"responseElements":{"keyId":"key-1","keyState":"Enabled","keyVersionId":"v-2"}`},
			[]string{"TOKENSECRET", "MATERIALSECRET"}},
		{"DeleteKeyMaterial by its ID", audit.Request{Action: "DeleteKeyMaterial", Params: core.Params{"KeyId": "key-1", "KeyMaterialId": "0a1b"},
			Result: core.Changed{Key: core.Key{ID: "key-1", State: core.KeyPendingImport}, VersionID: "v-1"}},
			[]string{`"keyMaterialId":"0a1b"`, `"keyState":"PendingImport"`, `"keyVersionId":"v-1"`}, nil},
		{"DisableKey", audit.Request{Action: "DisableKey", Params: core.Params{"KeyId": "key-1"},
			Result: core.Changed{Key: core.Key{ID: "key-1", State: core.KeyDisabled}}},
			nil, []string{`"responseElements"`}},
		{"ListKeys", audit.Request{Action: "ListKeys", Params: core.Params{"Filters": `[{"Key":"KeyState","Values":["Enabled"]}]`}},
			[]string{`"filters":[{"Key":"KeyState","Values":["Enabled"]}]`}, nil},
		// AWS's ResourceOwners of other accounts alone, which lists nothing.
		{"ListKeys of shared keys", audit.Request{Action: "ListKeys", Params: core.Params{"SharedOnly": "true"}},
			[]string{`"sharedOnly":true`}, nil},
		{"ListGrants to a service", audit.Request{Action: "ListGrants", Params: core.Params{"KeyId": "key-1", "GranteeServicePrincipal": "logs.amazonaws.com"}},
			[]string{`"granteeServicePrincipal":"logs.amazonaws.com"`}, nil},
		{"CreateCertificate, retried", audit.Request{Action: "CreateCertificate", Params: core.Params{"KeySpec": "EC_P256", "ClientToken": "retry-1"}},
			[]string{`"clientToken":"retry-1"`}, nil},
		// A ReEncrypt names the key it opened with as well as the one it
		// sealed under, whether the blob named it or SourceKeyId did.
		{"ReEncrypt", audit.Request{Action: "ReEncrypt", Params: core.Params{"CiphertextBlob": "BLOBSECRET", "DestinationKeyId": "key-2"},
			Result: core.Resealed{Sealed: core.Sealed{KeyID: "key-2", VersionID: "v-2", Blob: []byte("new")}, SourceKeyID: "key-1", SourceVersionID: "v-1"}},
			[]string{`"ARN":"acs:kms:r:1:key/key-1"`, `"ARN":"acs:kms:r:1:key/key-2"`, `"sourceKeyId":"key-1"`, `"sourceKeyVersionId":"v-1"`, `"keyVersionId":"v-2"`},
			[]string{"BLOBSECRET"}},
		{"CreateClientKey", audit.Request{Action: "CreateClientKey", Params: core.Params{"AapName": "orders-app", "Password": "PASSWORDSECRET",
			"NotBefore": "2026-01-01T00:00:00Z", "NotAfter": "2027-01-01T00:00:00Z"},
			Result: core.ClientKeyIssued{IssuedClientKey: core.IssuedClientKey{ID: "KAAP.1", AapName: "orders-app"}, PrivateKey: []byte("PRIVATESECRET"), Password: "PASSWORDSECRET"}},
			[]string{`"aapName":"orders-app"`, `"notAfter":"2027-01-01T00:00:00Z"`, `"responseElements":{"aapName":"orders-app","clientKeyId":"KAAP.1"}`},
			[]string{"PASSWORDSECRET", "PRIVATESECRET", "UFJJVkFURVNFQ1JFVA"}},
		{"CreatePolicy", audit.Request{Action: "CreatePolicy", Params: core.Params{"Name": "orders", "Permissions": `[ "RbacPermission/Template/CryptoServiceKeyUser" ]`,
			"Resources": `["key/*"]`, "AccessControlRules": `{"NetworkRules": ["office"]}`}},
			[]string{`"name":"orders"`, `"permissions":["RbacPermission/Template/CryptoServiceKeyUser"]`, `"resources":["key/*"]`, `"accessControlRules":{"NetworkRules":["office"]}`}, nil},
		{"Decrypt, a DryRun ignoring the ciphertext", audit.Request{Action: "Decrypt", Params: core.Params{"KeyId": "key-1",
			"DryRun": "true", "DryRunModifiers": "IGNORE_CIPHERTEXT"}, Err: core.Errorf(core.CodeDryRunOperation, "dry")},
			[]string{`"dryRun":true`, `"dryRunModifiers":"IGNORE_CIPHERTEXT"`}, nil},
		{"ReEncrypt from an asymmetric key, refused", audit.Request{Action: "ReEncrypt", Params: core.Params{"CiphertextBlob": "BLOBSECRET",
			"SourceKeyId": "key-rsa", "SourceEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "DestinationKeyId": "key-2"},
			Err: core.Errorf(core.CodeInvalidCiphertext, "no")},
			[]string{`"ARN":"acs:kms:r:1:key/key-rsa"`, `"sourceEncryptionAlgorithm":"RSAES_OAEP_SHA_256"`}, []string{"BLOBSECRET"}},
	} {
		line := recordOf(t, c.r)
		for _, w := range c.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: the record lacks %s: %s", c.name, w, line)
			}
		}
		for _, a := range c.absent {
			if strings.Contains(line, a) {
				t.Errorf("%s: the record holds %s: %s", c.name, a, line)
			}
		}
	}
}

// What a record keeps of repeated parameters is bounded as core bounds
// them, however many the request carries.
func TestRepeatedParametersAreBoundedInTheRecord(t *testing.T) {
	p := core.Params{}
	for i := 1; i <= 5000; i++ {
		p[fmt.Sprintf("Tag.%d.Key", i)] = strings.Repeat("k", 200)
		p[fmt.Sprintf("Tag.%d.Value", i)] = strings.Repeat("v", 200)
		p[fmt.Sprintf("ResourceId.%d", i)] = fmt.Sprintf("key-%d", i)
	}
	line := recordOf(t, audit.Request{Action: "TagResources", Params: p, Err: core.Errorf(core.CodeInvalidParameter, "too many")})
	if len(line) > 64<<10 {
		t.Errorf("a record of %d bytes", len(line))
	}
	if n := strings.Count(line, `"TagKey"`); n != core.MaxIndexed {
		t.Errorf("the record keeps %d tags, want the first %d", n, core.MaxIndexed)
	}
}
