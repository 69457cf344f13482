package records

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/kmsless/kmsless/core"
)

// A secret's versions are kept apart from its JSON record, in a binary form:
// they are read on every GetSecretValue, and as JSON a secret of ten 1 KiB
// values took 80 µs to decode (a scan for validity, unquoting and base64 of
// each sealed value), where this form is copied. It is
//
//	1 (the form), uvarint count, then for each version:
//	uvarint len, ID; 8 bytes big-endian CreatedAt in Unix nanoseconds;
//	uvarint len, DataType; uvarint len, Sealed.
const versionsForm = 1

// EncodeVersions writes vs in the binary form above.
func EncodeVersions(vs []core.SecretVersion) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, v := range vs {
		n += 3*binary.MaxVarintLen64 + 8 + len(v.ID) + len(v.DataType) + len(v.Sealed)
	}
	b := make([]byte, 0, n)
	b = append(b, versionsForm)
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = appendBytes(b, []byte(v.ID))
		b = binary.BigEndian.AppendUint64(b, uint64(v.CreatedAt.UnixNano()))
		b = appendBytes(b, []byte(v.DataType))
		b = appendBytes(b, v.Sealed)
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

var errVersions = errors.New("records: malformed secret versions")

// DecodeVersions reads what EncodeVersions wrote; nil for none. The sealed
// values are copies: they share no memory with b.
func DecodeVersions(b []byte) ([]core.SecretVersion, error) {
	if len(b) == 0 || b[0] != versionsForm {
		return nil, fmt.Errorf("%w: unknown form", errVersions)
	}
	r := reader{b: b[1:]}
	count := r.uvarint()
	// Each version takes at least 11 bytes: no count beyond that is real.
	if r.err != nil || count > uint64(len(r.b)/11) {
		return nil, errVersions
	}
	var vs []core.SecretVersion
	if count > 0 {
		vs = make([]core.SecretVersion, count)
	}
	for i := range vs {
		vs[i].ID = string(r.bytes())
		vs[i].CreatedAt = time.Unix(0, int64(r.uint64())).UTC()
		vs[i].DataType = string(r.bytes())
		vs[i].Sealed = append([]byte(nil), r.bytes()...)
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errVersions
	}
	return vs, nil
}

// reader takes fields off b; after the first short read it reads nothing
// and err says so.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	// One value has one spelling: a longer one ends in a zero byte.
	if n <= 0 || n > 1 && r.b[n-1] == 0 {
		r.err = errVersions
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uint64() uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errVersions
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errVersions
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
