package awsjson_test

import (
	"crypto/sha256"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestSDKImportedKeyMaterialID: an EXTERNAL key's first key material has
// its ID from the key's making: ImportKeyMaterial and
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

// TestSDKImportedKeyRotatesToNewMaterial: through AWS's Go SDK, an EXTERNAL
// symmetric key takes new material (ImportType NEW_KEY_MATERIAL, with a
// KeyMaterialDescription), lists it PENDING_ROTATION with ALL_KEY_MATERIAL
// and not by default, rotates to it on demand, and names each material in
// what it answers; deleting a material no longer current makes the key
// PendingImport, as on AWS, until that material comes back.
func TestSDKImportedKeyRotatesToNewMaterial(t *testing.T) {
	e := newEnv(t)
	id := e.awsExternalKey()
	first, second := randomMaterial(), randomMaterial()
	importing := func(material []byte, in kms.ImportKeyMaterialInput) (*kms.ImportKeyMaterialOutput, error) {
		p := e.importParameters(id, types.AlgorithmSpecRsaesOaepSha256)
		in.KeyId, in.ImportToken, in.EncryptedKeyMaterial = aws.String(id), p.ImportToken, wrapOAEP(t, sha256.New(), p.PublicKey, material)
		if in.ValidTo == nil {
			in.ExpirationModel = types.ExpirationModelTypeKeyMaterialDoesNotExpire
		}
		return e.aws.ImportKeyMaterial(bg, &in)
	}
	in, err := importing(first, kms.ImportKeyMaterialInput{KeyMaterialDescription: aws.String("on-prem hsm 1")})
	if err != nil {
		t.Fatal(err)
	}
	mid := aws.ToString(in.KeyMaterialId)
	old, err := e.aws.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("first")})
	if err != nil {
		t.Fatal(err)
	}
	validTo := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	next, err := importing(second, kms.ImportKeyMaterialInput{ImportType: types.ImportTypeNewKeyMaterial, KeyMaterialDescription: aws.String("on-prem hsm 2"),
		ExpirationModel: types.ExpirationModelTypeKeyMaterialExpires, ValidTo: aws.Time(validTo)})
	if err != nil {
		t.Fatal(err)
	}
	nid := aws.ToString(next.KeyMaterialId)
	if !materialIDs.MatchString(nid) || nid == mid || aws.ToString(e.state(id).CurrentKeyMaterialId) != mid {
		t.Fatalf("new material %q beside %q; current %q", nid, mid, aws.ToString(e.state(id).CurrentKeyMaterialId))
	}
	r := e.rotations(id)
	if len(r) != 2 || aws.ToString(r[0].KeyMaterialId) != mid || r[0].KeyMaterialState != types.KeyMaterialStateCurrent || aws.ToString(r[0].KeyMaterialDescription) != "on-prem hsm 1" ||
		aws.ToString(r[1].KeyMaterialId) != nid || r[1].KeyMaterialState != types.KeyMaterialStatePendingRotation || r[1].ImportState != types.ImportStateImported ||
		r[1].ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires || !aws.ToTime(r[1].ValidTo).Equal(validTo) || r[1].RotationDate != nil || r[1].RotationType != "" ||
		aws.ToString(r[1].KeyMaterialDescription) != "on-prem hsm 2" {
		t.Fatalf("ALL_KEY_MATERIAL with one pending: %+v", r)
	}
	made, err := e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id)})
	if err != nil || len(made.Rotations) != 0 {
		t.Fatalf("ROTATIONS_ONLY with one pending: %v, %+v", err, made)
	}
	_, err = importing(randomMaterial(), kms.ImportKeyMaterialInput{ImportType: types.ImportTypeNewKeyMaterial})
	apiErrorNamed(t, "NEW_KEY_MATERIAL with one pending", err, "KMSInvalidStateException")
	_, err = importing(randomMaterial(), kms.ImportKeyMaterialInput{ImportType: types.ImportTypeNewKeyMaterial, KeyMaterialId: aws.String(nid)})
	apiErrorNamed(t, "NEW_KEY_MATERIAL with a KeyMaterialId", err, "ValidationException")
	_, err = importing(first, kms.ImportKeyMaterialInput{ImportType: types.ImportTypeExistingKeyMaterial, KeyMaterialId: aws.String(nid)})
	apiErrorNamed(t, "another material under the pending one's ID", err, "IncorrectKeyMaterialException")

	rot, err := e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	if err != nil || !strings.HasSuffix(aws.ToString(rot.KeyId), id) {
		t.Fatalf("RotateKeyOnDemand: %v, %+v", err, rot)
	}
	m := e.state(id)
	if aws.ToString(m.CurrentKeyMaterialId) != nid || !aws.ToTime(m.ValidTo).Equal(validTo) || m.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires {
		t.Fatalf("after the rotation: current %q, ValidTo %v, %s", aws.ToString(m.CurrentKeyMaterialId), aws.ToTime(m.ValidTo), m.ExpirationModel)
	}
	made, err = e.aws.ListKeyRotations(bg, &kms.ListKeyRotationsInput{KeyId: aws.String(id)})
	if err != nil || len(made.Rotations) != 1 || aws.ToString(made.Rotations[0].KeyMaterialId) != nid || made.Rotations[0].RotationType != types.RotationTypeOnDemand ||
		made.Rotations[0].RotationDate == nil || made.Rotations[0].KeyMaterialState != types.KeyMaterialStateCurrent {
		t.Fatalf("ROTATIONS_ONLY after the rotation: %v, %+v", err, made)
	}
	_, err = e.aws.RotateKeyOnDemand(bg, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	var unsupported *types.UnsupportedOperationException
	if !asType(err, &unsupported) {
		t.Errorf("RotateKeyOnDemand with none pending: want *types.UnsupportedOperationException, got %v", err)
	}
	dk, err := e.aws.GenerateDataKeyWithoutPlaintext(bg, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256})
	if err != nil || aws.ToString(dk.KeyMaterialId) != nid {
		t.Fatalf("GenerateDataKeyWithoutPlaintext after the rotation: %v, %+v", err, dk)
	}
	dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "first" || aws.ToString(dec.KeyMaterialId) != mid {
		t.Fatalf("Decrypt of a blob of the first material: %v, %+v", err, dec)
	}

	// The first material, no longer current, deleted: the key awaits it.
	if _, err := e.aws.DeleteImportedKeyMaterial(bg, &kms.DeleteImportedKeyMaterialInput{KeyId: aws.String(id), KeyMaterialId: aws.String(mid)}); err != nil {
		t.Fatal(err)
	}
	if m := e.state(id); m.KeyState != types.KeyStatePendingImport {
		t.Fatalf("with the first material deleted: %s", m.KeyState)
	}
	r = e.rotations(id)
	if len(r) != 2 || r[0].ImportState != types.ImportStatePendingImport || r[0].KeyMaterialState != types.KeyMaterialStateNonCurrent || r[1].ImportState != types.ImportStateImported {
		t.Fatalf("after the deletion: %+v", r)
	}
	if _, err := importing(first, kms.ImportKeyMaterialInput{KeyMaterialId: aws.String(mid)}); err != nil {
		t.Fatal(err)
	}
	if dec, err := e.aws.Decrypt(bg, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob}); err != nil || aws.ToString(dec.KeyMaterialId) != nid {
		t.Fatalf("Decrypt after the first material came back: %v", err)
	}
}
