package core_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
)

// FuzzParseBlob: ParseBlob never panics, a blob it accepts is described exactly
// by what it parsed, and a blob that opens re-seals to the same bytes.
func FuzzParseBlob(f *testing.F) {
	aead := testAEAD(f)
	ctx := core.EncryptionContext{"k": "v"}
	good, err := sealBlob(aead, zeroReader{}, "key-abc", "ver-1", ctx, []byte("0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{})
	f.Add(append([]byte{1, 1, 'k', 1, 'v'}, make([]byte, 28)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := core.ParseBlob(b)
		if err != nil {
			return
		}
		header := append([]byte{1, byte(len(bl.KeyID))}, bl.KeyID...)
		header = append(append(header, byte(len(bl.VersionID))), bl.VersionID...)
		if !bytes.HasPrefix(b, header) || bl.KeyID == "" || bl.VersionID == "" {
			t.Fatalf("parsed IDs %q/%q do not re-serialise to the blob's header", bl.KeyID, bl.VersionID)
		}
		if len(b) < len(header)+12+16 {
			t.Fatalf("accepted a %d-byte blob with no room for nonce and tag", len(b))
		}
		pt, err := openBlob(aead, bl, ctx)
		if err != nil {
			return
		}
		nonce := b[len(header) : len(header)+12]
		again, err := sealBlob(aead, bytes.NewReader(nonce), bl.KeyID, bl.VersionID, ctx, pt)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("a blob that opens does not re-seal to itself: %v", err)
		}
	})
}

// FuzzEncryptionContext: parsing never panics, refuses with InvalidParameter
// naming the parameter in a bounded message, enforces the length limit, and a parsed context means
// the same after a JSON round trip (same AAD, opens the same blob).
func FuzzEncryptionContext(f *testing.F) {
	for _, s := range roundTripContexts {
		f.Add(s)
	}
	for _, s := range []string{`{"a":"1","a":"2"}`, `{"a":1}`, `[]`, `{"ab":"c"}`, `{"a":"bc"}`, `{"\ud800":"x"}`, "{\"a\":\"\xff\"}", contextOfLength(core.MaxEncryptionContextLen + 1)} {
		f.Add(s)
	}
	// Each of these was once quoted whole in its refusal.
	long := strings.Repeat("é", 3000)
	f.Add(`{"` + long + `":1}`)
	f.Add(`{"` + long + `":"a","` + long + `":"b"}`)
	aead := testAEAD(f)
	f.Fuzz(func(t *testing.T, text string) {
		ctx, err := core.ParseEncryptionContext("EncryptionContext", text)
		if err != nil {
			var ke *core.Error
			if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter || !strings.Contains(ke.Message, "EncryptionContext") {
				t.Fatalf("refused with %v", err)
			}
			if len(ke.Message) > maxRefusal {
				t.Fatalf("a refusal of %d bytes: %.200s…", len(ke.Message), ke.Message)
			}
			return
		}
		if utf8.RuneCountInString(text) > core.MaxEncryptionContextLen {
			t.Fatalf("accepted %d characters", utf8.RuneCountInString(text))
		}
		rec := &recordingAEAD{AEAD: aead}
		blob, err := sealBlob(rec, zeroReader{}, "key-a", "v1", ctx, []byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		aad := rec.aad
		if ctx == nil {
			ctx = core.EncryptionContext{} // "" parses to nil, which marshals as null
		}
		j, err := json.Marshal(map[string]string(ctx))
		if err != nil {
			t.Fatal(err)
		}
		again, err := core.ParseEncryptionContext("EncryptionContext", string(j))
		if err != nil {
			if utf8.RuneCount(j) > core.MaxEncryptionContextLen {
				return // escaping grew the text past the limit
			}
			t.Fatalf("re-encoded context %s does not parse: %v", j, err)
		}
		if len(ctx) != len(again) || !maps.Equal(map[string]string(ctx), map[string]string(again)) {
			t.Fatalf("round trip changed the context: %v → %v", ctx, again)
		}
		if _, err := sealBlob(rec, zeroReader{}, "key-a", "v1", again, []byte("k")); err != nil || !bytes.Equal(aad, rec.aad) {
			t.Fatalf("round trip changed the AAD")
		}
		bl, err := core.ParseBlob(blob)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := openBlob(aead, bl, again); err != nil {
			t.Fatalf("the blob does not open under the round-tripped context")
		}
	})
}

// designCodes are the codes of DESIGN.md's error table that an action's input
// can cause when neither throttling nor signatures are involved.
var designCodes = map[string]bool{
	core.CodeInvalidParameter: true, core.CodeMissingParameter: true, core.CodeInvalidCiphertext: true,
	core.CodeAliasAlreadyExists: true, core.CodeDryRunOperation: true, core.CodeValidation: true,
	core.CodeNoPermission: true, core.CodeAccessDenied: true, core.CodeKeyNotFound: true,
	core.CodeAliasNotFound: true, core.CodeDisabled: true, core.CodePendingDeletion: true,
	core.CodeStateModifiedFailed: true, core.CodePendingImport: true, core.CodeInvalidImportToken: true,
	core.CodeExpiredImportToken: true, core.CodeInvalidKeyMaterial: true, core.CodeUnsupportedOrigin: true,
	core.CodeDeletionProtection: true, core.CodeUnsupportedKeySpec: true, core.CodeInvalidKeyUsage: true,
	core.CodeInvalidMac: true, core.CodeResourceNotFound: true, core.CodeResourceExist: true,
	core.CodeLimitExceeded: true, core.CodeInvalidGrantToken: true, core.CodeMalformedPolicy: true,
	core.CodeUnsupportedOperation: true, core.CodeCustomKeyStoreNotFound: true, core.CodeIncorrectKey: true,
	core.CodePartitionNotFound: true, core.CodeCertificateNotFound: true,
}

// wrappingKey is the DER of a new RSA-2048 public key, for the parameters
// that carry one.
func wrappingKey(tb testing.TB) []byte {
	tb.Helper()
	wrapping, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&wrapping.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// paramSeeds makes on fx what its parameter sets name (a key with the alias
// alias/fuzz, a secret named fuzz, a ciphertext under the key, a grant on it,
// a signing key with the alias alias/fuzz-ec, an EXTERNAL key awaiting its
// material with the alias alias/fuzz-external, a certificate, and a network
// rule, a policy and an application access point named fuzz) and returns
// them form-encoded: sets that actions accept, or refuse only after reading
// the others. der is a public key's DER, from wrappingKey.
func paramSeeds(fx *svcFixture, der []byte) []string {
	fx.t.Helper()
	id := fx.createKey()
	fx.ok("CreateAlias", "AliasName", "alias/fuzz", "KeyId", id)
	fx.ok("CreateSecret", "SecretName", "fuzz", "VersionId", "v1", "SecretData", "x", "EncryptionKeyId", id)
	blob := fx.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "EncryptionContext", `{"k":"v"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	grant := fx.grant(id, "fuzz", []string{"Decrypt", "CreateGrant"}, "RetiringPrincipal", user("ops"))
	cert := fx.ok("CreateCertificate", "KeySpec", "EC_P256", "Subject", "CN=fuzz,OU=f,O=kmsless,C=CN", "ClientToken", "fuzz").(*alibaba.CreateCertificateResponse).CertificateId
	fx.ok("CreateNetworkRule", "Name", "fuzz", "SourcePrivateIp", `["10.0.0.0/8"]`)
	fx.ok("CreatePolicy", "Name", "fuzz", "KmsInstance", "kst-fuzz", "Permissions", `["RbacPermission/Template/CryptoServiceKeyUser"]`,
		"Resources", `["key/*"]`, "AccessControlRules", `{"NetworkRules":["fuzz"]}`)
	fx.ok("CreateApplicationAccessPoint", "Name", "fuzz", "Policies", `["fuzz"]`)
	ec := fx.ok("CreateKey", "KeySpec", "EC_P256", "KeyUsage", "SIGN/VERIFY").(*alibaba.KeyMetadataResponse).KeyMetadata
	fx.ok("CreateAlias", "AliasName", "alias/fuzz-ec", "KeyId", ec.KeyId)
	ext := fx.ok("CreateKey", "Origin", "EXTERNAL").(*alibaba.KeyMetadataResponse).KeyMetadata
	fx.ok("CreateAlias", "AliasName", "alias/fuzz-external", "KeyId", ext.KeyId)
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	export := "&WrappingKeySpec=RSA_2048&WrappingAlgorithm=RSAES_OAEP_SHA_256&PublicKeyBlob=" + url.QueryEscape(base64.StdEncoding.EncodeToString(der))
	return []string{
		"CiphertextBlob=" + url.QueryEscape(blob) + "&EncryptionContext=%7B%22k%22%3A%22v%22%7D" + export,
		"KeyId=alias/fuzz&NumberOfBytes=190" + export,
		"KeyId=alias/fuzz",
		"KeyId=" + id + "&NumberOfBytes=1024&KeySpec=AES_128&EncryptionContext=%7B%22k%22%3A%22v%22%7D",
		"KeyId=alias/fuzz&DryRun=true&NumberOfBytes=0",
		"CiphertextBlob=" + url.QueryEscape(blob) + "&EncryptionContext=%7B%22k%22%3A%22v%22%7D",
		"CiphertextBlob=" + url.QueryEscape(blob) + "&SourceEncryptionContext=%7B%22k%22%3A%22v%22%7D&DestinationKeyId=alias/fuzz",
		"KeyId=alias/fuzz&Plaintext=aGk%3D&EncryptionContext=%7B%22a%22%3A1%7D",
		"KeyId=alias/fuzz&PageNumber=2&PageSize=100&KeyVersionId=x",
		"AliasName=alias/x&KeyId=" + id,
		"KeyId=acs:kms:cn-hangzhou:1234567890123456:alias/fuzz&EnableAutomaticRotation=true&RotationInterval=7d",
		"KeyId=" + id + "&PendingWindowInDays=7",
		"Description=x&EnableAutomaticRotation=TRUE&RotationInterval=730d&KeySpec=Aliyun_AES_256",
		"KeyId=alias/fuzz&KeyAgreementAlgorithm=ECDH&PublicKey=" + url.QueryEscape(base64.StdEncoding.EncodeToString(der)),
		"KeyId=alias/fuzz&Algorithm=ED25519_SHA_512&Message=aGk%3D",
		"KeySpec=ECC_SECG_P256K1&Origin=EXTERNAL",
		"KeySpec=EC_P256K&KeyUsage=KEY_AGREEMENT",
		"KeyId=alias/fuzz&WrappingAlgorithm=RSA_AES_KEY_WRAP_SHA_1&WrappingKeySpec=RSA_3072",
		"SecretName=fuzz&VersionId=v2&SecretData=eA%3D%3D&SecretDataType=binary&VersionStages=%5B%22ACSCurrent%22%5D&EncryptionKeyId=alias/fuzz",
		"SecretName=acs:kms:cn-hangzhou:1234567890123456:secret/fuzz&VersionStage=ACSCurrent&MoveToVersion=v1&RemoveFromVersion=v1&RecoveryWindowInDays=7",
		"PasswordLength=8&ExcludeCharacters=abc&RequireEachIncludedType=false&IncludeDeprecated=true&FetchTags=true",
		"SecretName=fuzz&Tags=%5B%7B%22TagKey%22%3A%22k%22%2C%22TagValue%22%3A%22v%22%7D%5D&TagKeys=%5B%22k%22%5D",
		"KeyId=alias/fuzz&GranteePrincipal=" + url.QueryEscape(user("bob")) + "&RetiringPrincipal=" + url.QueryEscape(user("ops")) +
			"&Operations=%5B%22Decrypt%22%2C%22RetireGrant%22%5D&EncryptionContextSubset=%7B%22k%22%3A%22v%22%7D&EncryptionContextEquals=%7B%7D&Name=a%2Fb",
		"GrantToken=" + url.QueryEscape(grant.GrantToken) + "&KeyId=" + id + "&GrantId=" + grant.GrantId + "&GrantTokens=%5B%22t%22%5D",
		"KeyId=" + id + "&GrantId=" + grant.GrantId + "&PageSize=1&Marker=" + grant.GrantId + "&GranteePrincipal=" + url.QueryEscape(user("fuzz")) + "&RetiringPrincipal=" + url.QueryEscape(user("ops")),
		"KeyId=" + id + "&PolicyName=default&BypassPolicyLockoutSafetyCheck=false&Policy=" + url.QueryEscape(awsPolicy(theAccount)),
		form("KeySpec", "EC_P256", "Subject", "CN=fuzz,OU=f,O=kmsless,C=CN", "SubjectAlternativeNames", `["fuzz.example.com"]`, "Exportable", "true", "ClientToken", "fuzz"),
		form("CertificateId", cert, "Status", "INACTIVE", "Algorithm", "ECDSA_SHA_256", "Message", "aGk=", "MessageType", "RAW"),
		form("Name", "fuzz", "SourcePrivateIp", `["10.0.0.0/8"]`, "Description", "x", "Type", "Private"),
		form("Name", "fuzz", "KmsInstance", "kst-fuzz", "Permissions", `["RbacPermission/Template/CryptoServiceKeyUser"]`,
			"Resources", `["key/*"]`, "AccessControlRules", `{"NetworkRules":["fuzz"]}`, "Description", "x"),
		form("Name", "fuzz", "Policies", `["fuzz"]`, "AuthenticationMethod", "ClientKey", "Description", "x"),
		form("AapName", "fuzz", "Password", "Passw0rd-fuzz", "NotBefore", "2026-03-01T12:00:00Z", "NotAfter", "2027-03-01T12:00:00Z"),
		form("KeyId", "alias/fuzz-ec", "KeyVersionId", ec.PrimaryKeyVersion, "Algorithm", "ECDSA_SHA_256", "Digest", base64.StdEncoding.EncodeToString(make([]byte, 32))),
		form("SecretName", "fuzz", "VersionId", "v1", "VersionStage", "ACSCurrent", "FetchExtendedConfig", "false"),
		form("KeyId", "alias/fuzz-external", "KeyMaterialId", "fuzz"),
	}
}

// FuzzParams sends arbitrary parameters (a form-encoded string) to the action
// chosen by the first argument, on a real store: no panic, only *core.Error
// with a code from the table in a bounded message, and never InternalFailure
// for bad input.
func FuzzParams(f *testing.F) {
	fx := newSvcFixture(f)
	seeds := paramSeeds(fx, wrappingKey(f))
	actions := core.Actions()
	slices.Sort(actions)
	for i := range actions {
		for _, s := range seeds {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, form string) {
		refusedBounded(t, fx, actions[int(which)%len(actions)], formParams(form))
	})
}

// formParams reads a form-encoded parameter set, the first value of each
// name, as the rpc package does; what does not parse is left out.
func formParams(form string) core.Params {
	values, _ := url.ParseQuery(form)
	p := core.Params{}
	for k, vs := range values {
		p[k] = vs[0]
	}
	return p
}

// FuzzKeyPolicy puts any document on a key: a refusal is
// MalformedPolicyDocument in a bounded message; a document accepted reads
// back as it was put, and decides requests of the admin, a principal it
// may name and one it does not with no other error than a denial.
func FuzzKeyPolicy(f *testing.F) {
	fx := newSvcFixture(f)
	bob := nobody("bob")
	for _, doc := range []string{
		awsPolicy(theAccount),
		awsPolicy(theAccount, `{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::`+awsAccount+`:user/bob","111122223333"]},"Action":["kms:Sign","kms:ReEncrypt*"],"Resource":"*",
			"Condition":{"StringEquals":{"kms:EncryptionContext:a":["b",1,true]},"Bool":{"kms:GrantIsForAWSResource":false}}}`),
		ramPolicy(`{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":["*"]}`, `{"Effect":"Allow","Principal":{"RAM":"acs:ram::`+account+`:*"},"Action":"kms:*","Resource":"*"}`),
		`{"Statement":{"Effect":"Allow","Principal":{"Service":"x","RAM":["acs:ram::` + account + `:user/bob"]},"Action":"kms:*","Resource":"*","Sid":"a"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		awsPolicy(theAccount, `{"Effect":"Deny","Principal":"*","Action":"kms:GenerateDataKey","Resource":"*",
			"Condition":{"ForAnyValue:StringLike":{"kms:ResourceAliases":["alias/a*"]},"StringNotEquals":{"kms:RequestAlias":"alias/b"}}}`),
	} {
		f.Add(doc, false)
		f.Add(doc, true)
	}
	// Each of these was once quoted whole in its refusal, as long as the
	// document let it be.
	long := strings.Repeat("é", 3000)
	for _, st := range []string{
		`{"Effect":"` + long + `","Principal":"*","Action":"kms:*","Resource":"*"}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"` + long + `":{"kms:EncryptionContext:a":"x"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:` + long + `":"x"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"` + long + `"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"` + long + `"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Ac` + long + `":1}`,
	} {
		f.Add(awsPolicy(theAccount, st), false)
	}
	// And each of these would be, were it not clipped.
	for _, st := range []string{
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"` + long + `":{"kms:CallerAccount":"x"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"` + long + `","Resource":"*"}`,
		`{"Effect":"Allow","Principal":{"AWS":"` + long + `"},"Action":"kms:*","Resource":"*"}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"kms:EncryptionContext:` + long + `":"x"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"kms:EncryptionContext:` + long + `":"10.0.0.0/8"}}}`,
		`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:` + long + `":[]}}}`,
	} {
		f.Add(awsPolicy(theAccount, st), false)
	}
	f.Add(ramPolicy(`{"Effect":"Allow","Principal":{"RAM":"`+long+`"},"Action":"kms:*","Resource":"*"}`), false)
	f.Add(`{"Version":"`+long+`","Statement":[`+theAccount+`]}`, false)
	f.Fuzz(func(t *testing.T, doc string, bypass bool) {
		made, err := fx.as(fx.admin, "CreateKey")
		if err != nil {
			t.Fatal(err)
		}
		key := made.(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
		_, err = fx.as(fx.admin, "SetKeyPolicy", "KeyId", key, "Policy", doc, "BypassPolicyLockoutSafetyCheck", fmt.Sprint(bypass))
		if err != nil {
			if ke := refusal(t, err); ke.Code != core.CodeMalformedPolicy && ke.Code != core.CodeInvalidParameter && ke.Code != core.CodeMissingParameter {
				t.Fatalf("SetKeyPolicy refused as %s: %s", ke.Code, ke.Message)
			}
			return
		}
		for _, p := range []*core.Principal{fx.admin, bob, nobody("eve")} {
			r, err := fx.as(p, "GetKeyPolicy", "KeyId", key)
			if err == nil && r.(*alibaba.PolicyResponse).Policy != doc {
				t.Fatalf("GetKeyPolicy = %q; want %q", r.(*alibaba.PolicyResponse).Policy, doc)
			}
			if err != nil && refusal(t, err).Code != core.CodeNoPermission {
				t.Fatalf("GetKeyPolicy as %s: %v", p.Name, err)
			}
			if _, err := fx.as(p, "GenerateDataKey", "KeyId", key, "EncryptionContext", `{"a":"b"}`); err != nil && refusal(t, err).Code != core.CodeNoPermission {
				t.Fatalf("GenerateDataKey as %s: %v", p.Name, err)
			}
		}
	})
}

// maxRefusal bounds the message of a refusal, as fuzz_internal_test.go's
// does: a message quotes at most a bounded prefix of the input.
const maxRefusal = 2048

// refusedBounded sends p to action as fx's admin and tells whether it was
// refused: whatever the action makes of p, a refusal is one the caller's
// input may cause, in a bounded message (refusal).
func refusedBounded(t *testing.T, fx *svcFixture, action string, p core.Params) bool {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("%s with %.300v", action, p)
		}
	}()
	_, err := fx.svc.Handle(background, &core.Request{ID: "TEST", Action: action, Params: p, Caller: fx.admin})
	if err != nil {
		refusal(t, err)
	}
	return err != nil
}

// refusal fails t unless err is an answer a caller may get for its own
// input: a *core.Error with a code from the table, never InternalFailure,
// in a message of bounded length that shows none of secrets.
func refusal(t *testing.T, err error, secrets ...string) *core.Error {
	t.Helper()
	var ke *core.Error
	if !errors.As(err, &ke) {
		t.Fatalf("error is not a *core.Error: %v", err)
	}
	if !designCodes[ke.Code] {
		t.Fatalf("code %s (%s) is not one bad input may cause", ke.Code, ke.Message)
	}
	if len(ke.Message) > maxRefusal {
		t.Fatalf("a refusal of %d bytes: %.200s…", len(ke.Message), ke.Message)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(ke.Message, s) {
			t.Fatalf("the refusal shows a secret: %s", ke.Message)
		}
	}
	return ke
}

// FuzzListTagResources pages tags with any NextToken, ResourceId.1 and tag
// filter, as a caller allowed every key or one allowed a single key: a
// refusal is one of the table's, and a page lists only rows that exist,
// match the filter and belong to keys the caller may list.
func FuzzListTagResources(f *testing.F) {
	fx := newSvcFixture(f)
	tags := map[string]map[string]string{}
	var ids []string
	for range 11 {
		id := fx.createKey("Tags", fullTags())
		ids = append(ids, id)
		tags[id] = map[string]string{}
		for i := range core.MaxTags {
			tags[id][fmt.Sprintf("k%d", i)] = "v"
		}
	}
	first := fx.ok("ListTagResources").(*alibaba.ListTagResourcesResponse)
	token := first.NextToken
	if token == "" {
		f.Fatal("220 rows fit one page")
	}
	one := &core.Principal{Name: "one", AccessKeyID: "LTAIone", Policy: core.MustPolicy(core.Statement{
		Effect: "Allow", Action: []string{"kms:ListTagResources"}, Resource: []string{"acs:kms:*:*:key/" + ids[0]}})}
	for _, restricted := range []bool{false, true} {
		f.Add(token, "", "", "", restricted)
		f.Add(token, ids[0], "k1", "", restricted)
		f.Add(token, ids[1], "k19", "v", restricted)
		f.Add("", "", "k3", "w", restricted)
		f.Add(token[:len(token)-1], "acs:kms:cn-hangzhou:1234567890123456:key/"+ids[0], "", "", restricted)
		f.Add("AA", "alias/none", "k1", "", restricted)
		f.Add("", "acs:kms:us-west-1:1234567890123456:key/"+strings.Repeat("k", 4096), "", "", restricted)
	}
	f.Fuzz(func(t *testing.T, token, resource, tagKey, tagValue string, restricted bool) {
		p := core.Params{}
		if token != "" {
			p["NextToken"] = token
		}
		if resource != "" {
			p["ResourceId.1"] = resource
		}
		if tagKey != "" {
			p["Tag.1.Key"], p["Tag.1.Value"] = tagKey, tagValue
		}
		caller := fx.admin
		if restricted {
			caller = one
		}
		r, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "ListTagResources", Params: p, Caller: caller})
		if err != nil {
			refusal(t, err)
			return
		}
		l := r.(core.TagListing)
		if len(l.Items) > core.TagPageSize {
			t.Fatalf("a page of %d rows", len(l.Items))
		}
		for _, row := range l.Items {
			if restricted && row.ResourceID != ids[0] {
				t.Fatalf("a caller allowed %s only is shown a row of %s", ids[0], row.ResourceID)
			}
			if v, ok := tags[row.ResourceID][row.Key]; !ok || v != row.Value {
				t.Fatalf("row %+v exists nowhere", row)
			}
			if tagKey != "" && (row.Key != tagKey || tagValue != "" && row.Value != tagValue) {
				t.Fatalf("row %+v does not match the filter %s=%s", row, tagKey, tagValue)
			}
		}
	})
}

