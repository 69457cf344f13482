package rpc_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"hash"
	"net/http"
	"strings"
	"sync"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
)

// exportKey is the private half of the public key data keys are exported
// under, made once: a 2048-bit key takes tens of milliseconds.
var exportKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// publicKeyBlob is a public key as PublicKeyBlob carries it: base64 of its
// DER SubjectPublicKeyInfo.
func publicKeyBlob(t *testing.T, pub any) *string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return tea.String(base64.StdEncoding.EncodeToString(der))
}

// exportAlgorithms are the WrappingAlgorithms served with RSA_2048, and the
// hash of each.
var exportAlgorithms = map[string]func() hash.Hash{"RSAES_OAEP_SHA_256": sha256.New, "RSAES_OAEP_SHA_1": sha1.New}

// openExported decrypts an ExportedDataKey with the test's private key.
func openExported(t *testing.T, alg string, exported *string) []byte {
	t.Helper()
	ct, err := base64.StdEncoding.DecodeString(tea.StringValue(exported))
	if err != nil {
		t.Fatalf("ExportedDataKey is not base64: %v", err)
	}
	pt, err := rsa.DecryptOAEP(exportAlgorithms[alg](), nil, exportKey(), ct, nil)
	if err != nil {
		t.Fatalf("ExportedDataKey does not open with the private key under %s: %v", alg, err)
	}
	return pt
}

// decrypted is the data key Decrypt finds in a blob.
func (e *env) decrypted(t *testing.T, blob *string, ctx map[string]interface{}) []byte {
	t.Helper()
	d, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: blob, EncryptionContext: ctx})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	pt, err := base64.StdEncoding.DecodeString(tea.StringValue(d.Body.Plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

func TestSDKGenerateAndExportDataKeyOpensWithThePrivateKey(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	if _, err := e.client.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/hsm"), KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	pub := publicKeyBlob(t, &exportKey().PublicKey)
	ctx := map[string]interface{}{"module": "hsm-1"}
	for alg := range exportAlgorithms {
		for _, size := range []struct {
			spec  *string
			bytes *int32
			want  int
		}{{nil, nil, 32}, {tea.String("AES_128"), nil, 16}, {nil, tea.Int32(190), 190}} {
			g, err := e.client.GenerateAndExportDataKey(&kms.GenerateAndExportDataKeyRequest{
				KeyId: tea.String("alias/hsm"), KeySpec: size.spec, NumberOfBytes: size.bytes, EncryptionContext: ctx,
				PublicKeyBlob: pub, WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String(alg),
			})
			if err != nil {
				t.Fatalf("%s, %d bytes: %v", alg, size.want, err)
			}
			b := g.Body
			if tea.StringValue(b.KeyId) != id || tea.StringValue(b.KeyVersionId) != tea.StringValue(d.Body.KeyMetadata.PrimaryKeyVersion) {
				t.Fatalf("KeyId %q KeyVersionId %q, want the key's ID and primary version", tea.StringValue(b.KeyId), tea.StringValue(b.KeyVersionId))
			}
			exported := openExported(t, alg, b.ExportedDataKey)
			if len(exported) != size.want || !bytes.Equal(exported, e.decrypted(t, b.CiphertextBlob, ctx)) {
				t.Fatalf("%s: the exported data key (%d bytes) is not the one in the CiphertextBlob", alg, len(exported))
			}
		}
	}
}

func TestSDKExportDataKeyOfAWithoutPlaintextBlob(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	pub := publicKeyBlob(t, &exportKey().PublicKey)
	for _, ctx := range []map[string]interface{}{nil, {"partition": "p-0042", "tenant": "acme"}} {
		g, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), EncryptionContext: ctx})
		if err != nil {
			t.Fatal(err)
		}
		want := e.decrypted(t, g.Body.CiphertextBlob, ctx)
		for alg := range exportAlgorithms {
			x, err := e.client.ExportDataKey(&kms.ExportDataKeyRequest{
				CiphertextBlob: g.Body.CiphertextBlob, EncryptionContext: ctx,
				PublicKeyBlob: pub, WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String(alg),
			})
			if err != nil {
				t.Fatalf("context %v, %s: %v", ctx, alg, err)
			}
			if tea.StringValue(x.Body.KeyId) != id || tea.StringValue(x.Body.KeyVersionId) != tea.StringValue(g.Body.KeyVersionId) {
				t.Fatalf("KeyId %q KeyVersionId %q, want the blob's", tea.StringValue(x.Body.KeyId), tea.StringValue(x.Body.KeyVersionId))
			}
			if got := openExported(t, alg, x.Body.ExportedDataKey); !bytes.Equal(got, want) {
				t.Fatalf("context %v, %s: the exported data key is not the blob's", ctx, alg)
			}
		}
		// A context other than the blob's fails as it fails Decrypt.
		for _, wrong := range []map[string]interface{}{{"partition": "p-0043", "tenant": "acme"}, {"other": "context"}} {
			_, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob, EncryptionContext: wrong})
			sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
			_, err = e.client.ExportDataKey(&kms.ExportDataKeyRequest{
				CiphertextBlob: g.Body.CiphertextBlob, EncryptionContext: wrong,
				PublicKeyBlob: pub, WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_256"),
			})
			sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
		}
	}
	_, err := e.client.ExportDataKey(&kms.ExportDataKeyRequest{
		CiphertextBlob: tea.String("bm90IGEgYmxvYg=="),
		PublicKeyBlob:  pub, WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_256"),
	})
	sdkError(t, err, core.CodeInvalidCiphertext, http.StatusBadRequest)
}

