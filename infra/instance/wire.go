package instance

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kmsless/kmsless/core"
)

// The API's messages are protocol buffers (proto3) of strings, bytes, one
// int32 and one bool each, read and written here field by field: the
// messages are few and flat, and a generated codec would bring its runtime
// to every function's cold start.

// message is a request's fields by number: the last value of each, as
// proto3 reads a scalar given twice. Fields no request has are skipped.
type message map[protowire.Number]field

// maxField is above the highest field number of every request message (6,
// Sign's MessageType and the IVs' padding): decode keeps no field past it,
// so a body of many unknown fields costs one pass and no more memory than
// a request's own fields.
const maxField = 16

type field struct {
	typ protowire.Type
	v   uint64 // a varint's value
	b   []byte // a length-delimited field's bytes, within the body
}

// decode reads a request body. Its work is one pass over the bytes, which
// the handler has bounded: a malformed message is refused whole.
func decode(b []byte) (message, error) {
	m := message{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, malformed()
		}
		b = b[n:]
		f := field{typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, malformed()
		}
		b = b[n:]
		if num < maxField {
			m[num] = f
		}
	}
	return m, nil
}

func malformed() error {
	return core.Errorf(core.CodeInvalidParameter, "The request body is not a protocol buffer message.")
}

// wrongType refuses a field sent with another wire type than its own.
func wrongType(name string) error {
	return core.Errorf(core.CodeInvalidParameter, "The parameter %s is invalid: it has the wrong protocol buffer type.", name)
}

// bytes is the bytes field num (name), or nil when it is absent.
func (m message) bytes(num protowire.Number, name string) ([]byte, error) {
	f, ok := m[num]
	switch {
	case !ok:
		return nil, nil
	case f.typ != protowire.BytesType:
		return nil, wrongType(name)
	}
	return f.b, nil
}

// str is the string field num (name), "" when it is absent.
func (m message) str(num protowire.Number, name string) (string, error) {
	b, err := m.bytes(num, name)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", core.Errorf(core.CodeInvalidParameter, "The parameter %s is invalid: it is not UTF-8.", name)
	}
	return string(b), nil
}

// int32 is the int32 field num (name), 0 when it is absent.
func (m message) int32(num protowire.Number, name string) (int32, error) {
	f, ok := m[num]
	switch {
	case !ok:
		return 0, nil
	case f.typ != protowire.VarintType:
		return 0, wrongType(name)
	}
	return int32(f.v), nil
}

// bool is the bool field num (name), false when it is absent.
func (m message) bool(num protowire.Number, name string) (bool, error) {
	v, err := m.int32(num, name)
	return v != 0, err
}

// out writes a response message. As proto3 does, it leaves out the fields
// that hold their zero value.
type out []byte

func (o *out) str(num protowire.Number, s string) {
	if s != "" {
		*o = protowire.AppendString(protowire.AppendTag(*o, num, protowire.BytesType), s)
	}
}

func (o *out) bytes(num protowire.Number, b []byte) {
	if len(b) > 0 {
		*o = protowire.AppendBytes(protowire.AppendTag(*o, num, protowire.BytesType), b)
	}
}

func (o *out) strs(num protowire.Number, ss []string) {
	for _, s := range ss {
		*o = protowire.AppendString(protowire.AppendTag(*o, num, protowire.BytesType), s)
	}
}

func (o *out) bool(num protowire.Number, v bool) {
	if v {
		*o = protowire.AppendVarint(protowire.AppendTag(*o, num, protowire.VarintType), 1)
	}
}

func (o *out) int32(num protowire.Number, v int32) {
	if v != 0 {
		*o = protowire.AppendVarint(protowire.AppendTag(*o, num, protowire.VarintType), uint64(int64(v)))
	}
}