// FuzzExportPublicKey exports data keys under any PublicKeyBlob: a refusal
// is InvalidParameter (MissingParameter for none) and shows neither the
// data key nor more than a bounded prefix of the blob; a blob that is taken
// is a 2048-bit RSA SubjectPublicKeyInfo in base64 within the bound, and
// when it is the fuzzer's own key, the exported key decrypts to the data
// key.
func FuzzExportPublicKey(f *testing.F) {
	fx := newSvcFixture(f)
	id := fx.createKey()
	dk := fx.ok("GenerateDataKey", "KeyId", id, "EncryptionContext", `{"k":"v"}`).(*alibaba.DataKeyResponse)
	plaintext, err := base64.StdEncoding.DecodeString(dk.Plaintext)
	if err != nil {
		f.Fatal(err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	spki := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			f.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(der)
	}
	good := spki(&priv.PublicKey)
	for _, generate := range []bool{false, true} {
		for _, blob := range []string{good, spki(&small.PublicKey), good[:64] + "\n" + good[64:], good[:len(good)-4], "", "MA==", strings.Repeat("A", 1028)} {
			f.Add(blob, false, uint16(32), generate)
		}
		f.Add(good, true, uint16(214), generate)
		f.Add(good, false, uint16(191), generate)
	}
	f.Fuzz(func(t *testing.T, blob string, sha1Hash bool, n uint16, generate bool) {
		alg, h := "RSAES_OAEP_SHA_256", crypto.SHA256
		if sha1Hash {
			alg, h = "RSAES_OAEP_SHA_1", crypto.SHA1
		}
		p := core.Params{"WrappingKeySpec": "RSA_2048", "WrappingAlgorithm": alg, "PublicKeyBlob": blob}
		action := "ExportDataKey"
		if generate {
			action = "GenerateAndExportDataKey"
			p["KeyId"], p["NumberOfBytes"] = id, strconv.Itoa(int(n%1024)+1)
		} else {
			p["CiphertextBlob"], p["EncryptionContext"] = dk.CiphertextBlob, `{"k":"v"}`
		}
		r, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: action, Params: p, Caller: fx.admin})
		if err != nil {
			ke := refusal(t, err, dk.Plaintext, hex.EncodeToString(plaintext))
			if ke.Code != core.CodeInvalidParameter && (ke.Code != core.CodeMissingParameter || blob != "") {
				t.Fatalf("%s refused with %s: %s", action, ke.Code, ke.Message)
			}
			if len(blob) > 64 && strings.Contains(ke.Message, blob[:64]) {
				t.Fatalf("the refusal quotes the blob: %s", ke.Message)
			}
			return
		}
		der, err := base64.StdEncoding.DecodeString(blob)
		if len(blob) > 1024 || err != nil {
			t.Fatalf("took a blob of %d characters that is not base64 within the bound (%v)", len(blob), err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		rp, ok := pub.(*rsa.PublicKey)
		if err != nil || !ok || rp.N.BitLen() != 2048 {
			t.Fatalf("took %T, %v: not a 2048-bit RSA key", pub, err)
		}
		var exported, want []byte
		switch r := r.(type) {
		case core.Exported:
			exported, want = r.ExportedKey, plaintext
		case core.SealedAndExported:
			exported = r.ExportedKey
			o, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "Decrypt", Caller: fx.admin,
				Params: core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(r.Blob)}})
			if err != nil {
				t.Fatal(err)
			}
			want = o.(core.Opened).Plaintext
		}
		if !rp.Equal(&priv.PublicKey) {
			return
		}
		got, err := rsa.DecryptOAEP(h.New(), nil, priv, exported, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("the exported key does not decrypt to the data key: %v", err)
		}
	})
}

