package core_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
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
// naming the parameter, enforces the length limit, and a parsed context means
// the same after a JSON round trip (same AAD, opens the same blob).
func FuzzEncryptionContext(f *testing.F) {
	for _, s := range roundTripContexts {
		f.Add(s)
	}
	for _, s := range []string{`{"a":"1","a":"2"}`, `{"a":1}`, `[]`, `{"ab":"c"}`, `{"a":"bc"}`, `{"\ud800":"x"}`, "{\"a\":\"\xff\"}", contextOfLength(core.MaxEncryptionContextLen + 1)} {
		f.Add(s)
	}
	aead := testAEAD(f)
	f.Fuzz(func(t *testing.T, text string) {
		ctx, err := core.ParseEncryptionContext("EncryptionContext", text)
		if err != nil {
			var ke *core.Error
			if !errors.As(err, &ke) || ke.Code != core.CodeInvalidParameter || !strings.Contains(ke.Message, "EncryptionContext") {
				t.Fatalf("refused with %v", err)
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
	core.CodeDeletionProtection: true,
}

// FuzzParams sends arbitrary parameters (a form-encoded string) to the action
// chosen by the first argument, on a real store: no panic, only *core.Error
// with a code from the table, and never InternalFailure for bad input.
func FuzzParams(f *testing.F) {
	fx := newSvcFixture(f)
	id := fx.createKey()
	fx.ok("CreateAlias", "AliasName", "alias/fuzz", "KeyId", id)
	blob := fx.ok("GenerateDataKeyWithoutPlaintext", "KeyId", id, "EncryptionContext", `{"k":"v"}`).(*alibaba.CiphertextResponse).CiphertextBlob
	wrapping, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&wrapping.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	export := "&WrappingKeySpec=RSA_2048&WrappingAlgorithm=RSAES_OAEP_SHA_256&PublicKeyBlob=" + url.QueryEscape(base64.StdEncoding.EncodeToString(der))
	actions := core.Actions()
	slices.Sort(actions)
	seeds := []string{
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
	}
	for i := range actions {
		for _, s := range seeds {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, form string) {
		values, _ := url.ParseQuery(form)
		p := core.Params{}
		for k, vs := range values {
			p[k] = vs[0]
		}
		action := actions[int(which)%len(actions)]
		_, err := fx.svc.Handle(background, &core.Request{ID: "FUZZ", Action: action, Params: p, Caller: fx.admin})
		if err == nil {
			return
		}
		var ke *core.Error
		if !errors.As(err, &ke) {
			t.Fatalf("%s: error is not a *core.Error: %v", action, err)
		}
		if !designCodes[ke.Code] {
			t.Fatalf("%s %q: code %s (%s) is not one bad input may cause", action, form, ke.Code, ke.Message)
		}
	})
}
