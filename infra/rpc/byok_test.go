package rpc_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/testclock"
)

// wrapper wraps 32 bytes of key material under the public key of
// GetParametersForImport, as a user would.
type wrapper func(t *testing.T, alg string, publicKey string, material []byte) string

// wrapWithGo uses crypto/rsa.
func wrapWithGo(t *testing.T, alg, publicKey string, material []byte) string {
	der, err := base64.StdEncoding.DecodeString(publicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := pub.(*rsa.PublicKey)
	if rsaPub.N.BitLen() != 2048 {
		t.Fatalf("a %d-bit wrapping key", rsaPub.N.BitLen())
	}
	var out []byte
	switch alg {
	case "RSAES_OAEP_SHA_256":
		out, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, rsaPub, material, nil)
	case "RSAES_OAEP_SHA_1":
		out, err = rsa.EncryptOAEP(sha1.New(), rand.Reader, rsaPub, material, nil)
	case "RSAES_PKCS1_V1_5":
		out, err = rsa.EncryptPKCS1v15(rand.Reader, rsaPub, material)
	}
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// wrapWithOpenSSL uses the openssl pkeyutl command line.
func wrapWithOpenSSL(t *testing.T, alg, publicKey string, material []byte) string {
	der, err := base64.StdEncoding.DecodeString(publicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pubPath, inPath, outPath := filepath.Join(dir, "wrapping.pem"), filepath.Join(dir, "material.bin"), filepath.Join(dir, "wrapped.bin")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inPath, material, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"pkeyutl", "-encrypt", "-pubin", "-inkey", pubPath, "-in", inPath, "-out", outPath}
	switch alg {
	case "RSAES_OAEP_SHA_256":
		args = append(args, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256")
	case "RSAES_OAEP_SHA_1":
		args = append(args, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1")
	case "RSAES_PKCS1_V1_5":
		args = append(args, "-pkeyopt", "rsa_padding_mode:pkcs1")
	}
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v: %s", err, out)
	}
	wrapped, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(wrapped)
}

func TestBYOKRoundTrip(t *testing.T) {
	wrappers := map[string]wrapper{"crypto/rsa": wrapWithGo, "openssl": wrapWithOpenSSL}
	for name, wrap := range wrappers {
		for _, alg := range []string{"RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"} {
			t.Run(name+"/"+alg, func(t *testing.T) {
				if name == "openssl" {
					if _, err := exec.LookPath("openssl"); err != nil {
						t.Skip("openssl is not installed: the command-line round trip is not run")
					}
				}
				byokRoundTrip(t, alg, wrap)
			})
		}
	}
}

func byokRoundTrip(t *testing.T, alg string, wrap wrapper) {
	clock := testclock.New(time.Now())
	e := newEnv(t, func(s *setup) { s.clock, s.opts.Clock = clock, core.SystemClock{} })
	created, err := e.client.CreateKey(&kms.CreateKeyRequest{Origin: tea.String("EXTERNAL")})
	if err != nil {
		t.Fatal(err)
	}
	meta := created.Body.KeyMetadata
	keyID := tea.StringValue(meta.KeyId)
	if tea.StringValue(meta.KeyState) != "PendingImport" || tea.StringValue(meta.Origin) != "EXTERNAL" {
		t.Fatalf("an EXTERNAL key starts %s, origin %s", tea.StringValue(meta.KeyState), tea.StringValue(meta.Origin))
	}
	_, err = e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(keyID), Plaintext: tea.String("aGk=")})
	sdkError(t, err, core.CodePendingImport, http.StatusConflict)

	params, err := e.client.GetParametersForImport(&kms.GetParametersForImportRequest{
		KeyId: tea.String(keyID), WrappingAlgorithm: tea.String(alg), WrappingKeySpec: tea.String("RSA_2048")})
	if err != nil {
		t.Fatal(err)
	}
	p := params.Body
	if tea.StringValue(p.KeyId) != keyID || tea.StringValue(p.ImportToken) == "" || tea.StringValue(p.TokenExpireTime) == "" {
		t.Fatalf("GetParametersForImport = %v", p)
	}
	material := make([]byte, 32)
	_, _ = rand.Read(material)
	wrapped := wrap(t, alg, tea.StringValue(p.PublicKey), material)
	expire := clock.Now().Add(time.Hour).Unix()
	if _, err := e.client.ImportKeyMaterial(&kms.ImportKeyMaterialRequest{KeyId: tea.String(keyID),
		EncryptedKeyMaterial: tea.String(wrapped), ImportToken: p.ImportToken, KeyMaterialExpireUnix: tea.Int64(expire)}); err != nil {
		t.Fatal(err)
	}
	desc, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	if m := desc.Body.KeyMetadata; tea.StringValue(m.KeyState) != "Enabled" || tea.StringValue(m.MaterialExpireTime) != time.Unix(expire, 0).UTC().Format("2006-01-02T15:04:05Z") {
		t.Fatalf("after import: %s, material expires %s", tea.StringValue(m.KeyState), tea.StringValue(m.MaterialExpireTime))
	}
	pt := base64.StdEncoding.EncodeToString([]byte("brought my own key"))
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(keyID), Plaintext: tea.String(pt)})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob})
	if err != nil || tea.StringValue(dec.Body.Plaintext) != pt {
		t.Fatalf("Decrypt = %v, %v", dec, err)
	}

	// The same material again, within the token's life, is accepted; other
	// material is not, nor is a token of another key.
	if _, err := e.client.ImportKeyMaterial(&kms.ImportKeyMaterialRequest{KeyId: tea.String(keyID),
		EncryptedKeyMaterial: tea.String(wrap(t, alg, tea.StringValue(p.PublicKey), material)), ImportToken: p.ImportToken,
		KeyMaterialExpireUnix: tea.Int64(expire)}); err != nil {
		t.Fatalf("re-import of the same material: %v", err)
	}
	other := bytes.Repeat([]byte{1}, 32)
	_, err = e.client.ImportKeyMaterial(&kms.ImportKeyMaterialRequest{KeyId: tea.String(keyID),
		EncryptedKeyMaterial: tea.String(wrap(t, alg, tea.StringValue(p.PublicKey), other)), ImportToken: p.ImportToken})
	sdkError(t, err, core.CodeInvalidKeyMaterial, http.StatusBadRequest)

	// The material expires: the key is PendingImport again and refuses use.
	clock.Advance(2 * time.Hour)
	_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob})
	sdkError(t, err, core.CodePendingImport, http.StatusConflict)
	desc, _ = e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(keyID)})
	if s := tea.StringValue(desc.Body.KeyMetadata.KeyState); s != "PendingImport" {
		t.Fatalf("after expiry the key is %s", s)
	}
	// The token has expired too, a day after it was issued.
	clock.Advance(23 * time.Hour)
	_, err = e.client.ImportKeyMaterial(&kms.ImportKeyMaterialRequest{KeyId: tea.String(keyID),
		EncryptedKeyMaterial: tea.String(wrapped), ImportToken: p.ImportToken})
	sdkError(t, err, core.CodeExpiredImportToken, http.StatusBadRequest)
}

