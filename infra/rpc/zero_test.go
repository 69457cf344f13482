package rpc_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"testing"

	"github.com/kmsless/kmsless/internal/zerotest"
)

// serve sends a signed GET straight to the handler, on this goroutine.
func (e *env) serve(params url.Values) *zerotest.Writer {
	e.t.Helper()
	p := signV1(http.MethodGet, params, adminID, adminSecret)
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/?"+p.Encode(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	w := &zerotest.Writer{}
	e.srv.Config.Handler.ServeHTTP(w, req)
	return w
}

// The encoded answer of GenerateDataKey and Decrypt holds the plaintext in
// base64, in a buffer the handler keeps for the next answer: it is zeroed
// once written, in either format.
func TestPlaintextIsZeroedOnceTheAnswerIsWritten(t *testing.T) {
	e := newEnv(t)
	id := e.createKey()
	for _, format := range []string{"JSON", "XML"} {
		w := e.serve(action("GenerateDataKey", "KeyId", id, "Format", format))
		var dk struct{ CiphertextBlob, Plaintext string }
		decode := json.Unmarshal
		if format == "XML" {
			decode = xml.Unmarshal
		}
		if err := decode(w.Body(), &dk); w.Status != http.StatusOK || err != nil || dk.Plaintext == "" {
			t.Fatalf("%s GenerateDataKey: %d %v %s", format, w.Status, err, w.Body())
		}
		if !zerotest.Zeroed(w.Kept()) {
			t.Errorf("%s GenerateDataKey: the answer, the data key in base64, was not zeroed once written", format)
		}
		w = e.serve(action("Decrypt", "CiphertextBlob", dk.CiphertextBlob, "Format", format))
		var opened struct{ Plaintext string }
		if err := decode(w.Body(), &opened); w.Status != http.StatusOK || err != nil || opened.Plaintext != dk.Plaintext {
			t.Fatalf("%s Decrypt: %d %v %s", format, w.Status, err, w.Body())
		}
		if !zerotest.Zeroed(w.Kept()) {
			t.Errorf("%s Decrypt: the answer, the data key in base64, was not zeroed once written", format)
		}
	}
}
