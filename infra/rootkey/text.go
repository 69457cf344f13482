package rootkey

import (
	"bytes"
	"encoding/base64"
	"errors"

	"github.com/kmsless/kmsless/core"
)

// errNot32Bytes never repeats what it was given: that may be the key itself.
var errNot32Bytes = errors.New("the root key must be the base64 encoding of 32 bytes")

// FromText makes the root key from its base64 text, surrounding white space
// allowed. The caller zeroes text; FromText zeroes its own copy of the key.
func FromText(text []byte) (*core.RootKey, error) {
	text = bytes.TrimSpace(text)
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	defer clear(raw)
	n, err := base64.StdEncoding.Decode(raw, text)
	if err != nil || n != core.KeyMaterialSize {
		return nil, errNot32Bytes
	}
	return core.NewRootKey(raw[:n])
}