// FuzzImportKeyMaterial imports any EncryptedKeyMaterial with any
// ImportToken and expiry into one of two EXTERNAL keys, the token being
// made for the first: a refusal is one of the table's and shows neither the
// material nor the token; an import is taken only into the token's key,
// with a token the service made, and with an expiry every store keeps.
func FuzzImportKeyMaterial(f *testing.F) {
	fx := newSvcFixture(f)
	a, b := fx.createKey("Origin", "EXTERNAL"), fx.createKey("Origin", "EXTERNAL")
	material := make([]byte, core.KeyMaterialSize)
	if _, err := rand.Read(material); err != nil {
		f.Fatal(err)
	}
	tokens := map[string]bool{}
	future := strconv.FormatInt(fx.clock.Now().Add(time.Hour).Unix(), 10)
	for _, alg := range []string{"RSAES_OAEP_SHA_256", "RSAES_PKCS1_V1_5"} {
		r, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "GetParametersForImport", Caller: fx.admin,
			Params: core.Params{"KeyId": a, "WrappingAlgorithm": alg, "WrappingKeySpec": "RSA_2048"}})
		if err != nil {
			f.Fatal(err)
		}
		ip := r.(core.ImportParameters)
		raw, _ := base64.StdEncoding.DecodeString(ip.Token)
		tokens[string(raw)] = true
		pub, err := x509.ParsePKIXPublicKey(ip.PublicKey)
		if err != nil {
			f.Fatal(err)
		}
		var wrapped []byte
		if alg == "RSAES_PKCS1_V1_5" {
			wrapped, err = rsa.EncryptPKCS1v15(rand.Reader, pub.(*rsa.PublicKey), material)
		} else {
			wrapped, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
		}
		if err != nil {
			f.Fatal(err)
		}
		w := base64.StdEncoding.EncodeToString(wrapped)
		for _, onB := range []bool{false, true} {
			f.Add(ip.Token, w, "", onB)
			f.Add(ip.Token, w, future, onB)
			f.Add(ip.Token, w, "253402300800", onB) // the first second of 10000
			f.Add(ip.Token, w[:len(w)-4], "0", onB)
			f.Add(ip.Token[:len(ip.Token)-4], w, "", onB)
			f.Add(ip.Token, base64.StdEncoding.EncodeToString(material), "-1", onB)
		}
	}
	f.Fuzz(func(t *testing.T, token, wrapped, expire string, onB bool) {
		key := a
		if onB {
			key = b
		}
		p := core.Params{"KeyId": key, "ImportToken": token, "EncryptedKeyMaterial": wrapped}
		if expire != "" {
			p["KeyMaterialExpireUnix"] = expire
		}
		_, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "ImportKeyMaterial", Params: p, Caller: fx.admin})
		if err != nil {
			secrets := []string{base64.StdEncoding.EncodeToString(material), hex.EncodeToString(material)}
			if len(token) > 64 {
				secrets = append(secrets, token[:64])
			}
			refusal(t, err, secrets...)
			return
		}
		if raw, err := base64.StdEncoding.DecodeString(token); err != nil || !tokens[string(raw)] {
			t.Fatalf("an ImportToken the service did not make was taken: %q", token)
		}
		if onB {
			t.Fatalf("a token made for %s imported into %s", a, b)
		}
		r, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "DescribeKey", Params: core.Params{"KeyId": key}, Caller: fx.admin})
		if err != nil {
			t.Fatal(err)
		}
		if at := r.(core.Key).MaterialExpireAt; !at.IsZero() && (at.Year() < 1 || at.Year() > 9999) {
			t.Fatalf("KeyMaterialExpireUnix %q took an expiry no store keeps: %v", expire, at)
		}
	})
}

