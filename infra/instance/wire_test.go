package instance

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kmsless/kmsless/core"
)

// A body of many fields no request has is read in one pass and kept as
// none of them: an authenticated caller cannot make the service hold a map
// as large as the body.
func TestDecodeKeepsNoUnknownField(t *testing.T) {
	var b []byte
	for num := protowire.Number(1); num < 20000; num++ {
		b = protowire.AppendTag(b, num, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
	}
	m, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != int(maxField)-1 {
		t.Fatalf("decode kept %d fields, want the %d below %d", len(m), maxField-1, maxField)
	}
}

// FuzzRequests feeds every API's parameter reader any body: each either
// reads it or refuses it as InvalidParameter, and none panics.
func FuzzRequests(f *testing.F) {
	seed := func(fields ...any) []byte {
		var b []byte
		for i := 0; i < len(fields); i += 2 {
			num := protowire.Number(fields[i].(int))
			switch v := fields[i+1].(type) {
			case string:
				b = protowire.AppendTag(b, num, protowire.BytesType)
				b = protowire.AppendString(b, v)
			case int:
				b = protowire.AppendTag(b, num, protowire.VarintType)
				b = protowire.AppendVarint(b, uint64(v))
			}
		}
		return b
	}
	f.Add(seed(1, "key-abc", 2, "plaintext", 3, "AES_GCM", 4, "aad"))
	f.Add(seed(1, "\x01blob", 2, "key-abc", 5, "iv", 6, "PKCS7"))
	f.Add(seed(1, "key-abc", 2, "RSA_PSS_SHA_256", 3, "digest", 5, "RAW"))
	f.Add(seed(1, 32))
	f.Add(seed(1, "secret", 2, "ACSCurrent", 4, 1))
	f.Add([]byte{0x0b, 0x0c}) // a group
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decode(body)
		if err != nil {
			return
		}
		for name, a := range apis {
			if _, err := a.params(m); err != nil && !isInvalidParameter(err) {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}

// isInvalidParameter reports whether err is a client's error about its
// parameters, as the handler answers a request it cannot read.
func isInvalidParameter(err error) bool {
	var e *core.Error
	return errors.As(err, &e) && (e.Code == core.CodeInvalidParameter || e.Code == core.CodeMissingParameter)
}