func TestSDKExportRefusesWhatItCannotWrap(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	g, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	long, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id), NumberOfBytes: tea.Int32(191)})
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := tea.StringValue(publicKeyBlob(t, &exportKey().PublicKey))
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&exportKey().PublicKey))
	der, _ := base64.StdEncoding.DecodeString(good)
	trailing := base64.StdEncoding.EncodeToString(append(der, 0))
	evenExponent := publicKeyBlob(t, &rsa.PublicKey{N: exportKey().N, E: 65536})

	cases := []struct {
		name, pub, spec, alg string
		blob                 *string
		bytes                *int32
		code, param          string
		// generateParam is the parameter GenerateAndExportDataKey's
		// message names, when not param.
		generateParam string
	}{
		{name: "PublicKeyBlob not base64", pub: "not base64!", param: "PublicKeyBlob"},
		{name: "PublicKeyBlob not DER", pub: base64.StdEncoding.EncodeToString([]byte("not a key")), param: "PublicKeyBlob"},
		{name: "a PKCS #1 key, not SubjectPublicKeyInfo", pub: pkcs1, param: "PublicKeyBlob"},
		{name: "trailing bytes after the key", pub: trailing, param: "PublicKeyBlob"},
		{name: "an EC key for RSA_2048", pub: tea.StringValue(publicKeyBlob(t, &ec.PublicKey)), param: "PublicKeyBlob"},
		{name: "a 1024-bit key for RSA_2048", pub: tea.StringValue(publicKeyBlob(t, &small.PublicKey)), param: "PublicKeyBlob"},
		{name: "an even exponent", pub: tea.StringValue(evenExponent), param: "PublicKeyBlob"},
		{name: "PublicKeyBlob too long", pub: strings.Repeat("A", 2048), param: "PublicKeyBlob"},
		{name: "EC_SM2 with an RSA public key", spec: "EC_SM2", alg: "SM2PKE", param: "PublicKeyBlob"},
		{name: "RSA_3072", spec: "RSA_3072", param: "WrappingKeySpec"},
		{name: "SM2PKE with RSA_2048", alg: "SM2PKE", param: "WrappingAlgorithm"},
		{name: "RSAES_PKCS1_V1_5, which Alibaba does not offer here", alg: "RSAES_PKCS1_V1_5", param: "WrappingAlgorithm"},
		{name: "a data key longer than OAEP SHA-256 takes", blob: long.Body.CiphertextBlob, bytes: tea.Int32(191), param: "CiphertextBlob", generateParam: "NumberOfBytes"},
		{name: "no PublicKeyBlob", pub: "-", code: core.CodeMissingParameter, param: "PublicKeyBlob"},
		{name: "no WrappingKeySpec", spec: "-", code: core.CodeMissingParameter, param: "WrappingKeySpec"},
		{name: "no WrappingAlgorithm", alg: "-", code: core.CodeMissingParameter, param: "WrappingAlgorithm"},
	}
	or := func(v, def string) *string {
		switch v {
		case "":
			return tea.String(def)
		case "-":
			return nil
		}
		return tea.String(v)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := c.code
			if code == "" {
				code = core.CodeInvalidParameter
			}
			pub, spec, alg := or(c.pub, good), or(c.spec, "RSA_2048"), or(c.alg, "RSAES_OAEP_SHA_256")
			blob := g.Body.CiphertextBlob
			if c.blob != nil {
				blob = c.blob
			}
			_, err := e.client.ExportDataKey(&kms.ExportDataKeyRequest{CiphertextBlob: blob, PublicKeyBlob: pub, WrappingKeySpec: spec, WrappingAlgorithm: alg})
			se := sdkError(t, err, code, http.StatusBadRequest)
			if !strings.Contains(tea.StringValue(se.Message), c.param) {
				t.Errorf("ExportDataKey: message does not name %s: %s", c.param, tea.StringValue(se.Message))
			}
			_, err = e.client.GenerateAndExportDataKey(&kms.GenerateAndExportDataKeyRequest{KeyId: tea.String(id), NumberOfBytes: c.bytes,
				PublicKeyBlob: pub, WrappingKeySpec: spec, WrappingAlgorithm: alg})
			se = sdkError(t, err, code, http.StatusBadRequest)
			param := c.param
			if c.generateParam != "" {
				param = c.generateParam
			}
			if !strings.Contains(tea.StringValue(se.Message), param) {
				t.Errorf("GenerateAndExportDataKey: message does not name %s: %s", param, tea.StringValue(se.Message))
			}
		})
	}
	// SHA-1 leaves room for 214 bytes under RSA_2048.
	if _, err := e.client.ExportDataKey(&kms.ExportDataKeyRequest{CiphertextBlob: long.Body.CiphertextBlob, PublicKeyBlob: tea.String(good),
		WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_1")}); err != nil {
		t.Fatalf("191 bytes under RSAES_OAEP_SHA_1: %v", err)
	}
}

