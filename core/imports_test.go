package core_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// importer returns a function that imports material into the EXTERNAL key id
// through s, with one import token.
func importer(t *testing.T, s *core.Service, id string) func(material []byte) error {
	t.Helper()
	request := importRequest(t, s, id)
	return func(material []byte) error {
		_, err := do(t, s, "ImportKeyMaterial", request(material))
		return err
	}
}

// importRequest asks s for one import token for the EXTERNAL key id and
// returns a function that makes the ImportKeyMaterial parameters for material
// wrapped under it, to send to any instance.
func importRequest(t *testing.T, s *core.Service, id string) func(material []byte) core.Params {
	t.Helper()
	return wrappedRequest(t, s, id, "RSAES_OAEP_SHA_256")
}

// wrappedRequest is importRequest for a token of the wrapping algorithm alg,
// RSAES_OAEP_SHA_256 or RSAES_PKCS1_V1_5.
func wrappedRequest(t *testing.T, s *core.Service, id, alg string) func(material []byte) core.Params {
	t.Helper()
	out, err := do(t, s, "GetParametersForImport", core.Params{"KeyId": id, "WrappingAlgorithm": alg, "WrappingKeySpec": "RSA_2048"})
	if err != nil {
		t.Fatal(err)
	}
	p := out.(core.ImportParameters)
	pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return func(material []byte) core.Params {
		var w []byte
		var err error
		if alg == "RSAES_PKCS1_V1_5" {
			w, err = rsa.EncryptPKCS1v15(rand.Reader, pub.(*rsa.PublicKey), material)
		} else {
			w, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		return core.Params{"KeyId": id, "ImportToken": p.Token, "EncryptedKeyMaterial": base64.StdEncoding.EncodeToString(w)}
	}
}

// The same material imports again at every step of a root rotation, whether
// it was still in the key or deleted before the rotation began, and other
// material never does.
func TestReimportAfterRootRotationTakesTheSameMaterialOnly(t *testing.T) {
	ctx := context.Background()
	steps := []string{"1: new key accepted", "2: new key current", "3: re-wrapped", "5: old key dropped"}
	for _, deleted := range []bool{false, true} {
		for i, step := range steps {
			name := step
			if deleted {
				name += ", material deleted before"
			}
			t.Run(name, func(t *testing.T) {
				store := memory.New()
				oldRoot, newRoot := randomRoot(t), randomRoot(t)
				s := rootedService(t, store, oldRoot)
				out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
				if err != nil {
					t.Fatal(err)
				}
				id := out.(core.Key).ID
				if err := importer(t, s, id)(material(3)); err != nil {
					t.Fatal(err)
				}
				out, err = do(t, s, "Encrypt", core.Params{"KeyId": id, "Plaintext": "aGk="})
				if err != nil {
					t.Fatal(err)
				}
				blob := base64.StdEncoding.EncodeToString(out.(core.Sealed).Blob)
				if deleted {
					if _, err := do(t, s, "DeleteKeyMaterial", core.Params{"KeyId": id}); err != nil {
						t.Fatal(err)
					}
				}
				switch i {
				case 0:
					s = rootedService(t, store, oldRoot, newRoot)
				case 1:
					s = rootedService(t, store, newRoot, oldRoot)
				default:
					s = rootedService(t, store, newRoot, oldRoot)
					if _, err := s.RewrapRoot(ctx, core.RewrapOptions{}); err != nil {
						t.Fatalf("rotate-root: %v", err)
					}
					if i == 3 {
						s = rootedService(t, store, newRoot)
						if p, err := s.RewrapRoot(ctx, core.RewrapOptions{}); err != nil || p.Rewrapped != 0 {
							t.Fatalf("rotate-root with the new key alone = %+v, %v; want nothing left", p, err)
						}
					}
				}
				imp := importer(t, s, id)
				mustCode(t, imp(material(4)), core.CodeInvalidKeyMaterial)
				if err := imp(material(3)); err != nil {
					t.Fatalf("re-importing the same material: %v", err)
				}
				if _, err := do(t, s, "Decrypt", core.Params{"CiphertextBlob": blob}); err != nil {
					t.Fatalf("a blob made before the rotation: %v", err)
				}
			})
		}
	}
}

// hmacDigest is a material digest of the first form, which stores may still
// hold: an HMAC-SHA256 of the version and material under a key derived from
// the root key.
func hmacDigest(root *core.RootKey, keyID, versionID string, material []byte) []byte {
	key := root.DeriveKey("kmsless/v1/material-digest")
	defer clear(key)
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kmsless/v1/version\x00"))
	m.Write(append([]byte{byte(len(keyID))}, keyID...))
	m.Write(append([]byte{byte(len(versionID))}, versionID...))
	m.Write(material)
	return m.Sum(nil)
}

// Digests of the first form still hold keys to their material through a root
// rotation: rotate-root seals them anew from the material, and names the keys
// whose material is deleted until the same material is imported again.
func TestReimportChecksDigestsOfTheFirstForm(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	oldRoot, newRoot := randomRoot(t), randomRoot(t)
	s := rootedService(t, store, oldRoot)
	var kept, deleted string
	for _, id := range []*string{&kept, &deleted} {
		out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
		if err != nil {
			t.Fatal(err)
		}
		*id = out.(core.Key).ID
		if err := importer(t, s, *id)(material(3)); err != nil {
			t.Fatal(err)
		}
		v, err := store.GetVersion(ctx, *id, out.(core.Key).PrimaryVersionID)
		if err != nil {
			t.Fatal(err)
		}
		first := v
		first.Digest = hmacDigest(oldRoot, v.KeyID, v.VersionID, material(3))
		if n, err := store.RewrapVersions(ctx, []core.Rewrap{{Old: v, Next: first}}); err != nil || n != 1 {
			t.Fatal(n, err)
		}
	}
	if _, err := do(t, s, "DeleteKeyMaterial", core.Params{"KeyId": deleted}); err != nil {
		t.Fatal(err)
	}

	both := rootedService(t, store, newRoot, oldRoot)
	for _, id := range []string{kept, deleted} {
		mustCode(t, importer(t, both, id)(material(4)), core.CodeInvalidKeyMaterial)
	}
	_, err := both.RewrapRoot(ctx, core.RewrapOptions{})
	if err == nil || !strings.Contains(err.Error(), deleted) || strings.Contains(err.Error(), kept) {
		t.Fatalf("rotate-root with a deleted key's digest of the first form: %v; want an error naming %s alone", err, deleted)
	}
	if err := importer(t, both, deleted)(material(3)); err != nil {
		t.Fatalf("re-importing the deleted material under both root keys: %v", err)
	}
	if _, err := do(t, both, "DeleteKeyMaterial", core.Params{"KeyId": deleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := both.RewrapRoot(ctx, core.RewrapOptions{}); err != nil {
		t.Fatalf("rotate-root once the material was imported again: %v", err)
	}

	newOnly := rootedService(t, store, newRoot)
	for _, id := range []string{kept, deleted} {
		imp := importer(t, newOnly, id)
		mustCode(t, imp(material(4)), core.CodeInvalidKeyMaterial)
		if err := imp(material(3)); err != nil {
			t.Fatalf("key %s, re-importing under the new root key alone: %v", id, err)
		}
	}
}

// TestImportTokenOutlivesARootRotationStep: a token issued under the old root
// key still imports once the new key is current and the old one is kept as
// previous, and not once the old one is dropped.
func TestImportTokenOutlivesARootRotationStep(t *testing.T) {
	store := memory.New()
	oldRoot, newRoot := randomRoot(t), randomRoot(t)
	before := rootedService(t, store, oldRoot)
	out, err := do(t, before, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	params := importRequest(t, before, id)(material(7))
	if _, err := do(t, rootedService(t, store, newRoot), "ImportKeyMaterial", params); core.AsError(err).Code != core.CodeInvalidImportToken {
		t.Fatalf("with the old root key dropped: %v, want %s", err, core.CodeInvalidImportToken)
	}
	if _, err := do(t, rootedService(t, store, newRoot, oldRoot), "ImportKeyMaterial", params); err != nil {
		t.Fatalf("with the new root key current and the old one previous: %v", err)
	}
}

// ImportKeyMaterial and DeleteKeyMaterial answer with the key as they left
// it, and material that does not unwrap is told apart from other material
// than the key's by its cause, as AWS's API tells them apart.
func TestImportAnswersTheKeyAndTellsUnwrapFromOtherMaterial(t *testing.T) {
	s := rootedService(t, memory.New(), randomRoot(t))
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	request := importRequest(t, s, id)
	p := request(material(5))
	out, err = do(t, s, "ImportKeyMaterial", p)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := out.(core.Changed); !ok || c.Key.ID != id || c.Key.State != core.KeyEnabled {
		t.Errorf("ImportKeyMaterial answered %#v, want the key Enabled", out)
	}
	out, err = do(t, s, "DeleteKeyMaterial", core.Params{"KeyId": id})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := out.(core.Changed); !ok || c.Key.ID != id || c.Key.State != core.KeyPendingImport {
		t.Errorf("DeleteKeyMaterial answered %#v, want the key PendingImport", out)
	}

	_, err = do(t, s, "ImportKeyMaterial", request(material(6)))
	if e := mustCode(t, err, core.CodeInvalidKeyMaterial); errors.Is(e, core.ErrMaterialDoesNotUnwrap) {
		t.Errorf("other material than the key's: %v is ErrMaterialDoesNotUnwrap", e)
	}
	for name, wrapped := range map[string]string{
		"garbage":  base64.StdEncoding.EncodeToString(make([]byte, 256)),
		"16 bytes": request(material(5)[:16])["EncryptedKeyMaterial"],
	} {
		bad := core.Params{"KeyId": id, "ImportToken": p["ImportToken"], "EncryptedKeyMaterial": wrapped}
		_, err := do(t, s, "ImportKeyMaterial", bad)
		if e := mustCode(t, err, core.CodeInvalidKeyMaterial); !errors.Is(e, core.ErrMaterialDoesNotUnwrap) {
			t.Errorf("%s: %v is not ErrMaterialDoesNotUnwrap", name, e)
		}
	}
}

// Under RSAES_PKCS1_V1_5, whether a ciphertext unwraps would be a padding
// oracle on the key's material (Bleichenbacher's): into a key that has taken
// material, a ciphertext that does not unwrap, one that unwraps to 16 bytes
// and one that unwraps to other material get one answer, and the material
// itself still imports.
func TestPKCS1ImportAnswersWhatDoesNotUnwrapAsOtherMaterial(t *testing.T) {
	s := rootedService(t, memory.New(), randomRoot(t))
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	request := wrappedRequest(t, s, id, "RSAES_PKCS1_V1_5")
	p := request(material(5))
	if _, err := do(t, s, "ImportKeyMaterial", p); err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 256)
	_, _ = rand.Read(random)
	var first *core.Error
	for _, c := range []struct{ name, wrapped string }{
		{"other material", request(material(6))["EncryptedKeyMaterial"]},
		{"random bytes", base64.StdEncoding.EncodeToString(random)},
		{"bytes above the modulus", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 256))},
		{"16 bytes", request(material(5)[:16])["EncryptedKeyMaterial"]},
	} {
		_, err := do(t, s, "ImportKeyMaterial", core.Params{"KeyId": id, "ImportToken": p["ImportToken"], "EncryptedKeyMaterial": c.wrapped})
		e := mustCode(t, err, core.CodeInvalidKeyMaterial)
		if first == nil {
			first = e
		}
		if e.Message != first.Message || errors.Is(e, core.ErrMaterialDoesNotUnwrap) {
			t.Errorf("%s: %q (ErrMaterialDoesNotUnwrap: %v), want %q as other material", c.name, e.Message, errors.Is(e, core.ErrMaterialDoesNotUnwrap), first.Message)
		}
	}
	if _, err := do(t, s, "ImportKeyMaterial", p); err != nil {
		t.Fatalf("re-importing the same material: %v", err)
	}
}

// Into a key that has taken no material, what does not unwrap under
// RSAES_PKCS1_V1_5 is refused, never imported as some material.
func TestPKCS1FirstImportRefusesWhatDoesNotUnwrap(t *testing.T) {
	s := rootedService(t, memory.New(), randomRoot(t))
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	request := wrappedRequest(t, s, id, "RSAES_PKCS1_V1_5")
	p := request(material(5))
	random := make([]byte, 256)
	_, _ = rand.Read(random)
	for name, wrapped := range map[string]string{
		"random bytes": base64.StdEncoding.EncodeToString(random),
		"16 bytes":     request(material(5)[:16])["EncryptedKeyMaterial"],
	} {
		_, err := do(t, s, "ImportKeyMaterial", core.Params{"KeyId": id, "ImportToken": p["ImportToken"], "EncryptedKeyMaterial": wrapped})
		if e := mustCode(t, err, core.CodeInvalidKeyMaterial); !errors.Is(e, core.ErrMaterialDoesNotUnwrap) {
			t.Errorf("%s: %v is not ErrMaterialDoesNotUnwrap", name, e)
		}
		out, err := do(t, s, "DescribeKey", core.Params{"KeyId": id})
		if err != nil {
			t.Fatal(err)
		}
		if st := out.(core.Key).State; st != core.KeyPendingImport {
			t.Fatalf("after %s: the key is %s, want %s", name, st, core.KeyPendingImport)
		}
	}
	if _, err := do(t, s, "ImportKeyMaterial", p); err != nil {
		t.Fatalf("the material, after the refusals: %v", err)
	}
}

// Making a wrapping key costs far more CPU than a request, so each caller may
// make only RSAKeyLimits[2048] of them a minute, whatever its request rate: past the
// burst it is throttled, RSA_2048 data key pairs included, while its other
// requests and another caller's wrapping keys go on.
func TestWrappingKeysAreLimitedPerCaller(t *testing.T) {
	s, _ := memService(t, core.Config{Limiter: inproc.NewLimiter()})
	ask := func(who *core.Principal, action string, p core.Params) (any, error) {
		return s.Handle(context.Background(), &core.Request{ID: "r", Action: action, Params: p, Caller: who})
	}
	a := &core.Principal{Name: "a", AccessKeyID: "a", QPS: 1000, Policy: core.FullAccess()}
	b := &core.Principal{Name: "b", AccessKeyID: "b", QPS: 1000, Policy: core.FullAccess()}
	out, err := ask(a, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	params := core.Params{"KeyId": out.(core.Key).ID, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}
	// The bucket refills on the wall clock while the keys are made (over a
	// second each under -race on a loaded machine), so the caller is allowed
	// the burst and what refilled meanwhile, and is throttled past that.
	lim, start := core.RSAKeyLimits[2048], time.Now()
	made := 0
	for ; made < 3*lim.Burst; made++ {
		_, err := ask(a, "GetParametersForImport", params)
		if err == nil {
			continue
		}
		if e := mustCode(t, err, core.CodeThrottling); e.RetryAfter <= 0 {
			t.Errorf("throttled with RetryAfter %v", e.RetryAfter)
		}
		break
	}
	refilled := int(time.Since(start) / (lim.Period / time.Duration(lim.Rate)))
	if made < lim.Burst || made > lim.Burst+refilled+1 {
		t.Fatalf("%d wrapping keys made before the throttle, in %v; want %d to %d", made, time.Since(start), lim.Burst, lim.Burst+refilled+1)
	}
	// Data key pairs of the same size spend the same bucket.
	sealing, err := ask(a, "CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ask(a, "GenerateDataKeyPair", core.Params{"KeyId": sealing.(core.Key).ID, "KeyPairSpec": "RSA_2048"})
	mustCode(t, err, core.CodeThrottling)
	if _, err := ask(a, "DescribeKey", core.Params{"KeyId": params["KeyId"]}); err != nil {
		t.Errorf("the caller's other requests: %v", err)
	}
	if _, err := ask(b, "GetParametersForImport", params); err != nil {
		t.Errorf("another caller's wrapping key: %v", err)
	}
}

// A key pending deletion takes no material (ImportKeyMaterial refuses it), so
// it is given no wrapping key either, as both key-state tables say: the
// refusal comes before the RSA key is made and spends none of the caller's
// wrapping keys. Cancelling the deletion makes the key importable again.
func TestNoWrappingKeyForAKeyPendingDeletion(t *testing.T) {
	s, _ := memService(t, core.Config{Limiter: inproc.NewLimiter()})
	a := &core.Principal{Name: "a", AccessKeyID: "a", QPS: 1000, Policy: core.FullAccess()}
	ask := func(action string, p core.Params) (any, error) {
		return s.Handle(context.Background(), &core.Request{ID: "r", Action: action, Params: p, Caller: a})
	}
	out, err := ask("CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	if _, err := ask("ScheduleKeyDeletion", core.Params{"KeyId": id, "PendingWindowInDays": "7"}); err != nil {
		t.Fatal(err)
	}
	params := core.Params{"KeyId": id, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}
	for range core.RSAKeyLimits[2048].Burst + 1 {
		_, err := ask("GetParametersForImport", params)
		mustCode(t, err, core.CodeStateModifiedFailed)
	}
	if _, err := ask("CancelKeyDeletion", core.Params{"KeyId": id}); err != nil {
		t.Fatal(err)
	}
	for i := range core.RSAKeyLimits[2048].Burst {
		if _, err := ask("GetParametersForImport", params); err != nil {
			t.Fatalf("wrapping key %d once the deletion is cancelled: %v", i+1, err)
		}
	}
}

// An expiry is a time every store keeps (years 1 to 9999): a later one was
// taken, and bbolt, which keeps times as RFC 3339, then failed the import
// as InternalFailure. The last second of 9999 is taken.
func TestImportRefusesAnExpiryNoStoreKeeps(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s := rootedService(t, store, randomRoot(t))
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	id := out.(core.Key).ID
	request := importRequest(t, s, id)
	material := make([]byte, core.KeyMaterialSize)
	_, _ = rand.Read(material)
	for _, expire := range []string{"253402300800", "9223372036854775807"} {
		p := request(material)
		p["KeyMaterialExpireUnix"] = expire
		_, err := do(t, s, "ImportKeyMaterial", p)
		if e := mustCode(t, err, core.CodeInvalidParameter); !strings.Contains(e.Message, "KeyMaterialExpireUnix") {
			t.Errorf("%s: %s", expire, e.Message)
		}
	}
	p := request(material)
	p["KeyMaterialExpireUnix"] = "253402300799"
	if _, err := do(t, s, "ImportKeyMaterial", p); err != nil {
		t.Fatal(err)
	}
	k, err := do(t, s, "DescribeKey", core.Params{"KeyId": id})
	if err != nil {
		t.Fatal(err)
	}
	if at := k.(core.Key).MaterialExpireAt; at.Year() != 9999 {
		t.Fatalf("the key expires %v", at)
	}
}

// A key's material is named by MaterialID, 64 hex digits of its key and
// version; an import or a deletion given a KeyMaterialId must name the
// key's one material, and is refused as a key not found, changing nothing,
// when it names another; ListKeyRotations marks the current version and
// whether an EXTERNAL key's material is imported.
func TestKeyMaterialIDNamesTheKeysOneMaterial(t *testing.T) {
	s := rootedService(t, memory.New(), randomRoot(t))
	if a, b := core.MaterialID("key-a", "v1"), core.MaterialID("key-a", "v1"); a != b || len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("MaterialID: %q and %q", a, b)
	}
	if core.MaterialID("key-a", "v1") == core.MaterialID("key-b", "v1") || core.MaterialID("key-a", "v1") == core.MaterialID("key-a", "v2") {
		t.Fatal("MaterialID names two materials alike")
	}
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	k := out.(core.Key)
	mine, other := core.MaterialID(k.ID, k.PrimaryVersionID), core.MaterialID(k.ID, "another")
	listed := func() core.Rotation {
		t.Helper()
		out, err := do(t, s, "ListKeyRotations", core.Params{"KeyId": k.ID, "AllKeyMaterial": "true"})
		if err != nil {
			t.Fatal(err)
		}
		l := out.(core.Listing[core.Rotation])
		if len(l.Items) != 1 || l.Items[0].VersionID != k.PrimaryVersionID || !l.Items[0].Current || !l.Items[0].External || l.Items[0].Wrapped != nil {
			t.Fatalf("ListKeyRotations: %+v", l.Items)
		}
		return l.Items[0]
	}
	if listed().Imported {
		t.Error("a key pending import lists its material imported")
	}
	request := importRequest(t, s, k.ID)
	p := request(material(7))
	p["KeyMaterialId"] = other
	_, err = do(t, s, "ImportKeyMaterial", p)
	mustCode(t, err, core.CodeKeyNotFound)
	p["KeyMaterialId"] = mine
	if _, err := do(t, s, "ImportKeyMaterial", p); err != nil {
		t.Fatal(err)
	}
	if !listed().Imported {
		t.Error("an imported key lists its material not imported")
	}
	_, err = do(t, s, "DeleteKeyMaterial", core.Params{"KeyId": k.ID, "KeyMaterialId": other})
	mustCode(t, err, core.CodeKeyNotFound)
	if !listed().Imported {
		t.Fatal("a refused deletion deleted the material")
	}
	if _, err := do(t, s, "DeleteKeyMaterial", core.Params{"KeyId": k.ID, "KeyMaterialId": mine}); err != nil {
		t.Fatal(err)
	}
	if listed().Imported {
		t.Error("a deleted material is listed imported")
	}
}
