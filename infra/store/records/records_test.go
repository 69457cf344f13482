package records_test

import (
	"reflect"
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
			Tags: map[string]string{"a": "b"}, DeletionProtection: true, DeletionProtectionDescription: "p",
			MaterialExpireAt: at.Add(2 * time.Hour), Revision: 3},
		core.KeyVersion{KeyID: "k", VersionID: "v", CreatedAt: at, Wrapped: []byte{1}, Digest: []byte{2}, RootKeyID: "r"},
		core.Alias{Name: "alias/a", KeyID: "k", CreatedAt: at, UpdatedAt: at.Add(time.Second)},
		core.Partition{ID: "p", KeyID: "k", KeyVersionID: "v", CiphertextBlob: []byte{3}, EncryptionContext: map[string]string{"c": "d"}, CreatedAt: at},
	} {
		if z := reflect.ValueOf(v); !allSet(z) {
			t.Fatalf("%T: the test leaves a field zero", v)
		}
		b, err := records.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		switch v.(type) {
		case core.Key:
			got, err = records.Decode[core.Key](b)
		case core.KeyVersion:
			got, err = records.Decode[core.KeyVersion](b)
		case core.Alias:
			got, err = records.Decode[core.Alias](b)
		case core.Partition:
			got, err = records.Decode[core.Partition](b)
		}
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("%T: %s decodes to %+v (%v), want %+v", v, b, got, err, v)
		}
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