func TestSDKExportFollowsKeyStateAndPermission(t *testing.T) {
	const (
		decID, decSecret = "LTAI5tDecryptOnly000001", "decrypt-only-secret"
		expID, expSecret = "LTAI5tExporter000000001", "exporter-secret"
	)
	e := newEnv(t,
		withPrincipal("decrypter", decID, decSecret, 1000, allow([]string{"kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"}, "*")),
		withPrincipal("exporter", expID, expSecret, 1000, allow([]string{"kms:ExportDataKey", "kms:GenerateAndExportDataKey"}, "acs:kms:*:*:key/*")))
	id := e.createKey()
	pub := publicKeyBlob(t, &exportKey().PublicKey)
	wrap := func(alg string) (*string, *string, *string) {
		return pub, tea.String("RSA_2048"), tea.String(alg)
	}
	export := func(c *kms.Client, blob *string, dry string) error {
		p, s, a := wrap("RSAES_OAEP_SHA_256")
		req := &kms.ExportDataKeyRequest{CiphertextBlob: blob, PublicKeyBlob: p, WrappingKeySpec: s, WrappingAlgorithm: a}
		if dry != "" {
			req.DryRun = tea.String(dry)
		}
		_, err := c.ExportDataKey(req)
		return err
	}
	generate := func(c *kms.Client, dry string) error {
		p, s, a := wrap("RSAES_OAEP_SHA_1")
		req := &kms.GenerateAndExportDataKeyRequest{KeyId: tea.String(id), PublicKeyBlob: p, WrappingKeySpec: s, WrappingAlgorithm: a}
		if dry != "" {
			req.DryRun = tea.String(dry)
		}
		_, err := c.GenerateAndExportDataKey(req)
		return err
	}
	g, err := e.client.GenerateDataKeyWithoutPlaintext(&kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	blob := g.Body.CiphertextBlob

	// Decrypt and GenerateDataKey do not grant the export actions, nor do
	// they grant Decrypt.
	dec, exp := e.sdk(decID, decSecret), e.sdk(expID, expSecret)
	sdkError(t, export(dec, blob, ""), core.CodeNoPermission, http.StatusForbidden)
	sdkError(t, generate(dec, ""), core.CodeNoPermission, http.StatusForbidden)
	sdkError(t, export(dec, blob, "true"), core.CodeAccessDenied, http.StatusForbidden)
	if err := export(exp, blob, ""); err != nil {
		t.Fatalf("ExportDataKey allowed on the blob's key: %v", err)
	}
	if err := generate(exp, ""); err != nil {
		t.Fatalf("GenerateAndExportDataKey allowed on the key: %v", err)
	}
	_, err = exp.Decrypt(&kms.DecryptRequest{CiphertextBlob: blob})
	sdkError(t, err, core.CodeNoPermission, http.StatusForbidden)

	sdkError(t, export(exp, blob, "true"), core.CodeDryRunOperation, http.StatusBadRequest)
	sdkError(t, generate(exp, "true"), core.CodeDryRunOperation, http.StatusBadRequest)
	_, err = exp.GenerateAndExportDataKey(&kms.GenerateAndExportDataKeyRequest{KeyId: tea.String(id), PublicKeyBlob: tea.String("AAAA"),
		WrappingKeySpec: tea.String("RSA_2048"), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_1"), DryRun: tea.String("true")})
	sdkError(t, err, core.CodeValidation, http.StatusBadRequest)

	// Key states answer as they answer Decrypt and GenerateDataKey.
	if _, err := e.client.DisableKey(&kms.DisableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	sdkError(t, export(exp, blob, ""), core.CodeDisabled, http.StatusConflict)
	sdkError(t, generate(exp, ""), core.CodeDisabled, http.StatusConflict)
	if _, err := e.client.EnableKey(&kms.EnableKeyRequest{KeyId: tea.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(id), PendingWindowInDays: tea.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	sdkError(t, export(exp, blob, ""), core.CodePendingDeletion, http.StatusConflict)
	sdkError(t, generate(exp, ""), core.CodePendingDeletion, http.StatusConflict)
}
