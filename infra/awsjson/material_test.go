package awsjson_test

import (
	"crypto/sha256"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// materialIDs are AWS's KeyMaterialId: 64 lowercase hex digits.
var materialIDs = regexp.MustCompile(`^[0-9a-f]{64}$`)

// rotations lists every key material of id, as AWS's Go SDK reads them.
func (e *env) rotations(id string) []types.RotationsListEntry {
	e.t.Helper()
	out, err := e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
	if err != nil {
		e.t.Fatalf("ListKeyRotations: %v", err)
	}
	return out.Rotations
}

// TestSDKKeyMaterialIDs: a symmetric key names its current key material in
// DescribeKey, and the data key operations, Decrypt and ReEncrypt name the
// material they used, as AWS's do; after a rotation the new material is
// current and the old one still opens what it sealed, and ListKeyRotations
// names both. Asymmetric and HMAC keys name none.
func TestSDKKeyMaterialIDs(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	first := aws.ToString(e.state(id).CurrentKeyMaterialId)
	if !materialIDs.MatchString(first) {
		t.Fatalf("DescribeKey: CurrentKeyMaterialId %q, want 64 hex digits", first)
	}
	dk, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := e.aws.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), NumberOfBytes: aws.Int32(32)})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := e.aws.GenerateDataKeyPairWithoutPlaintext(bg, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: aws.String(id), KeyPairSpec: types.DataKeyPairSpecEccNistP256})
	if err != nil {
		t.Fatal(err)
	}
	for op, got := range map[string]*string{"GenerateDataKey": dk.KeyMaterialId, "GenerateDataKeyWithoutPlaintext": sealed.KeyMaterialId,
		"GenerateDataKeyPairWithoutPlaintext": pair.KeyMaterialId} {
		if aws.ToString(got) != first {
			t.Errorf("%s: KeyMaterialId %q, want the current %q", op, aws.ToString(got), first)
		}
	}

	if _, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(e.state(id).CurrentKeyMaterialId)
	if !materialIDs.MatchString(second) || second == first {
		t.Fatalf("after a rotation: CurrentKeyMaterialId %q, first %q", second, first)
	}
	opened, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(opened.KeyMaterialId) != first {
		t.Errorf("Decrypt of a data key sealed before the rotation: KeyMaterialId %q, want %q", aws.ToString(opened.KeyMaterialId), first)
	}
	re, err := e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: sealed.CiphertextBlob, DestinationKeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(re.SourceKeyMaterialId) != first || aws.ToString(re.DestinationKeyMaterialId) != second {
		t.Errorf("ReEncrypt: SourceKeyMaterialId %q, DestinationKeyMaterialId %q, want %q and %q",
			aws.ToString(re.SourceKeyMaterialId), aws.ToString(re.DestinationKeyMaterialId), first, second)
	}
	var listed []string
	for _, r := range e.rotations(id) {
		listed = append(listed, aws.ToString(r.KeyMaterialId)+" "+string(r.KeyMaterialState)+" "+string(r.ImportState))
	}
	if want := []string{first + " NON_CURRENT ", second + " CURRENT "}; !slices.Equal(listed, want) {
		t.Errorf("ListKeyRotations: %q, want %q", listed, want)
	}

	// An RSA key's blob names no key material; sealed again under the
	// symmetric key, the destination's is named.
	rsaKey, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	if err != nil {
		t.Fatal(err)
	}
	rsaID := rsaKey.KeyMetadata.KeyId
	oaep := types.EncryptionAlgorithmSpecRsaesOaepSha256
	enc, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: rsaID, Plaintext: []byte("p"), EncryptionAlgorithm: oaep})
	if err != nil {
		t.Fatal(err)
	}
	opened, err = e.aws.Decrypt(bg, &kms.DecryptInput{KeyId: rsaID, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: oaep})
	if err != nil {
		t.Fatal(err)
	}
	if opened.KeyMaterialId != nil {
		t.Errorf("Decrypt under an RSA key: KeyMaterialId %q", *opened.KeyMaterialId)
	}
	re, err = e.aws.ReEncrypt(bg, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: rsaID, SourceEncryptionAlgorithm: oaep, DestinationKeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if re.SourceKeyMaterialId != nil || aws.ToString(re.DestinationKeyMaterialId) != second {
		t.Errorf("ReEncrypt from an RSA key: SourceKeyMaterialId %v, DestinationKeyMaterialId %q", re.SourceKeyMaterialId, aws.ToString(re.DestinationKeyMaterialId))
	}
	hmacKey, err := e.aws.CreateKey(bg, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*types.KeyMetadata{rsaKey.KeyMetadata, hmacKey.KeyMetadata} {
		if m.CurrentKeyMaterialId != nil {
			t.Errorf("a %s key: CurrentKeyMaterialId %q", m.KeySpec, *m.CurrentKeyMaterialId)
		}
	}
}

// TestSDKImportedKeyMaterialID: an EXTERNAL key holds one key material,
// under one ID from its making: ImportKeyMaterial and
// DeleteImportedKeyMaterial answer it and take it, refuse another as
// NotFoundException and a malformed one as ValidationException, and
// ListKeyRotations tells whether it is imported and until when.
func TestSDKImportedKeyMaterialID(t *testing.T) {
	e := newEnv(t)
	id := e.awsExternalKey()
	mid := aws.ToString(e.state(id).CurrentKeyMaterialId)
	if !materialIDs.MatchString(mid) {
		t.Fatalf("a key pending import: CurrentKeyMaterialId %q", mid)
	}
	if r := e.rotations(id); len(r) != 1 || aws.ToString(r[0].KeyMaterialId) != mid || r[0].ImportState != types.ImportStatePendingImport ||
		r[0].KeyMaterialState != types.KeyMaterialStateCurrent || r[0].ExpirationModel != "" {
		t.Fatalf("ListKeyRotations of a key pending import: %+v", r)
	}
	other := mid[:63] + string("10"[mid[63]&1])
	material := randomMaterial()
	p := e.importParameters(id, types.AlgorithmSpecRsaesOaepSha256)
	importing := func(materialID string) (*kms.ImportKeyMaterialOutput, error) {
		return e.aws.ImportKeyMaterial(bg, &kms.ImportKeyMaterialInput{KeyId: aws.String(id), ImportToken: p.ImportToken, KeyMaterialId: aws.String(materialID),
			EncryptedKeyMaterial: wrapOAEP(t, sha256.New(), p.PublicKey, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	}
	_, err := importing(other)
	apiErrorNamed(t, "ImportKeyMaterial of another material ID", err, "NotFoundException")
	imp, err := importing(mid)
	if err != nil {
		t.Fatalf("ImportKeyMaterial with the key's material ID: %v", err)
	}
	if aws.ToString(imp.KeyMaterialId) != mid {
		t.Errorf("ImportKeyMaterial: KeyMaterialId %q, want %q", aws.ToString(imp.KeyMaterialId), mid)
	}
	if r := e.rotations(id); len(r) != 1 || r[0].ImportState != types.ImportStateImported || r[0].ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire {
		t.Errorf("ListKeyRotations after the import: %+v", r)
	}
	dk, err := e.aws.GenerateDataKey(bg, &kms.GenerateDataKeyInput{KeyId: aws.String(id), NumberOfBytes: aws.Int32(16)})
	if err != nil || aws.ToString(dk.KeyMaterialId) != mid {
		t.Fatalf("GenerateDataKey under imported material: %v, KeyMaterialId %q", err, aws.ToString(dk.KeyMaterialId))
	}

	for name, c := range map[string]struct{ id, code string }{
		"another material ID": {other, "NotFoundException"},
		"an upper-case one":   {"A" + mid[1:], "ValidationException"},
		"a short one":         {mid[:62], "ValidationException"},
	} {
		_, err := e.aws.DeleteImportedKeyMaterial(bg, &kms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id), KeyMaterialId: aws.String(c.id)})
		apiErrorNamed(t, "DeleteImportedKeyMaterial of "+name, err, c.code)
	}
	if m := e.state(id); m.KeyState != types.KeyStateEnabled {
		t.Fatalf("after refused deletions: KeyState %s", m.KeyState)
	}
	del, err := e.aws.DeleteImportedKeyMaterial(bg, &kms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id), KeyMaterialId: aws.String(mid)})
	if err != nil {
		t.Fatalf("DeleteImportedKeyMaterial with the key's material ID: %v", err)
	}
	if aws.ToString(del.KeyMaterialId) != mid {
		t.Errorf("DeleteImportedKeyMaterial: KeyMaterialId %q, want %q", aws.ToString(del.KeyMaterialId), mid)
	}
	if r := e.rotations(id); len(r) != 1 || r[0].ImportState != types.ImportStatePendingImport || r[0].ExpirationModel != "" || r[0].ValidTo != nil {
		t.Errorf("ListKeyRotations after the deletion: %+v", r)
	}
	if got := aws.ToString(e.state(id).CurrentKeyMaterialId); got != mid {
		t.Errorf("after the deletion: CurrentKeyMaterialId %q, want %q", got, mid)
	}
}
