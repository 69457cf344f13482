package records_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/records"
)

// Every field of every model type survives its record, non-zero values
// included, so an omitempty or a missed field loses nothing stored.
func TestRecordsRoundTripEveryField(t *testing.T) {
	at := time.Date(2026, 11, 30, 7, 0, 0, 123, time.UTC)
	for _, v := range []any{
		core.Key{ID: "k", Description: "d", KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT", Origin: "Aliyun_KMS",
			ProtectionLevel: "SOFTWARE", Creator: "c", State: core.KeyPendingDeletion, CreatedAt: at, DeleteAt: at.Add(time.Hour),
			PrimaryVersionID: "v", AutomaticRotation: true, RotationInterval: 7 * 24 * time.Hour, LastRotatedAt: at,
			RotationBase: at.Add(-time.Hour), Tags: map[string]string{"a": "b"}, DeletionProtection: true, DeletionProtectionDescription: "p",
			MaterialExpireAt: at.Add(2 * time.Hour), Policy: `{"Statement":[]}`, Revision: 3},
		core.KeyVersion{KeyID: "k", VersionID: "v", CreatedAt: at, Wrapped: []byte{1}, Digest: []byte{2}, RootKeyID: "r", RotationType: core.RotationPending,
			ExpireAt: at.Add(3 * time.Hour), MaterialDescription: "m"},
		core.Alias{Name: "alias/a", KeyID: "k", CreatedAt: at, UpdatedAt: at.Add(time.Second)},
		core.Partition{ID: "p", KeyID: "k", KeyVersionID: "v", CiphertextBlob: []byte{3}, EncryptionContext: map[string]string{"c": "d"}, CreatedAt: at},
		core.GenericSecret{Name: "s", Description: "d", KeyID: "k", Creator: "c", CreatedAt: at, UpdatedAt: at.Add(time.Second),
			DeleteAt: at.Add(time.Hour), Tags: map[string]string{"a": "b"}, Stages: map[string]string{"ACSCurrent": "v"},
			Versions: []core.SecretVersion{{ID: "v", CreatedAt: at, DataType: "text", Sealed: []byte{4}}}, Revision: 2,
			Policy: `{"Statement":[]}`},
		core.Grant{ID: "g", KeyID: "k", KeyCreated: at.Unix(), Name: "n", Grantee: "arn:g", GranteeName: "gn",
			Retiring: "arn:r", RetiringName: "rn", Operations: []string{"Decrypt", "Encrypt"}, Issuer: "i", CreatedAt: at,
			Constraints: core.GrantConstraints{Equals: core.EncryptionContext{"a": "b"}, Subset: core.EncryptionContext{"c": "d"}}},
		core.Certificate{ID: "c", KeySpec: "ECC_NIST_P256", Subject: "CN=a,O=b", SubjectAlternativeNames: []string{"a.example", "b.example"},
			Exportable: true, Status: core.CertificateActive, Creator: "c", CreatedAt: at, UpdatedAt: at.Add(time.Second),
			Tags: map[string]string{"a": "b"}, PrivateKey: []byte{5}, RootKeyID: "r", CSR: []byte{6}, Certificate: []byte{7},
			Chain: [][]byte{{8}, {9, 10}}, Revision: 4},
		core.KeyUsage{Action: "Encrypt", At: at, RequestID: "r"},
	} {
		if z := reflect.ValueOf(v); !allSet(z) {
			t.Fatalf("%T: the test leaves a field zero", v)
		}
		b, err := records.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		switch v := v.(type) {
		case core.Key:
			got, err = records.Decode[core.Key](b)
		case core.KeyVersion:
			got, err = records.Decode[core.KeyVersion](b)
		case core.Alias:
			got, err = records.Decode[core.Alias](b)
		case core.Partition:
			got, err = records.Decode[core.Partition](b)
		case core.Grant:
			got, err = records.Decode[core.Grant](b)
		case core.Certificate:
			got, err = records.Decode[core.Certificate](b)
		case core.KeyUsage:
			got, err = records.Decode[core.KeyUsage](b)
		case core.GenericSecret:
			var sec core.GenericSecret
			sec, err = records.Decode[core.GenericSecret](b)
			if err == nil {
				sec.Versions, err = records.DecodeVersions(records.EncodeVersions(v.Versions))
			}
			got = sec
		}
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("%T: %s decodes to %+v (%v), want %+v", v, b, got, err, v)
		}
	}
}

