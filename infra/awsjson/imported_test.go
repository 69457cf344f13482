package awsjson_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	alikms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// externalKey makes a key of Origin EXTERNAL through the Alibaba API, the one
// that imports material; it is PendingImport until importMaterial.
func (e *env) externalKey() string {
	e.t.Helper()
	r, err := e.ali.CreateKey(&alikms.CreateKeyRequest{Origin: tea.String("EXTERNAL")})
	if err != nil {
		e.t.Fatal(err)
	}
	return tea.StringValue(r.Body.KeyMetadata.KeyId)
}

// importMaterial imports 32 fresh bytes into an EXTERNAL key, to expire at
// expires (zero: never).
func (e *env) importMaterial(id string, expires time.Time) {
	e.t.Helper()
	p, err := e.ali.GetParametersForImport(&alikms.GetParametersForImportRequest{
		KeyId: tea.String(id), WrappingAlgorithm: tea.String("RSAES_OAEP_SHA_256"), WrappingKeySpec: tea.String("RSA_2048")})
	if err != nil {
		e.t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(tea.StringValue(p.Body.PublicKey))
	if err != nil {
		e.t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		e.t.Fatal(err)
	}
	material := make([]byte, 32)
	_, _ = rand.Read(material)
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req := &alikms.ImportKeyMaterialRequest{KeyId: tea.String(id), ImportToken: p.Body.ImportToken,
		EncryptedKeyMaterial: tea.String(base64.StdEncoding.EncodeToString(wrapped))}
	if !expires.IsZero() {
		req.KeyMaterialExpireUnix = tea.Int64(expires.Unix())
	}
	if _, err := e.ali.ImportKeyMaterial(req); err != nil {
		e.t.Fatal(err)
	}
}

// TestKeyStateErrorsOfImportedKeysAreClientErrors: a key pending import, the
// rotation of imported material and a deletion-protected key are the caller's
// errors, raised as the exceptions AWS raises for them, never a 500 the SDKs
// would retry.
func TestKeyStateErrorsOfImportedKeysAreClientErrors(t *testing.T) {
	e := newEnv(t)
	pending := e.externalKey()
	var invalidState *types.KMSInvalidStateException
	_, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(pending), Plaintext: []byte("x")})
	if !asType(err, &invalidState) {
		t.Errorf("Encrypt on a key pending import: want *types.KMSInvalidStateException, got %v", err)
	}
	_, err = e.aws.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(pending), KeySpec: types.DataKeySpecAes256})
	if !asType(err, &invalidState) {
		t.Errorf("GenerateDataKeyWithoutPlaintext on a key pending import: want *types.KMSInvalidStateException, got %v", err)
	}
	e.importMaterial(pending, time.Time{})
	var unsupported *types.UnsupportedOperationException
	_, err = e.aws.EnableKeyRotation(bg, &kms.EnableKeyRotationInput{KeyId: aws.String(pending)})
	if !asType(err, &unsupported) {
		t.Errorf("EnableKeyRotation on imported material: want *types.UnsupportedOperationException, got %v", err)
	}
	_, err = e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(pending)})
	if !asType(err, &unsupported) {
		t.Errorf("RotateKeyOnDemand on imported material: want *types.UnsupportedOperationException, got %v", err)
	}
	_, err = e.aws.GetKeyRotationStatus(bg, &kms.GetKeyRotationStatusInput{KeyId: aws.String(pending)})
	if !asType(err, &unsupported) {
		t.Errorf("GetKeyRotationStatus on imported material: want *types.UnsupportedOperationException, got %v", err)
	}

	protected := e.createKey()
	if _, err := e.ali.SetDeletionProtection(&alikms.SetDeletionProtectionRequest{
		ProtectedResourceArn:     tea.String("acs:kms:" + testRegion + ":" + testAccount + ":key/" + protected),
		EnableDeletionProtection: tea.Bool(true), DeletionProtectionDescription: tea.String("orders"),
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.ScheduleKeyDeletion(bg, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(protected), PendingWindowInDays: aws.Int32(7)})
	if !asType(err, &invalidState) {
		t.Errorf("ScheduleKeyDeletion on a protected key: want *types.KMSInvalidStateException, got %v", err)
	}
}

// TestImportedKeysDescribeTheirOriginAndExpiry: a key whose material the
// caller imports is EXTERNAL in every KeyMetadata, with the expiration model
// of its material and, when that expires, ValidTo.
func TestImportedKeysDescribeTheirOriginAndExpiry(t *testing.T) {
	e := newEnv(t)
	describe := func(id string) *types.KeyMetadata {
		t.Helper()
		d, err := e.aws.DescribeKey(bg, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return d.KeyMetadata
	}
	pending := e.externalKey()
	if m := describe(pending); m.Origin != types.OriginTypeExternal || m.KeyState != types.KeyStatePendingImport || m.ValidTo != nil {
		t.Errorf("pending import: Origin %s, KeyState %s, ValidTo %v", m.Origin, m.KeyState, m.ValidTo)
	}
	forever := e.externalKey()
	e.importMaterial(forever, time.Time{})
	if m := describe(forever); m.Origin != types.OriginTypeExternal || m.ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire || m.ValidTo != nil {
		t.Errorf("material that does not expire: Origin %s, ExpirationModel %s, ValidTo %v", m.Origin, m.ExpirationModel, m.ValidTo)
	}
	until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	expiring := e.externalKey()
	e.importMaterial(expiring, until)
	m := describe(expiring)
	if m.Origin != types.OriginTypeExternal || m.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires || m.ValidTo == nil || !m.ValidTo.Equal(until) {
		t.Errorf("material that expires: Origin %s, ExpirationModel %s, ValidTo %v, want %v", m.Origin, m.ExpirationModel, m.ValidTo, until)
	}
	if m := describe(e.createKey()); m.Origin != types.OriginTypeAwsKms || m.ExpirationModel != "" || m.ValidTo != nil {
		t.Errorf("a key made here: Origin %s, ExpirationModel %s, ValidTo %v", m.Origin, m.ExpirationModel, m.ValidTo)
	}
}

// CreateKey with Origin EXTERNAL makes a key that awaits its material, as
// Alibaba's CreateKey with Origin=EXTERNAL does; other origins are refused.
func TestSDKCreateKeyWithOriginExternalAwaitsImport(t *testing.T) {
	e := newEnv(t)
	out, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, Description: aws.String("byok")})
	if err != nil {
		t.Fatal(err)
	}
	m := out.KeyMetadata
	if m.Origin != types.OriginTypeExternal || m.KeyState != types.KeyStatePendingImport || m.Enabled || m.ExpirationModel != "" {
		t.Errorf("CreateKey EXTERNAL: Origin %s, KeyState %s, Enabled %v, ExpirationModel %s", m.Origin, m.KeyState, m.Enabled, m.ExpirationModel)
	}
	d, err := e.ali.DescribeKey(&alikms.DescribeKeyRequest{KeyId: m.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if k := d.Body.KeyMetadata; tea.StringValue(k.Origin) != "EXTERNAL" || tea.StringValue(k.KeyState) != "PendingImport" {
		t.Errorf("through the Alibaba API: Origin %s, KeyState %s", tea.StringValue(k.Origin), tea.StringValue(k.KeyState))
	}
	_, err = e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("x")})
	apiError(t, err, "KMSInvalidStateException")
	for _, origin := range []types.OriginType{types.OriginTypeAwsCloudhsm, types.OriginTypeExternalKeyStore, "external"} {
		_, err = e.aws.CreateKey(bg, &kms.CreateKeyInput{Origin: origin})
		apiError(t, err, "ValidationException")
	}
}
