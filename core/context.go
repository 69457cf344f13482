package core

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"slices"
	"unicode/utf8"
)

// MaxEncryptionContextLen is the longest EncryptionContext accepted, in characters
// of its JSON text.
const MaxEncryptionContextLen = 8192

// EncryptionContext is the additional authenticated data a caller binds to a
// ciphertext: the same map must be given to decrypt it. Key order does not matter.
type EncryptionContext map[string]string

// ParseEncryptionContext reads the JSON text of an EncryptionContext parameter: a
// JSON object whose values are all strings. An empty string is an empty context.
func ParseEncryptionContext(name, text string) (EncryptionContext, error) {
	if text == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(text) > MaxEncryptionContextLen {
		return nil, invalidParam(name, "it is longer than %d characters", MaxEncryptionContextLen)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, invalidParam(name, "it must be a JSON object of string values")
	}
	ctx := EncryptionContext{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, invalidParam(name, "it must be a JSON object of string values")
		}
		k, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return nil, invalidParam(name, "it must be a JSON object of string values")
		}
		v, ok := vt.(string)
		if !ok {
			return nil, invalidParam(name, "the value of %q must be a string", k)
		}
		if _, dup := ctx[k]; dup {
			return nil, invalidParam(name, "the key %q appears twice", k)
		}
		ctx[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, invalidParam(name, "it must be a JSON object of string values")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidParam(name, "it has trailing data after the JSON object")
	}
	return ctx, nil
}

// appendCanonical appends the context's canonical encoding to b: the number of
// pairs, then each pair in key order as length-prefixed key and value (big-endian
// uint32 lengths). Lengths make {"ab":"c"} and {"a":"bc"} encode differently.
func (c EncryptionContext) appendCanonical(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
	if len(c) == 0 {
		return b
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		v := c[k]
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b
}

// Merge returns a new context with the pairs of c and then of extra (extra wins).
func (c EncryptionContext) Merge(extra EncryptionContext) EncryptionContext {
	out := make(EncryptionContext, len(c)+len(extra))
	for k, v := range c {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
