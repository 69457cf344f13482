package rpc

import (
	"bytes"

	"github.com/kmsless/kmsless/core"
)

// EncodeCiphertextResponse exposes the hot path's hand-written encoder to the
// external tests, which compare it with encoding/json.
func EncodeCiphertextResponse(r *core.CiphertextResponse) []byte {
	var buf bytes.Buffer
	appendCiphertextResponse(&buf, r)
	return buf.Bytes()
}
