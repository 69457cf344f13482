package core

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"slices"
	"strconv"
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
	// encoding/json turns invalid UTF-8 and lone surrogate escapes into U+FFFD,
	// so {"a":"\ud800"} and {"a":"\ufffd"} would decode to one context and open
	// each other's blobs. Refuse them rather than guess.
	if !utf8.ValidString(text) || hasLoneSurrogate(text) {
		return nil, invalidParam(name, "it must be valid UTF-8 without lone surrogate escapes")
	}
	// A well-formed object of distinct string members, the context every
	// caller sends, decodes in one call. encoding/json keeps the last of two
	// equal names and takes null for "", so the members are counted apart and
	// anything else goes to the token reader below, whose refusal names the
	// fault; it costs three times as much.
	var ctx EncryptionContext
	if json.Unmarshal([]byte(text), &ctx) == nil && ctx != nil && stringMembers(text) == len(ctx) {
		return ctx, nil
	}
	return parseContextTokens(name, text)
}

// stringMembers counts the members of a JSON object that encoding/json has
// decoded into a map of strings, or returns -1 when one of them is null. Such
// an object holds nothing outside its strings but punctuation, space and
// null, so each ':' there is one member.
func stringMembers(text string) int {
	n := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case ':':
			n++
		case 'n':
			return -1
		}
	}
	return n
}

// parseContextTokens reads an EncryptionContext token by token, refusing
// the first fault with a message that names it.
func parseContextTokens(name, text string) (EncryptionContext, error) {
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
			return nil, invalidParam(name, "the value of %q must be a string", ClipText(k))
		}
		if _, dup := ctx[k]; dup {
			return nil, invalidParam(name, "the key %q appears twice", ClipText(k))
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

// hasLoneSurrogate reports whether JSON text holds a \u escape of a UTF-16
// surrogate that is not half of a high-low pair. It reads escapes in order, so
// an escaped backslash followed by "u" is not taken for an escape.
func hasLoneSurrogate(text string) bool {
	pendingHigh := false
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			if pendingHigh {
				return true
			}
			continue
		}
		if i+1 >= len(text) {
			return false // not JSON; the decoder refuses it
		}
		if text[i+1] != 'u' || i+6 > len(text) {
			if pendingHigh {
				return true
			}
			i++
			continue
		}
		r, err := strconv.ParseUint(text[i+2:i+6], 16, 16)
		if err != nil {
			return false // not JSON; the decoder refuses it
		}
		i += 5
		switch {
		case 0xD800 <= r && r < 0xDC00:
			if pendingHigh {
				return true
			}
			pendingHigh = true
		case 0xDC00 <= r && r < 0xE000:
			if !pendingHigh {
				return true
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return true
			}
		}
	}
	return pendingHigh
}

// appendCanonical appends the context's canonical encoding to b: the number of
// pairs, then each pair in key order as length-prefixed key and value (big-endian
// uint32 lengths). Lengths make {"ab":"c"} and {"a":"bc"} encode differently.
func (c EncryptionContext) appendCanonical(b []byte) []byte {
	size := 4
	keys := make([]string, 0, len(c))
	for k, v := range c {
		keys = append(keys, k)
		size += 8 + len(k) + len(v)
	}
	// One allocation at most, rather than one per doubling of the AAD.
	b = slices.Grow(b, size)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
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
