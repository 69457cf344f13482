package core_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/store/memory"
)

// importFixture is an EXTERNAL symmetric key on a service whose clock the
// test moves.
type importFixture struct {
	t     *testing.T
	s     *core.Service
	clock *stepClock
	id    string
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	clock := &stepClock{now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	s, err := core.New(core.Config{Store: memory.New(), Root: randomRoot(t), Clock: clock, Cache: inproc.NewCache(time.Hour, 100)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	return &importFixture{t: t, s: s, clock: clock, id: out.(core.Key).ID}
}

// importing imports material with the extra parameters (name, value, …).
func (f *importFixture) importing(m []byte, extra ...string) (core.Changed, error) {
	f.t.Helper()
	p := importRequest(f.t, f.s, f.id)(m)
	for i := 0; i < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	out, err := do(f.t, f.s, "ImportKeyMaterial", p)
	if err != nil {
		return core.Changed{}, err
	}
	return out.(core.Changed), nil
}

func (f *importFixture) imported(m []byte, extra ...string) core.Changed {
	f.t.Helper()
	c, err := f.importing(m, extra...)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *importFixture) key() core.Key {
	f.t.Helper()
	out, err := do(f.t, f.s, "DescribeKey", core.Params{"KeyId": f.id})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.(core.Key)
}

// rotations lists every material, or only those rotations made.
func (f *importFixture) rotations(all bool) []core.Rotation {
	f.t.Helper()
	out, err := do(f.t, f.s, "ListKeyRotations", core.Params{"KeyId": f.id, "AllKeyMaterial": strconv.FormatBool(all)})
	if err != nil {
		f.t.Fatal(err)
	}
	l := out.(core.Listing[core.Rotation])
	if l.Total != len(l.Items) {
		f.t.Fatalf("ListKeyRotations: total %d of %d items", l.Total, len(l.Items))
	}
	return l.Items
}

func (f *importFixture) seal(plain string) core.Sealed {
	f.t.Helper()
	out, err := do(f.t, f.s, "Encrypt", core.Params{"KeyId": f.id, "Plaintext": base64.StdEncoding.EncodeToString([]byte(plain))})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.(core.Sealed)
}

func (f *importFixture) open(b core.Sealed) (core.Opened, error) {
	f.t.Helper()
	out, err := do(f.t, f.s, "Decrypt", core.Params{"CiphertextBlob": base64.StdEncoding.EncodeToString(b.Blob)})
	if err != nil {
		return core.Opened{}, err
	}
	return out.(core.Opened), nil
}

// An EXTERNAL symmetric key takes new material for an on-demand rotation,
// as AWS's has since 2025: imported as NEW_KEY_MATERIAL it waits, pending,
// beside the current one until RotateKeyOnDemand makes it current; it may
// be imported again, or deleted and other material imported in its place,
// until then. Every material the key holds for good must be imported for
// the key to be usable, and the first to expire ends its use.
func TestImportedKeyRotatesOnDemandToNewMaterial(t *testing.T) {
	f := newImportFixture(t)
	first, second, third := material(1), material(2), material(3)
	_, err := do(t, f.s, "RotateKeyOnDemand", core.Params{"KeyId": f.id})
	mustCode(t, err, core.CodePendingImport)

	_, err = f.importing(first, "KeyMaterialId", core.MaterialID(f.id, "another"))
	mustCode(t, err, core.CodeKeyNotFound)
	in := f.imported(first, "ImportType", "EXISTING_KEY_MATERIAL", "KeyMaterialDescription", "first one")
	k := f.key()
	if in.VersionID != k.PrimaryVersionID || k.State != core.KeyEnabled {
		t.Fatalf("the first import went to %s; the key is %s at %s", in.VersionID, k.State, k.PrimaryVersionID)
	}
	v1 := k.PrimaryVersionID
	old := f.seal("under the first")
	_, err = do(t, f.s, "RotateKeyOnDemand", core.Params{"KeyId": f.id})
	mustCode(t, err, core.CodeUnsupportedOrigin)

	// New material: refused with an ID, then imported beside the first.
	_, err = f.importing(second, "ImportType", "NEW_KEY_MATERIAL", "KeyMaterialId", core.MaterialID(f.id, v1))
	mustCode(t, err, core.CodeInvalidParameter)
	pkcs1 := wrappedRequest(t, f.s, f.id, "RSAES_PKCS1_V1_5")(second)
	pkcs1["ImportType"] = "NEW_KEY_MATERIAL"
	_, err = do(t, f.s, "ImportKeyMaterial", pkcs1)
	mustCode(t, err, core.CodeInvalidParameter)
	pending := f.imported(second, "ImportType", "NEW_KEY_MATERIAL", "KeyMaterialDescription", "second")
	if pending.VersionID == v1 || f.key().PrimaryVersionID != v1 || f.key().State != core.KeyEnabled {
		t.Fatalf("new material went to %s; the key is %+v", pending.VersionID, f.key())
	}
	if b := f.seal("still the first"); b.VersionID != v1 {
		t.Fatalf("material pending rotation sealed: %s", b.VersionID)
	}
	all := f.rotations(true)
	if len(all) != 2 || !all[0].First || !all[0].Current || all[0].MaterialDescription != "first one" ||
		all[1].VersionID != pending.VersionID || all[1].RotationType != core.RotationPending || all[1].Current || !all[1].Imported || all[1].MaterialDescription != "second" {
		t.Fatalf("all materials: %+v", all)
	}
	if r := f.rotations(false); len(r) != 0 {
		t.Fatalf("rotations made, with one pending: %+v", r)
	}
	_, err = f.importing(third, "ImportType", "NEW_KEY_MATERIAL")
	mustCode(t, err, core.CodeStateModifiedFailed)
	// Imported again by its ID; other material under its ID is refused.
	f.imported(second, "KeyMaterialId", core.MaterialID(f.id, pending.VersionID))
	_, err = f.importing(third, "KeyMaterialId", core.MaterialID(f.id, pending.VersionID))
	mustCode(t, err, core.CodeInvalidKeyMaterial)

	// Deleted while pending: the key stays usable, and other material may
	// take its place.
	if _, err := do(t, f.s, "DeleteKeyMaterial", core.Params{"KeyId": f.id, "KeyMaterialId": core.MaterialID(f.id, pending.VersionID)}); err != nil {
		t.Fatal(err)
	}
	if k := f.key(); k.State != core.KeyEnabled || len(f.rotations(true)) != 1 {
		t.Fatalf("after the pending material's deletion the key is %s with %+v", k.State, f.rotations(true))
	}
	_, err = f.importing(third, "KeyMaterialId", core.MaterialID(f.id, pending.VersionID))
	mustCode(t, err, core.CodeKeyNotFound)
	forged, err := sealBlob(testAEAD(t), rand.Reader, f.id, pending.VersionID, nil, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.open(core.Sealed{Blob: forged})
	mustCode(t, err, core.CodeInvalidCiphertext)
	expires := f.clock.Now().Add(48 * time.Hour).Truncate(time.Second)
	replaced := f.imported(third, "ImportType", "NEW_KEY_MATERIAL", "KeyMaterialExpireUnix", strconv.FormatInt(expires.Unix(), 10))
	if replaced.VersionID == pending.VersionID {
		t.Fatal("new material took the place of material withdrawn: caches would serve the withdrawn one")
	}
	if at := f.key().MaterialExpireAt; !at.IsZero() {
		t.Fatalf("material pending rotation sets the key's expiry: %v", at)
	}
	versions, err := do(t, f.s, "ListKeyVersions", core.Params{"KeyId": f.id})
	if err != nil {
		t.Fatal(err)
	}
	if l := versions.(core.Listing[core.KeyVersion]); l.Total != 1 || len(l.Items) != 1 || l.Items[0].VersionID != v1 {
		t.Fatalf("ListKeyVersions with material pending and withdrawn: %+v", l)
	}
	for _, vid := range []string{pending.VersionID, replaced.VersionID} {
		_, err := do(t, f.s, "DescribeKeyVersion", core.Params{"KeyId": f.id, "KeyVersionId": vid})
		mustCode(t, err, core.CodeKeyNotFound)
	}

	// The rotation: the pending material seals from now on, and each blob
	// opens under the material that sealed it.
	f.clock.Advance(time.Hour)
	out, err := do(t, f.s, "RotateKeyOnDemand", core.Params{"KeyId": f.id})
	if err != nil {
		t.Fatal(err)
	}
	k = f.key()
	if v := out.(core.KeyVersion); v.VersionID != replaced.VersionID || k.PrimaryVersionID != replaced.VersionID || !k.LastRotatedAt.Equal(f.clock.Now().Truncate(time.Second)) {
		t.Fatalf("rotated to %+v; the key is at %s, rotated %v", v, k.PrimaryVersionID, k.LastRotatedAt)
	}
	if !k.MaterialExpireAt.Equal(expires) {
		t.Fatalf("the key's material expires %v, want the new material's %v", k.MaterialExpireAt, expires)
	}
	fresh := f.seal("under the third")
	if fresh.VersionID != replaced.VersionID {
		t.Fatalf("sealed under %s", fresh.VersionID)
	}
	for _, b := range []core.Sealed{old, fresh} {
		if o, err := f.open(b); err != nil || o.VersionID != b.VersionID {
			t.Fatalf("blob of %s: %+v, %v", b.VersionID, o, err)
		}
	}
	made := f.rotations(false)
	if len(made) != 1 || made[0].VersionID != replaced.VersionID || !made[0].Current || made[0].RotationType != core.RotationOnDemand || !made[0].CreatedAt.Equal(k.LastRotatedAt) || !made[0].ExpireAt.Equal(expires) {
		t.Fatalf("rotations made: %+v", made)
	}
	_, err = do(t, f.s, "RotateKeyOnDemand", core.Params{"KeyId": f.id})
	mustCode(t, err, core.CodeUnsupportedOrigin)

	// The first material, deleted, makes the key unusable until imported
	// again, though it no longer seals.
	if _, err := do(t, f.s, "DeleteKeyMaterial", core.Params{"KeyId": f.id, "KeyMaterialId": core.MaterialID(f.id, v1)}); err != nil {
		t.Fatal(err)
	}
	if k := f.key(); k.State != core.KeyPendingImport {
		t.Fatalf("with a material deleted the key is %s", k.State)
	}
	_, err = f.open(fresh)
	mustCode(t, err, core.CodePendingImport)
	_, err = f.importing(second, "KeyMaterialId", core.MaterialID(f.id, v1))
	mustCode(t, err, core.CodeInvalidKeyMaterial)
	f.imported(first, "KeyMaterialId", core.MaterialID(f.id, v1))
	if k := f.key(); k.State != core.KeyEnabled {
		t.Fatalf("with every material imported again the key is %s", k.State)
	}
	if o, err := f.open(old); err != nil || o.VersionID != v1 {
		t.Fatalf("the first material's blob: %+v, %v", o, err)
	}
	all = f.rotations(true)
	if len(all) != 2 || all[0].MaterialDescription != "first one" {
		t.Fatalf("a re-import without a description dropped the one given: %+v", all)
	}

	// The first material to expire ends the key's use, whichever it is.
	f.clock.Advance(48 * time.Hour)
	if k := f.key(); k.State != core.KeyPendingImport {
		t.Fatalf("with the current material expired the key is %s", k.State)
	}
	if r := f.rotations(true); r[1].Imported || !r[0].Imported {
		t.Fatalf("after the current material expired: %+v", r)
	}
	f.imported(third, "KeyMaterialId", core.MaterialID(f.id, replaced.VersionID))
	if _, err := f.open(old); err != nil {
		t.Fatal(err)
	}
}

// Only a symmetric encryption key's materials take an import type, an ID
// or a description, and a description is what AWS's pattern allows.
func TestImportParametersOfMaterials(t *testing.T) {
	s := rootedService(t, memory.New(), randomRoot(t))
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal, "KeySpec": "HMAC_256", "KeyUsage": "GENERATE/VERIFY_MAC"})
	if err != nil {
		t.Fatal(err)
	}
	hmacKey := out.(core.Key).ID
	for _, name := range []string{"ImportType", "KeyMaterialId", "KeyMaterialDescription"} {
		p := importRequest(t, s, hmacKey)(material(4))
		p[name] = "NEW_KEY_MATERIAL"
		_, err := do(t, s, "ImportKeyMaterial", p)
		if e := mustCode(t, err, core.CodeInvalidParameter); !strings.Contains(e.Message, name) {
			t.Errorf("%s on an HMAC key: %s", name, e.Message)
		}
	}
	f := newImportFixture(t)
	for _, d := range []string{"semi;colon", strings.Repeat("a", 257), "é"} {
		_, err := f.importing(material(5), "KeyMaterialDescription", d)
		mustCode(t, err, core.CodeInvalidParameter)
	}
	_, err = f.importing(material(5), "ImportType", "SOME_KEY_MATERIAL")
	mustCode(t, err, core.CodeInvalidParameter)
	ok := strings.Repeat("a", 250) + " :/_.-"
	f.imported(material(5), "KeyMaterialDescription", ok)
	if r := f.rotations(true); len(r) != 1 || r[0].MaterialDescription != ok || !bytes.Equal(nil, r[0].Wrapped) {
		t.Fatalf("%+v", r)
	}
}

// A key whose material was imported before versions kept their expiry has
// it on the key alone. Its listing gives the material that expiry, and new
// material joining it does not make the key forget it: the key still
// becomes unusable when the first material expires.
func TestImportedKeyKeepsAnExpiryFromBeforeVersionsKeptIt(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	store := memory.New()
	s, err := core.New(core.Config{Store: store, Root: randomRoot(t), Clock: clock, Cache: inproc.NewCache(time.Hour, 100)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := do(t, s, "CreateKey", core.Params{"Origin": core.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	f := &importFixture{t: t, s: s, clock: clock, id: out.(core.Key).ID}
	expires := clock.Now().Add(24 * time.Hour)
	f.imported(material(1), "KeyMaterialExpireUnix", strconv.FormatInt(expires.Unix(), 10))

	// As an earlier release stored it: the expiry on the key, none on the
	// version.
	ctx := t.Context()
	k, err := store.GetKey(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.GetVersion(ctx, f.id, k.PrimaryVersionID)
	if err != nil {
		t.Fatal(err)
	}
	v.ExpireAt = time.Time{}
	k.Revision++
	if err := store.ReplaceVersion(ctx, k, v); err != nil {
		t.Fatal(err)
	}
	if r := f.rotations(true); len(r) != 1 || !r[0].ExpireAt.Equal(expires) || !r[0].Imported {
		t.Fatalf("the first material before new material joined it: %+v", r)
	}

	f.imported(material(2), "ImportType", "NEW_KEY_MATERIAL")
	if _, err := do(t, s, "RotateKeyOnDemand", core.Params{"KeyId": f.id}); err != nil {
		t.Fatal(err)
	}
	if at := f.key().MaterialExpireAt; !at.Equal(expires) {
		t.Fatalf("after new material and a rotation the key expires %v, want the first material's %v", at, expires)
	}
	if r := f.rotations(true); len(r) != 2 || !r[0].ExpireAt.Equal(expires) {
		t.Fatalf("the first material after the rotation: %+v", r)
	}
	clock.Advance(25 * time.Hour)
	if k := f.key(); k.State != core.KeyPendingImport {
		t.Fatalf("past the first material's expiry the key is %s", k.State)
	}
}

// Imports of new material racing each other leave one pending material:
// each picks its place under the key's compare-and-set, and the others
// find it taken.
func TestRacingImportsOfNewMaterialLeaveOne(t *testing.T) {
	f := newImportFixture(t)
	f.imported(material(1))
	const n = 4
	requests := make([]core.Params, n)
	for i := range requests {
		requests[i] = importRequest(t, f.s, f.id)(material(byte(10 + i)))
		requests[i]["ImportType"] = "NEW_KEY_MATERIAL"
	}
	errs := make(chan error, n)
	for _, p := range requests {
		go func() {
			_, err := do(t, f.s, "ImportKeyMaterial", p)
			errs <- err
		}()
	}
	won := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			won++
		default:
			mustCode(t, err, core.CodeStateModifiedFailed)
		}
	}
	all := f.rotations(true)
	if won != 1 || len(all) != 2 || all[1].RotationType != core.RotationPending {
		t.Fatalf("%d imports of new material succeeded; the key lists %+v", won, all)
	}
}