func TestBYOKRefusals(t *testing.T) {
	e := newEnv(t)
	external := func() string {
		r, err := e.client.CreateKey(&kms.CreateKeyRequest{Origin: tea.String("EXTERNAL")})
		if err != nil {
			t.Fatal(err)
		}
		return tea.StringValue(r.Body.KeyMetadata.KeyId)
	}
	a, b, native := external(), external(), e.createKey()
	params := func(keyID string) *kms.GetParametersForImportResponseBody {
		r, err := e.client.GetParametersForImport(&kms.GetParametersForImportRequest{
			KeyId: tea.String(keyID), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_256"), WrappingKeySpec: tea.String("RSA_2048")})
		if err != nil {
			t.Fatal(err)
		}
		return r.Body
	}
	pa, pb := params(a), params(b)
	material := bytes.Repeat([]byte{7}, 32)
	wrappedA := wrapWithGo(t, "RSAES_OAEP_SHA_256", tea.StringValue(pa.PublicKey), material)

	imp := func(keyID, wrapped, token string) error {
		_, err := e.client.ImportKeyMaterial(&kms.ImportKeyMaterialRequest{KeyId: tea.String(keyID),
			EncryptedKeyMaterial: tea.String(wrapped), ImportToken: tea.String(token)})
		return err
	}
	// Another key's token, a forged one, and material wrapped for another
	// token's key pair.
	sdkError(t, imp(b, wrappedA, tea.StringValue(pa.ImportToken)), core.CodeInvalidImportToken, http.StatusBadRequest)
	sdkError(t, imp(a, wrappedA, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 300))), core.CodeInvalidImportToken, http.StatusBadRequest)
	sdkError(t, imp(b, wrappedA, tea.StringValue(pb.ImportToken)), core.CodeInvalidKeyMaterial, http.StatusBadRequest)
	// Material of the wrong size.
	short := wrapWithGo(t, "RSAES_OAEP_SHA_256", tea.StringValue(pa.PublicKey), material[:16])
	sdkError(t, imp(a, short, tea.StringValue(pa.ImportToken)), core.CodeInvalidKeyMaterial, http.StatusBadRequest)
	// Keys the service made do not take imports.
	_, err := e.client.GetParametersForImport(&kms.GetParametersForImportRequest{
		KeyId: tea.String(native), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_256"), WrappingKeySpec: tea.String("RSA_2048")})
	sdkError(t, err, core.CodeUnsupportedOrigin, http.StatusBadRequest)
	_, err = e.client.GetParametersForImport(&kms.GetParametersForImportRequest{
		KeyId: tea.String(a), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_512"), WrappingKeySpec: tea.String("RSA_2048")})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)
	_, err = e.client.CreateKey(&kms.CreateKeyRequest{Origin: tea.String("EXTERNAL"), EnableAutomaticRotation: tea.Bool(true)})
	sdkError(t, err, core.CodeInvalidParameter, http.StatusBadRequest)

	// Imported, deleted, and only the same material may come back.
	if err := imp(a, wrappedA, tea.StringValue(pa.ImportToken)); err != nil {
		t.Fatal(err)
	}
	enc, err := e.client.Encrypt(&kms.EncryptRequest{KeyId: tea.String(a), Plaintext: tea.String("aGk=")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.CreateKeyVersion(&kms.CreateKeyVersionRequest{KeyId: tea.String(a)})
	sdkError(t, err, core.CodeUnsupportedOrigin, http.StatusBadRequest)
	if _, err := e.client.DeleteKeyMaterial(&kms.DeleteKeyMaterialRequest{KeyId: tea.String(a)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob})
	sdkError(t, err, core.CodePendingImport, http.StatusConflict)
	otherMaterial := wrapWithGo(t, "RSAES_OAEP_SHA_256", tea.StringValue(pa.PublicKey), bytes.Repeat([]byte{8}, 32))
	sdkError(t, imp(a, otherMaterial, tea.StringValue(pa.ImportToken)), core.CodeInvalidKeyMaterial, http.StatusBadRequest)
	if err := imp(a, wrappedA, tea.StringValue(pa.ImportToken)); err != nil {
		t.Fatalf("re-import after deletion: %v", err)
	}
	if _, err := e.client.Decrypt(&kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob}); err != nil {
		t.Fatalf("a blob made before the deletion: %v", err)
	}
	_, err = e.client.DeleteKeyMaterial(&kms.DeleteKeyMaterialRequest{KeyId: tea.String(native)})
	sdkError(t, err, core.CodeUnsupportedOrigin, http.StatusBadRequest)
}

// A key waiting for its material waits again after a cancelled deletion, and
// deleting material while the key is pending deletion leaves it pending.
func TestBYOKStatesAroundDeletion(t *testing.T) {
	e := newEnv(t)
	r, err := e.client.CreateKey(&kms.CreateKeyRequest{Origin: tea.String("EXTERNAL")})
	if err != nil {
		t.Fatal(err)
	}
	key := tea.StringValue(r.Body.KeyMetadata.KeyId)
	state := func() string {
		d, err := e.client.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return tea.StringValue(d.Body.KeyMetadata.KeyState)
	}
	_, err = e.client.EnableKey(&kms.EnableKeyRequest{KeyId: tea.String(key)})
	sdkError(t, err, core.CodeStateModifiedFailed, http.StatusConflict)
	if _, err := e.client.ScheduleKeyDeletion(&kms.ScheduleKeyDeletionRequest{KeyId: tea.String(key), PendingWindowInDays: tea.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	// A key pending deletion takes no material, so it gets no wrapping key.
	_, err = e.client.GetParametersForImport(&kms.GetParametersForImportRequest{KeyId: tea.String(key),
		WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_256"), WrappingKeySpec: tea.String("RSA_2048")})
	sdkError(t, err, core.CodeStateModifiedFailed, http.StatusConflict)
	if _, err := e.client.DeleteKeyMaterial(&kms.DeleteKeyMaterialRequest{KeyId: tea.String(key)}); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "PendingDeletion" {
		t.Fatalf("DeleteKeyMaterial moved a key pending deletion to %s", s)
	}
	if _, err := e.client.CancelKeyDeletion(&kms.CancelKeyDeletionRequest{KeyId: tea.String(key)}); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "PendingImport" {
		t.Fatalf("after the cancelled deletion the key is %s, want PendingImport", s)
	}
}
