package awsjson_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"hash"
	"net/http"
	"testing"
	"time"

	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/testclock"
)

// awsExternalKey makes a key of Origin EXTERNAL through the AWS API.
func (e *env) awsExternalKey() string {
	e.t.Helper()
	out, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	if err != nil {
		e.t.Fatalf("CreateKey EXTERNAL: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}

// importParameters asks the AWS API for a wrapping key and token for id.
func (e *env) importParameters(id string, alg types.AlgorithmSpec) *kms.GetParametersForImportOutput {
	e.t.Helper()
	p, err := e.aws.GetParametersForImport(bg, &kms.GetParametersForImportInput{
		KeyId: aws.String(id), WrappingAlgorithm: alg, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if err != nil {
		e.t.Fatalf("GetParametersForImport: %v", err)
	}
	return p
}

// wrapOAEP wraps material under the DER public key with RSA-OAEP over h, as
// a client of AWS KMS does.
func wrapOAEP(t *testing.T, h hash.Hash, publicKey, material []byte) []byte {
	t.Helper()
	pub, err := x509.ParsePKIXPublicKey(publicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok || rsaPub.N.BitLen() != 2048 {
		t.Fatalf("the wrapping key is %T, want a 2048-bit RSA key", pub)
	}
	w, err := rsa.EncryptOAEP(h, rand.Reader, rsaPub, material, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func randomMaterial() []byte {
	m := make([]byte, 32)
	_, _ = rand.Read(m)
	return m
}

func (e *env) state(id string) *types.KeyMetadata {
	e.t.Helper()
	d, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.KeyMetadata
}

// The whole life of imported material through an AWS SDK: a key made
// EXTERNAL, material wrapped with crypto/rsa under the key GetParametersForImport
// gives, imported, used, deleted and imported again; other material never.
func TestSDKImportKeyMaterialCycle(t *testing.T) {
	e := newEnv(t)
	id := e.awsExternalKey()
	if m := e.state(id); m.Origin != types.OriginTypeExternal || m.KeyState != types.KeyStatePendingImport || m.Enabled {
		t.Fatalf("a new EXTERNAL key: Origin %s, KeyState %s, Enabled %v", m.Origin, m.KeyState, m.Enabled)
	}
	p := e.importParameters(id, types.AlgorithmSpecRsaesOaepSha256)
	if aws.ToString(p.KeyId) != keyARN(id) || len(p.ImportToken) == 0 {
		t.Errorf("GetParametersForImport: KeyId %q, %d token bytes", aws.ToString(p.KeyId), len(p.ImportToken))
	}
	if p.ParametersValidTo == nil || time.Until(*p.ParametersValidTo) < 23*time.Hour || time.Until(*p.ParametersValidTo) > 24*time.Hour {
		t.Errorf("ParametersValidTo %v, want 24 hours on", p.ParametersValidTo)
	}
	material := randomMaterial()
	imp, err := e.aws.ImportKeyMaterial(bg, &kms.ImportKeyMaterialInput{KeyId: aws.String(keyARN(id)), ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapOAEP(t, sha256.New(), p.PublicKey, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	if err != nil {
		t.Fatalf("ImportKeyMaterial: %v", err)
	}
	if aws.ToString(imp.KeyId) != keyARN(id) {
		t.Errorf("ImportKeyMaterial: KeyId %q", aws.ToString(imp.KeyId))
	}
	if m := e.state(id); m.KeyState != types.KeyStateEnabled || m.ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire {
		t.Errorf("after the import: KeyState %s, ExpirationModel %s", m.KeyState, m.ExpirationModel)
	}
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("orders")})
	if err != nil {
		t.Fatal(err)
	}
	decrypt := func() error {
		d, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err == nil && string(d.Plaintext) != "orders" {
			t.Errorf("Decrypt gave %q", d.Plaintext)
		}
		return err
	}
	if err := decrypt(); err != nil {
		t.Fatal(err)
	}
	ali, err := e.ali.Decrypt(&alikms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(enc.CiphertextBlob))})
	if err != nil || tea.StringValue(ali.Body.Plaintext) != base64.StdEncoding.EncodeToString([]byte("orders")) {
		t.Fatalf("Alibaba Decrypt of a blob made over AWS under imported material: %v", err)
	}

	del, err := e.aws.DeleteImportedKeyMaterial(bg, &kms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("DeleteImportedKeyMaterial: %v", err)
	}
	if aws.ToString(del.KeyId) != keyARN(id) {
		t.Errorf("DeleteImportedKeyMaterial: KeyId %q", aws.ToString(del.KeyId))
	}
	if m := e.state(id); m.KeyState != types.KeyStatePendingImport {
		t.Errorf("after the deletion: KeyState %s", m.KeyState)
	}
	var invalidState *types.KMSInvalidStateException
	if err := decrypt(); !asType(err, &invalidState) {
		t.Fatalf("Decrypt with the material deleted: want *types.KMSInvalidStateException, got %v", err)
	}

	p = e.importParameters(id, types.AlgorithmSpecRsaesOaepSha1)
	var incorrect *types.IncorrectKeyMaterialException
	_, err = e.aws.ImportKeyMaterial(bg, &kms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapOAEP(t, sha1.New(), p.PublicKey, randomMaterial()), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	if !asType(err, &incorrect) {
		t.Fatalf("importing other material: want *types.IncorrectKeyMaterialException, got %v", err)
	}
	until := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	if _, err := e.aws.ImportKeyMaterial(bg, &kms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapOAEP(t, sha1.New(), p.PublicKey, material), ValidTo: aws.Time(until)}); err != nil {
		t.Fatalf("re-importing the same material: %v", err)
	}
	if m := e.state(id); m.KeyState != types.KeyStateEnabled || m.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires ||
		m.ValidTo == nil || !m.ValidTo.Equal(until) {
		t.Errorf("after the re-import: KeyState %s, ExpirationModel %s, ValidTo %v, want %v", m.KeyState, m.ExpirationModel, m.ValidTo, until)
	}
	if err := decrypt(); err != nil {
		t.Fatalf("Decrypt of a blob made before the deletion: %v", err)
	}
}

// importWith sends ImportKeyMaterial for material wrapped under p with h.
func (e *env) importWith(id string, p *kms.GetParametersForImportOutput, h hash.Hash, material []byte) error {
	e.t.Helper()
	_, err := e.aws.ImportKeyMaterial(bg, &kms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapOAEP(e.t.(*testing.T), h, p.PublicKey, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	return err
}

// Each way an import can be wrong is the exception AWS raises for it.
func TestSDKImportRefusalsAreAWSExceptions(t *testing.T) {
	clk := testclock.New(time.Now())
	e := newEnv(t, func(s *setup) { s.clock = clk })
	id, other := e.awsExternalKey(), e.awsExternalKey()
	p := e.importParameters(id, types.AlgorithmSpecRsaesOaepSha256)

	var invalidCiphertext *types.InvalidCiphertextException
	if err := e.importWith(id, p, sha1.New(), randomMaterial()); !asType(err, &invalidCiphertext) {
		t.Errorf("material wrapped with the wrong algorithm: want *types.InvalidCiphertextException, got %v", err)
	}
	if err := e.importWith(id, p, sha256.New(), randomMaterial()[:16]); !asType(err, &invalidCiphertext) {
		t.Errorf("16 bytes of material: want *types.InvalidCiphertextException, got %v", err)
	}
	var invalidToken *types.InvalidImportTokenException
	if err := e.importWith(other, p, sha256.New(), randomMaterial()); !asType(err, &invalidToken) {
		t.Errorf("another key's token: want *types.InvalidImportTokenException, got %v", err)
	}
	var unsupported *types.UnsupportedOperationException
	for _, in := range []kms.GetParametersForImportInput{
		{WrappingAlgorithm: types.AlgorithmSpecRsaesPkcs1V15, WrappingKeySpec: types.WrappingKeySpecRsa2048},
	} {
		in.KeyId = aws.String(id)
		if _, err := e.aws.GetParametersForImport(bg, &in); !asType(err, &unsupported) {
			t.Errorf("GetParametersForImport %s %s: want *types.UnsupportedOperationException, got %v", in.WrappingAlgorithm, in.WrappingKeySpec, err)
		}
	}
	// SM2PKE wraps under SM2 keys only, RSA's algorithms under RSA keys.
	for _, in := range []kms.GetParametersForImportInput{
		{WrappingAlgorithm: types.AlgorithmSpecSm2pke, WrappingKeySpec: types.WrappingKeySpecRsa2048},
		{WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecSm2},
	} {
		in.KeyId = aws.String(id)
		_, err := e.aws.GetParametersForImport(bg, &in)
		apiError(t, err, "ValidationException")
	}
	_, err := e.aws.GetParametersForImport(bg, &kms.GetParametersForImportInput{KeyId: aws.String(id), WrappingAlgorithm: "RSA_OAEP", WrappingKeySpec: types.WrappingKeySpecRsa2048})
	apiError(t, err, "ValidationException")
	_, err = e.aws.GetParametersForImport(bg, &kms.GetParametersForImportInput{KeyId: aws.String(e.createKey()),
		WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if !asType(err, &unsupported) {
		t.Errorf("GetParametersForImport for a key made here: want *types.UnsupportedOperationException, got %v", err)
	}

	wrapped := wrapOAEP(t, sha256.New(), p.PublicKey, randomMaterial())
	for name, in := range map[string]kms.ImportKeyMaterialInput{
		"neither ExpirationModel nor ValidTo":       {},
		"KEY_MATERIAL_EXPIRES without ValidTo":      {ExpirationModel: types.ExpirationModelTypeKeyMaterialExpires},
		"KEY_MATERIAL_DOES_NOT_EXPIRE with ValidTo": {ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire, ValidTo: aws.Time(clk.Now().Add(time.Hour))},
		"ValidTo past":                                 {ValidTo: aws.Time(clk.Now().Add(-time.Hour))},
		"ValidTo more than 365 days on":                {ValidTo: aws.Time(clk.Now().Add(366 * 24 * time.Hour))},
		"an unknown ExpirationModel":                   {ExpirationModel: "NEVER"},
		"a KeyMaterialId not of 64 hex digits":         {ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire, KeyMaterialId: aws.String("0123")},
		"a KeyMaterialDescription of other characters": {ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire, KeyMaterialDescription: aws.String("hsm;1")},
		"an empty KeyMaterialDescription":              {ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire, KeyMaterialDescription: aws.String("")},
	} {
		in.KeyId, in.ImportToken, in.EncryptedKeyMaterial = aws.String(id), p.ImportToken, wrapped
		_, err := e.aws.ImportKeyMaterial(bg, &in)
		apiErrorNamed(t, name, err, "ValidationException")
	}
	if m := e.state(id); m.KeyState != types.KeyStatePendingImport {
		t.Fatalf("after refused imports: KeyState %s", m.KeyState)
	}
	po := e.importParameters(other, types.AlgorithmSpecRsaesOaepSha256)
	if _, err := e.aws.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(other), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	var invalidState *types.KMSInvalidStateException
	if err := e.importWith(other, po, sha256.New(), randomMaterial()); !asType(err, &invalidState) {
		t.Errorf("an import into a key pending deletion: want *types.KMSInvalidStateException, got %v", err)
	}
	_, err = e.aws.GetParametersForImport(bg, &kms.GetParametersForImportInput{KeyId: aws.String(other),
		WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if !asType(err, &invalidState) {
		t.Errorf("GetParametersForImport for a key pending deletion: want *types.KMSInvalidStateException, got %v", err)
	}

	// A day on, the token has expired. The SDK signs with the wall clock,
	// which the service's no longer matches: the request is signed by hand.
	clk.Advance(core.ImportTokenTTL)
	body, err := json.Marshal(map[string]any{"KeyId": id, "ImportToken": p.ImportToken, "EncryptedKeyMaterial": wrapped,
		"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"})
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(e.signed("ImportKeyMaterial", string(body), adminID, adminSecret, clk.Now()))
	if typ, msg := r.awsError(t); r.status != http.StatusBadRequest || typ != "ExpiredImportTokenException" {
		t.Errorf("an expired token: %d %s %s", r.status, typ, msg)
	}
}

// A RSAES_PKCS1_V1_5 token, which only the Alibaba API gives, also serves
// AWS's ImportKeyMaterial; into a key that has taken material, a ciphertext
// that does not unwrap is answered as other material, so that the answers are
// no padding oracle on the material.
func TestSDKPKCS1ImportAnswersWhatDoesNotUnwrapAsOtherMaterial(t *testing.T) {
	e := newEnv(t)
	id := e.awsExternalKey()
	p, err := e.ali.GetParametersForImport(&alikms.GetParametersForImportRequest{KeyId: tea.String(id),
		WrappingAlgorithm: tea.String("RSAES_PKCS1_V1_5"), WrappingKeySpec: tea.String("RSA_2048")})
	if err != nil {
		t.Fatal(err)
	}
	token, err := base64.StdEncoding.DecodeString(tea.StringValue(p.Body.ImportToken))
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(tea.StringValue(p.Body.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	wrap := func(material []byte) []byte {
		w, err := rsa.EncryptPKCS1v15(rand.Reader, pub.(*rsa.PublicKey), material)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	send := func(wrapped []byte) error {
		_, err := e.aws.ImportKeyMaterial(bg, &kms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: token,
			EncryptedKeyMaterial: wrapped, ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
		return err
	}
	material := randomMaterial()
	if err := send(wrap(material)); err != nil {
		t.Fatalf("ImportKeyMaterial with a PKCS #1 v1.5 token: %v", err)
	}
	random := make([]byte, 256)
	_, _ = rand.Read(random)
	other := apiError(t, send(wrap(randomMaterial())), "IncorrectKeyMaterialException")
	for name, wrapped := range map[string][]byte{"random bytes": random, "16 bytes": wrap(material[:16])} {
		var ae smithy.APIError
		if !asType(send(wrapped), &ae) || ae.ErrorCode() != other.ErrorCode() || ae.ErrorMessage() != other.ErrorMessage() {
			t.Errorf("%s: %v, want %s: %s as other material", name, ae, other.ErrorCode(), other.ErrorMessage())
		}
	}
	if err := send(wrap(material)); err != nil {
		t.Fatalf("re-importing the same material: %v", err)
	}
}

// The import runs core's actions, so one permission allows it through both
// APIs: AWS's DeleteImportedKeyMaterial is kms:DeleteKeyMaterial, and a
// policy that names kms:DeleteImportedKeyMaterial grants nothing.
func TestImportOperationsAreAuthorizedAsCoreActions(t *testing.T) {
	importer := core.MustPolicy(core.Statement{Effect: "Allow", Resource: []string{"acs:kms:*:*:key/*"},
		Action: []string{"kms:GetParametersForImport", "kms:ImportKeyMaterial", "kms:DeleteKeyMaterial"}})
	awsNamed := core.MustPolicy(core.Statement{Effect: "Allow", Resource: []string{"acs:kms:*:*:key/*"},
		Action: []string{"kms:DeleteImportedKeyMaterial"}})
	e := newEnv(t, withPrincipal("importer", "AKIAIMPORTER00000001", "importer-secret", 100, importer),
		withPrincipal("aws-named", "AKIAAWSNAMED00000001", "aws-named-secret", 100, awsNamed))
	id := e.awsExternalKey()
	c := e.client("AKIAIMPORTER00000001", "importer-secret")
	p, err := c.GetParametersForImport(bg, &kms.GetParametersForImportInput{KeyId: aws.String(id),
		WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportKeyMaterial(bg, &kms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapOAEP(t, sha256.New(), p.PublicKey, randomMaterial()), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client("AKIAAWSNAMED00000001", "aws-named-secret").DeleteImportedKeyMaterial(bg, &kms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id)})
	apiError(t, err, "AccessDeniedException")
	if _, err := c.DeleteImportedKeyMaterial(bg, &kms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if m := e.state(id); m.KeyState != types.KeyStatePendingImport {
		t.Errorf("after DeleteImportedKeyMaterial: KeyState %s", m.KeyState)
	}
}
