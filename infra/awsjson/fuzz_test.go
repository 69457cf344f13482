package awsjson_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// maxRefusal bounds the message of a refusal: it quotes at most a bounded
// prefix of what the caller sent (a tag key of 128 characters, each
// escaped, is the longest quote).
const maxRefusal = 2048

// fuzzAPI is the AWS handler over a core.Service on the in-memory store,
// with the in-process cache and limiter and no nonce store, so that the
// fuzzer may send one body twice; requests go to it without a listener.
type fuzzAPI struct {
	h   http.Handler
	kms *core.Service
}

func newFuzzAPI(tb testing.TB) *fuzzAPI {
	tb.Helper()
	root, err := core.GenerateRootKey()
	if err != nil {
		tb.Fatal(err)
	}
	rk, err := core.NewRootKey(root)
	if err != nil {
		tb.Fatal(err)
	}
	store := memory.New()
	svc, err := core.New(core.Config{Store: store, Partitions: store, Root: rk, Region: testRegion, AccountID: testAccount,
		Cache: inproc.NewCache(time.Minute, 1000), Limiter: inproc.NewLimiter()})
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := core.NewDirectory([]core.Principal{{Name: "admin", AccessKeyID: adminID, Secret: core.NewSecret(adminSecret), Policy: core.FullAccess()}})
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzAPI{h: awsjson.New(awsjson.Options{MaxBody: 1 << 20, KMS: svc, Principals: dir}), kms: svc}
}