// FuzzTags sends any Tags (TagResource), TagKeys (UntagResource) or Tag.N
// parameters (TagResources, form-encoded) for one key: a refusal is
// InvalidParameter or MissingParameter naming what was wrong, in a bounded
// message; tags that are taken keep Alibaba's rules, and the key's tags
// written back as a Tags list are taken again and change nothing.
func FuzzTags(f *testing.F) {
	fx := newSvcFixture(f)
	id := fx.createKey()
	for _, s := range []string{
		`[{"TagKey":"team","TagValue":"payments"}]`, fullTags(),
		`[{"TagKey":"a","TagValue":""},{"TagKey":"b"}]`, `[{"TagKey":"a","TagValue":"1"},{"TagKey":"a","TagValue":"2"}]`,
		`[{"TagKey":"a","TagKey":"b"}]`, `[{"tagkey":"a"}]`, `[{"TagKey":null}]`, `[{"TagKey":"k","Other":{"x":[1]}}]`,
		`[{"TagKey":"aliyun-x"}]`, `[{"TagKey":"标签","TagValue":"a b"}]`, `[]`, `[] []`, `{"TagKey":"a"}`,
		`["team"]`, `["team","other"]`, `[1]`,
		"Tag.1.Key=team&Tag.1.Value=x", "Tag.1.Key=team&Tag.2.Key=team", "Tag.1.Key=acs%3Ax", "Tag.2.Key=skipped",
		`[{"TagKey":"` + strings.Repeat(`\u0001`, 1000) + `"},{"TagKey":"` + strings.Repeat(`\u0001`, 1000) + `"}]`,
		"Tag.1.Key=" + strings.Repeat("%01", 1000) + "&Tag.2.Key=" + strings.Repeat("%01", 1000),
	} {
		for which := range uint8(3) {
			f.Add(which, s)
		}
	}
	tagsOf := func(t *testing.T) map[string]string {
		r, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "ListResourceTags", Params: core.Params{"KeyId": id}, Caller: fx.admin})
		if err != nil {
			t.Fatal(err)
		}
		return r.(core.KeyTags).Tags
	}
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		var action string
		p := core.Params{"KeyId": id}
		switch which % 3 {
		case 0:
			action, p["Tags"] = "TagResource", text
		case 1:
			action, p["TagKeys"] = "UntagResource", text
		case 2:
			action = "TagResources"
			values, _ := url.ParseQuery(text)
			p = core.Params{"ResourceType": "key", "ResourceId.1": id}
			for k, vs := range values {
				if strings.HasPrefix(k, "Tag.") {
					p[k] = vs[0]
				}
			}
		}
		_, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: action, Params: p, Caller: fx.admin})
		if err != nil {
			if ke := refusal(t, err); ke.Code != core.CodeInvalidParameter && ke.Code != core.CodeMissingParameter {
				t.Fatalf("%s refused with %s: %s", action, ke.Code, ke.Message)
			}
			return
		}
		tags := tagsOf(t)
		if len(tags) > core.MaxTags {
			t.Fatalf("%d tags", len(tags))
		}
		type tag struct{ TagKey, TagValue string }
		list := []tag{}
		for k, v := range tags {
			if n := utf8.RuneCountInString(k); n < 1 || n > core.MaxTagLen || utf8.RuneCountInString(v) > core.MaxTagLen {
				t.Fatalf("took tag %q=%q", k, v)
			}
			list = append(list, tag{k, v})
		}
		if len(list) > 0 {
			j, err := json.Marshal(list)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "TagResource", Params: core.Params{"KeyId": id, "Tags": string(j)}, Caller: fx.admin}); err != nil {
				t.Fatalf("the key's own tags %s are refused: %v", j, err)
			}
			if again := tagsOf(t); !maps.Equal(again, tags) {
				t.Fatalf("the key's own tags changed them: %v → %v", tags, again)
			}
		}
		if _, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: "UntagResources", Caller: fx.admin,
			Params: core.Params{"ResourceType": "key", "ResourceId.1": id, "All": "true"}}); err != nil {
			t.Fatal(err)
		}
	})
}