// A grant's constraints and operations come back as they went in: none as
// nil, and empty as empty, since an empty Equals admits only an empty
// context where none admits any.
func TestGrantRecordKeepsNoneApartFromEmpty(t *testing.T) {
	for _, g := range []core.Grant{
		{ID: "g", KeyID: "k", GranteeName: "p"},
		{ID: "g", KeyID: "k", GranteeName: "p", Operations: []string{},
			Constraints: core.GrantConstraints{Equals: core.EncryptionContext{}, Subset: core.EncryptionContext{}}},
		{ID: "g", KeyID: "k", GranteeName: "p", Constraints: core.GrantConstraints{Subset: core.EncryptionContext{"k": "v\x00"}}},
	} {
		b, err := records.Encode(g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := records.Decode[core.Grant](b)
		if err != nil || !reflect.DeepEqual(got, g) {
			t.Errorf("%s decodes to %#v (%v), want %#v", b, got, err, g)
		}
	}
}

// A damaged grant record is an error, never a grant with fields missing.
func TestGrantRecordRefusesDamage(t *testing.T) {
	good, err := records.Encode(core.Grant{ID: "g", KeyID: "k", GranteeName: "p", Operations: []string{"Decrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"", "null", "{}", "[]", `"g"`, `{"id":"g"}`, `{"keyId":"k"}`,
		`{"id":"g","keyId":"k","operations":"Decrypt"}`,
		`{"id":"g","keyId":"k","encryptionContextEquals":{"a":1}}`,
		`{"id":"g","keyId":"k","createdAt":"yesterday"}`,
		string(good[:len(good)-1]),
	} {
		if g, err := records.Decode[core.Grant]([]byte(bad)); err == nil {
			t.Errorf("%q decodes to %+v", bad, g)
		}
	}
}

// A key record written before rotationBase existed keeps its schedule:
// automatic rotation counts from its last rotation, as it did then.
func TestKeyRecordWithoutRotationBaseSchedulesFromLastRotation(t *testing.T) {
	old := `{"id":"k","keySpec":"Aliyun_AES_256","keyUsage":"ENCRYPT/DECRYPT","origin":"Aliyun_KMS",` +
		`"protectionLevel":"SOFTWARE","state":"Enabled","createdAt":"2026-01-01T00:00:00Z","primaryVersionId":"v2",` +
		`"automaticRotation":true,"rotationInterval":604800000000000,"lastRotatedAt":"2026-02-01T00:00:00Z","revision":4}`
	k, err := records.Decode[core.Key]([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 2, 8, 0, 0, 0, 0, time.UTC); !k.NextRotation().Equal(want) {
		t.Fatalf("next rotation %v, want %v", k.NextRotation(), want)
	}
}

// A version record written before rotationType existed reads as no
// rotation type: nothing says how it came to be.
func TestVersionRecordWithoutRotationTypeHasNone(t *testing.T) {
	old := `{"keyId":"k","versionId":"v2","createdAt":"2026-02-01T00:00:00Z","wrapped":"AQ==","rootKeyId":"r"}`
	v, err := records.Decode[core.KeyVersion]([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if v.RotationType != "" || v.VersionID != "v2" {
		t.Fatalf("decoded %+v, want version v2 with no rotation type", v)
	}
}

// A version record written before expireAt and materialDescription existed
// reads as material that never expires and has no description; a version
// without them writes neither, so its record is what it was before.
func TestVersionRecordWithoutExpiryOrDescriptionHasNone(t *testing.T) {
	old := `{"keyId":"k","versionId":"v2","createdAt":"2026-02-01T00:00:00Z","wrapped":"AQ==","rootKeyId":"r","rotationType":"OnDemand"}`
	v, err := records.Decode[core.KeyVersion]([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if !v.ExpireAt.IsZero() || v.MaterialDescription != "" || v.RotationType != core.RotationOnDemand {
		t.Fatalf("decoded %+v, want no expiry and no description", v)
	}
	b, err := records.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != old {
		t.Fatalf("encoded %s, want %s", b, old)
	}
}

func allSet(v reflect.Value) bool {
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

// A secret's versions survive their binary form byte for byte, and every
// truncation or extension of it is refused.
func TestSecretVersionsRoundTripAndRefuseDamage(t *testing.T) {
	at := time.Date(2026, 12, 1, 7, 0, 0, 123456789, time.UTC)
	vs := []core.SecretVersion{
		{ID: "v1", CreatedAt: at, DataType: "text", Sealed: []byte("sealed one")},
		{ID: strings.Repeat("x", 64), CreatedAt: at.Add(time.Hour), DataType: "binary", Sealed: make([]byte, 300)},
	}
	b := records.EncodeVersions(vs)
	got, err := records.DecodeVersions(b)
	if err != nil || !reflect.DeepEqual(got, vs) {
		t.Fatalf("DecodeVersions = %+v, %v; want %+v", got, err, vs)
	}
	if got, err := records.DecodeVersions(records.EncodeVersions(nil)); err != nil || got != nil {
		t.Fatalf("no versions decode to %+v, %v", got, err)
	}
	for i := range b {
		if _, err := records.DecodeVersions(b[:i]); err == nil {
			t.Fatalf("the form cut to %d of %d bytes decodes", i, len(b))
		}
	}
	if _, err := records.DecodeVersions(append(b, 0)); err == nil {
		t.Fatal("the form with a byte more decodes")
	}
}

// FuzzDecodeVersions: whatever the bytes, no panic, and what decodes is
// what encodes back to the same bytes.
func FuzzDecodeVersions(f *testing.F) {
	f.Add(records.EncodeVersions([]core.SecretVersion{{ID: "v1", DataType: "text", Sealed: []byte{1, 2}}}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := records.DecodeVersions(b)
		if err != nil {
			return
		}
		if again := records.EncodeVersions(vs); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, vs, again)
		}
	})
}