// fuzzReply is an answer of the handler: its status and JSON body, an
// error's type and message among it.
type fuzzReply struct {
	status  int
	body    []byte
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// call sends op with body, signed by the admin now.
func (a *fuzzAPI) call(tb testing.TB, op string, body []byte) fuzzReply {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://kms.test/", bytes.NewReader(body))
	req.Header.Set("Content-Type", awsjson.ContentType)
	req.Header.Set("X-Amz-Target", awsjson.TargetPrefix+op)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(bg, aws.Credentials{AccessKeyID: adminID, SecretAccessKey: adminSecret}, req, hex.EncodeToString(sum[:]), "kms", testRegion, time.Now()); err != nil {
		tb.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	r := fuzzReply{status: rec.Code, body: rec.Body.Bytes()}
	if r.status != http.StatusOK {
		if err := json.Unmarshal(r.body, &r); err != nil {
			tb.Fatalf("%s: a %d whose body is no AWS error: %q", op, r.status, r.body)
		}
	}
	return r
}

// ok sends op and fails tb unless it succeeds; it returns the response body.
func (a *fuzzAPI) ok(tb testing.TB, op string, v any) []byte {
	tb.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	r := a.call(tb, op, body)
	if r.status != http.StatusOK {
		tb.Fatalf("%s %s: %d %s: %s", op, body, r.status, r.Type, r.Message)
	}
	return r.body
}

// fuzzOperations are the operations FuzzAWSRequest sends: those whose
// request members the last release added or changed.
var fuzzOperations = []string{"CreateKey", "TagResource", "UntagResource", "ListResourceTags", "ListKeys",
	"GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial",
	"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKey", "GenerateMac", "VerifyMac",
	"Sign", "Verify", "GetPublicKey", "Encrypt", "Decrypt", "DeriveSharedSecret",
	"Encapsulate", "Decapsulate", "CreateGrant", "ListGrants", "ListRetirableGrants"}

// FuzzAWSRequest sends any body to the operations whose members the last
// releases added: an answer to the caller's own input is never a fault of
// the service (5xx), is an AWS error whose message stays within a bound,
// and shows none of the key material being imported.
func FuzzAWSRequest(f *testing.F) {
	api := newFuzzAPI(f)
	var created struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(api.ok(f, "CreateKey", map[string]any{"Origin": "EXTERNAL"}), &created); err != nil {
		f.Fatal(err)
	}
	external := created.KeyMetadata.KeyId
	if err := json.Unmarshal(api.ok(f, "CreateKey", map[string]any{"Tags": []map[string]string{{"TagKey": "team", "TagValue": "x"}, {"TagKey": "k00", "TagValue": ""}}}), &created); err != nil {
		f.Fatal(err)
	}
	tagged := created.KeyMetadata.KeyId
	var params struct{ ImportToken, PublicKey []byte }
	if err := json.Unmarshal(api.ok(f, "GetParametersForImport", map[string]any{"KeyId": external, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}), &params); err != nil {
		f.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(params.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	material := make([]byte, core.KeyMaterialSize)
	_, _ = rand.Read(material)
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	if err != nil {
		f.Fatal(err)
	}
	var page struct{ NextMarker string }
	if err := json.Unmarshal(api.ok(f, "ListResourceTags", map[string]any{"KeyId": tagged, "Limit": 1}), &page); err != nil {
		f.Fatal(err)
	}
	tagMarker := page.NextMarker
	if err := json.Unmarshal(api.ok(f, "ListKeys", map[string]any{"Limit": 1}), &page); err != nil {
		f.Fatal(err)
	}
	keysMarker := page.NextMarker
	validTo := time.Now().Add(time.Hour).Unix()
	var hmacKey struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(api.ok(f, "CreateKey", map[string]any{"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}), &hmacKey); err != nil {
		f.Fatal(err)
	}
	macKey := hmacKey.KeyMetadata.KeyId
	var signKey struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(api.ok(f, "CreateKey", map[string]any{"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}), &signKey); err != nil {
		f.Fatal(err)
	}
	signer := signKey.KeyMetadata.KeyId
	var rsaKey struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(api.ok(f, "CreateKey", map[string]any{"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"}), &rsaKey); err != nil {
		f.Fatal(err)
	}
	rsaSealer := rsaKey.KeyMetadata.KeyId
	var rsaSealed struct{ CiphertextBlob []byte }
	if err := json.Unmarshal(api.ok(f, "Encrypt", map[string]any{"KeyId": rsaSealer, "Plaintext": []byte("p"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}), &rsaSealed); err != nil {
		f.Fatal(err)
	}
	var signed struct{ Signature []byte }
	if err := json.Unmarshal(api.ok(f, "Sign", map[string]any{"KeyId": signer, "Message": []byte("m"), "SigningAlgorithm": "ECDSA_SHA_256"}), &signed); err != nil {
		f.Fatal(err)
	}
	var made struct{ Mac []byte }
	if err := json.Unmarshal(api.ok(f, "GenerateMac", map[string]any{"KeyId": macKey, "Message": []byte("m"), "MacAlgorithm": "HMAC_SHA_256"}), &made); err != nil {
		f.Fatal(err)
	}
	keyOf := func(in map[string]any) string {
		var k struct{ KeyMetadata struct{ KeyId string } }
		if err := json.Unmarshal(api.ok(f, "CreateKey", in), &k); err != nil {
			f.Fatal(err)
		}
		return k.KeyMetadata.KeyId
	}
	edSigner := keyOf(map[string]any{"KeySpec": "ECC_NIST_EDWARDS25519", "KeyUsage": "SIGN_VERIFY"})
	agreer := keyOf(map[string]any{"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
	k1Signer := keyOf(map[string]any{"KeySpec": "ECC_SECG_P256K1", "KeyUsage": "SIGN_VERIFY"})
	kemKey := keyOf(map[string]any{"KeySpec": "ML_KEM_512", "KeyUsage": "ENCAPSULATE_DECAPSULATE"})
	var encapsulated struct{ SharedSecretCiphertextBlob []byte }
	if err := json.Unmarshal(api.ok(f, "Encapsulate", map[string]any{"KeyId": kemKey, "EncapsulationAlgorithm": "ML_KEM"}), &encapsulated); err != nil {
		f.Fatal(err)
	}
	var peer struct{ PublicKey []byte }
	if err := json.Unmarshal(api.ok(f, "GetPublicKey", map[string]any{"KeyId": signer}), &peer); err != nil {
		f.Fatal(err)
	}
	seeds := map[string][]any{
		"Encapsulate": {
			map[string]any{"KeyId": kemKey, "EncapsulationAlgorithm": "ML_KEM", "DryRun": true},
			map[string]any{"KeyId": agreer, "EncapsulationAlgorithm": "ML_KEM"},
		},
		"Decapsulate": {
			map[string]any{"KeyId": kemKey, "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": encapsulated.SharedSecretCiphertextBlob},
			map[string]any{"KeyId": kemKey, "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": encapsulated.SharedSecretCiphertextBlob[1:]},
		},
		"DeriveSharedSecret": {
			map[string]any{"KeyId": agreer, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peer.PublicKey},
			map[string]any{"KeyId": agreer, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peer.PublicKey[1:], "DryRun": true},
			map[string]any{"KeyId": signer, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peer.PublicKey, "Recipient": map[string]any{"AttestationDocument": []byte("d")}},
		},
		"CreateKey": {
			map[string]any{"Origin": "EXTERNAL", "Description": "x"},
			map[string]any{"Tags": []map[string]any{{"TagKey": "a", "TagValue": ""}, {"TagKey": "aws:x", "TagValue": "y"}}},
			map[string]any{"Tags": []map[string]any{{"TagKey": "a"}}, "Origin": "AWS_CLOUDHSM"},
			map[string]any{"KeySpec": "HMAC_224", "KeyUsage": "GENERATE_VERIFY_MAC", "Origin": "EXTERNAL"},
			map[string]any{"CustomerMasterKeySpec": "HMAC_512", "KeyUsage": "ENCRYPT_DECRYPT"},
		},
		"TagResource": {
			map[string]any{"KeyId": tagged, "Tags": []map[string]any{{"TagKey": "team", "TagValue": "y"}}},
			map[string]any{"KeyId": "alias/none", "Tags": []map[string]any{{"TagKey": strings.Repeat("k", 129), "TagValue": ""}}},
		},
		"UntagResource": {
			map[string]any{"KeyId": tagged, "TagKeys": []string{"none", "aws:x"}},
			map[string]any{"KeyId": "arn:aws:kms:cn-hangzhou:567890123456:key/" + tagged, "TagKeys": []string{}},
		},
		"ListResourceTags": {
			map[string]any{"KeyId": tagged, "Limit": 1, "Marker": tagMarker},
			map[string]any{"KeyId": tagged, "Limit": 50, "Marker": keysMarker},
			map[string]any{"KeyId": tagged, "Marker": "2"},
		},
		"ListKeys": {
			map[string]any{"Limit": 1, "Marker": keysMarker},
			map[string]any{"Limit": 1000, "Marker": tagMarker},
			map[string]any{"ResourceOwners": []string{"OTHER_ACCOUNTS_VIA_RAM"}, "Marker": keysMarker},
			map[string]any{"ResourceOwners": []string{"SELF", "OTHER_ACCOUNTS_VIA_RAM"}, "Limit": 1},
		},
		"CreateGrant": {
			map[string]any{"KeyId": tagged, "GranteePrincipal": "arn:aws:iam::" + awsAccount + ":user/admin", "Operations": []string{"Decrypt"},
				"Constraints": map[string]any{"EncryptionContextSubset": map[string]string{"a": "b"}}},
			map[string]any{"KeyId": tagged, "GranteeServicePrincipal": "dynamodb.amazonaws.com", "RetiringPrincipal": "arn:aws:iam::" + awsAccount + ":user/admin",
				"Operations": []string{"Decrypt"}, "Constraints": map[string]any{"SourceArn": "arn:aws:dynamodb:us-east-1:" + awsAccount + ":table/t"}},
		},
		"ListGrants": {
			map[string]any{"KeyId": tagged, "GranteeServicePrincipal": "dynamodb.amazonaws.com"},
			map[string]any{"KeyId": tagged, "GranteePrincipal": "arn:aws:iam::" + awsAccount + ":user/admin", "Limit": 1},
		},
		"ListRetirableGrants": {
			map[string]any{"RetiringPrincipal": "arn:aws:iam::" + awsAccount + ":user/admin"},
			map[string]any{"RetiringServicePrincipal": "dynamodb.amazonaws.com"},
		},
		"GetParametersForImport": {
			map[string]any{"KeyId": external, "WrappingAlgorithm": "RSAES_OAEP_SHA_1", "WrappingKeySpec": "RSA_2048"},
			map[string]any{"KeyId": tagged, "WrappingAlgorithm": "RSAES_PKCS1_V1_5", "WrappingKeySpec": "RSA_4096"},
			map[string]any{"KeyId": external, "WrappingAlgorithm": "RSA_AES_KEY_WRAP_SHA_256", "WrappingKeySpec": "RSA_3072"},
		},
		"ImportKeyMaterial": {
			map[string]any{"KeyId": external, "ImportToken": params.ImportToken, "EncryptedKeyMaterial": wrapped, "ValidTo": validTo},
			map[string]any{"KeyId": external, "ImportToken": params.ImportToken, "EncryptedKeyMaterial": wrapped, "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"},
			map[string]any{"KeyId": tagged, "ImportToken": params.ImportToken, "EncryptedKeyMaterial": material, "ValidTo": 1e300},
		},
		"DeleteImportedKeyMaterial": {
			map[string]any{"KeyId": external},
			map[string]any{"KeyId": external, "KeyMaterialId": "x"},
		},
		"GenerateDataKeyPair": {
			map[string]any{"KeyId": tagged, "KeyPairSpec": "ECC_NIST_P256", "EncryptionContext": map[string]string{"a": "b"}},
			map[string]any{"KeyId": tagged, "KeyPairSpec": "SM2", "DryRun": true},
			map[string]any{"KeyId": tagged, "KeyPairSpec": "ECC_SECG_P256K1"},
			map[string]any{"KeyId": tagged, "KeyPairSpec": "ECC_NIST_P256", "Recipient": map[string]any{"AttestationDocument": "AA=="}},
		},
		"GenerateDataKeyPairWithoutPlaintext": {
			map[string]any{"KeyId": external, "KeyPairSpec": "ECC_NIST_EDWARDS25519"},
			map[string]any{"KeyId": "alias/none", "KeyPairSpec": 5, "GrantTokens": []string{""}},
		},
		"GenerateDataKey": {
			map[string]any{"KeyId": tagged, "KeySpec": "AES_256", "Recipient": map[string]any{"AttestationDocument": "AA=="}},
			map[string]any{"KeyId": tagged, "NumberOfBytes": 1025, "Recipient": nil},
			map[string]any{"KeyId": macKey, "KeySpec": "AES_256"},
		},
		"GenerateMac": {
			map[string]any{"KeyId": macKey, "Message": []byte("m"), "MacAlgorithm": "HMAC_SHA_256", "DryRun": true},
			map[string]any{"KeyId": tagged, "Message": material, "MacAlgorithm": "HMAC_SHA_384"},
			map[string]any{"KeyId": macKey, "Message": "not base64", "MacAlgorithm": "HMAC_SHA_1"},
		},
		"VerifyMac": {
			map[string]any{"KeyId": macKey, "Message": []byte("m"), "MacAlgorithm": "HMAC_SHA_256", "Mac": made.Mac},
			map[string]any{"KeyId": macKey, "Message": []byte("n"), "MacAlgorithm": "HMAC_SHA_256", "Mac": made.Mac, "GrantTokens": []string{"g"}},
			map[string]any{"KeyId": external, "Message": []byte("m"), "MacAlgorithm": "HMAC_SHA_512", "Mac": make([]byte, 6145)},
		},
		"Sign": {
			map[string]any{"KeyId": signer, "Message": make([]byte, 32), "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256", "DryRun": true},
			map[string]any{"KeyId": signer, "Message": []byte("m"), "SigningAlgorithm": "ED25519_SHA_512"},
			map[string]any{"KeyId": edSigner, "Message": make([]byte, 64), "MessageType": "DIGEST", "SigningAlgorithm": "ED25519_PH_SHA_512"},
			map[string]any{"KeyId": k1Signer, "Message": make([]byte, 32), "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256"},
			map[string]any{"KeyId": macKey, "Message": []byte("m"), "MessageType": "EXTERNAL_MU", "SigningAlgorithm": "RSASSA_PSS_SHA_512"},
		},
		"Verify": {
			map[string]any{"KeyId": signer, "Message": []byte("m"), "SigningAlgorithm": "ECDSA_SHA_256", "Signature": signed.Signature},
			map[string]any{"KeyId": signer, "Message": []byte("n"), "SigningAlgorithm": "ECDSA_SHA_256", "Signature": signed.Signature[1:]},
			map[string]any{"KeyId": k1Signer, "Message": []byte("m"), "SigningAlgorithm": "ECDSA_SHA_256", "Signature": signed.Signature},
		},
		"Encrypt": {
			map[string]any{"KeyId": rsaSealer, "Plaintext": make([]byte, 191), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
			map[string]any{"KeyId": rsaSealer, "Plaintext": []byte("p"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1", "EncryptionContext": map[string]string{"a": "b"}},
			map[string]any{"KeyId": signer, "Plaintext": []byte("p"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256", "DryRun": true},
		},
		"Decrypt": {
			map[string]any{"KeyId": rsaSealer, "CiphertextBlob": rsaSealed.CiphertextBlob, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
			map[string]any{"CiphertextBlob": rsaSealed.CiphertextBlob, "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"},
			map[string]any{"KeyId": macKey, "CiphertextBlob": rsaSealed.CiphertextBlob[1:], "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
		},
		"GetPublicKey": {
			map[string]any{"KeyId": signer, "GrantTokens": []string{"g"}},
			map[string]any{"KeyId": macKey},
		},
	}
	for i, op := range fuzzOperations {
		for _, v := range seeds[op] {
			body, err := json.Marshal(v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), string(body))
		}
		f.Add(uint8(i), `{"KeyId":1}`)
		f.Add(uint8(i), ``)
	}
	secrets := []string{base64.StdEncoding.EncodeToString(material), hex.EncodeToString(material)}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		op := fuzzOperations[int(which)%len(fuzzOperations)]
		r := api.call(t, op, []byte(body))
		if r.status == http.StatusOK {
			return
		}
		if r.status >= 500 || r.Type == "" || strings.HasPrefix(r.Type, "KMSInternal") {
			t.Fatalf("%s %q: %d %s: %s", op, body, r.status, r.Type, r.Message)
		}
		if len(r.Message) > maxRefusal {
			t.Fatalf("%s: a refusal of %d bytes: %.200s…", op, len(r.Message), r.Message)
		}
		for _, s := range secrets {
			if strings.Contains(r.Message, s) {
				t.Fatalf("%s: the refusal shows the key material: %s", op, r.Message)
			}
		}
	})
}

// FuzzListResourceTagsWalk tags a key with any tag AWS takes and one more,
// and walks its tags a page of one at a time by NextMarker: each marker the
// service returns is taken back, and each tag is listed once, in order.
func FuzzListResourceTagsWalk(f *testing.F) {
	api := newFuzzAPI(f)
	var created struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(api.ok(f, "CreateKey", map[string]any{}), &created); err != nil {
		f.Fatal(err)
	}
	id := created.KeyMetadata.KeyId
	for _, k := range []string{"team", "k00", strings.Repeat("\U0010FFFF", 128), "a:b/c d", "标签", "\u00a0", "zz"} {
		f.Add(k, "v")
	}
	f.Add("empty", "")
	f.Fuzz(func(t *testing.T, key, value string) {
		tags := map[string]string{"zz": "last"}
		list := []map[string]string{{"TagKey": "zz", "TagValue": "last"}}
		if key != "zz" {
			tags[key] = value
			list = append(list, map[string]string{"TagKey": key, "TagValue": value})
		}
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			return // no JSON body carries it
		}
		body, _ := json.Marshal(map[string]any{"KeyId": id, "Tags": list})
		if api.call(t, "TagResource", body).status != http.StatusOK {
			return // a tag AWS does not take
		}
		t.Cleanup(func() {
			keys, _ := json.Marshal(slices.Collect(maps.Keys(tags)))
			api.ok(t, "UntagResource", map[string]any{"KeyId": id, "TagKeys": json.RawMessage(keys)})
		})
		want := slices.Sorted(maps.Keys(tags))
		var got []string
		var marker *string
		for range len(want) + 1 {
			var page struct {
				Tags       []struct{ TagKey, TagValue string }
				Truncated  bool
				NextMarker string
			}
			body, _ := json.Marshal(map[string]any{"KeyId": id, "Limit": 1, "Marker": marker})
			r := api.call(t, "ListResourceTags", body)
			if r.status != http.StatusOK {
				t.Fatalf("the page after %q of %q: %d %s: %s", got, want, r.status, r.Type, r.Message)
			}
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			for _, tag := range page.Tags {
				if tags[tag.TagKey] != tag.TagValue {
					t.Fatalf("listed %q=%q of %v", tag.TagKey, tag.TagValue, tags)
				}
				got = append(got, tag.TagKey)
			}
			if !page.Truncated {
				break
			}
			marker = &page.NextMarker
		}
		if !slices.Equal(got, want) {
			t.Fatalf("the walk listed %q, not %q", got, want)
		}
	})
}
