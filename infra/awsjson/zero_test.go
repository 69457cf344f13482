package awsjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/internal/zerotest"
)

// dataKeySize is the size of the data keys asked for here: no other read of
// the service's randomness is of this size, so zerotest.Rand keeps exactly
// the buffers data keys were made in.
const dataKeySize = 48

// zeroEnv is an env whose service draws from r, with a key made directly in
// the service, so that every request the test sends is its own.
func zeroEnv(t *testing.T, r *zerotest.Rand, configure ...func(*setup)) (*env, string) {
	t.Helper()
	e := newEnv(t, append(configure, func(s *setup) { s.rand = r })...)
	admin := &core.Principal{Name: "admin", AccessKeyID: adminID, Policy: core.FullAccess()}
	k, err := e.kms.Handle(bg, &core.Request{ID: "create", Action: "CreateKey", Params: core.Params{}, Caller: admin})
	if err != nil {
		t.Fatal(err)
	}
	return e, k.(core.Key).ID
}

// serve sends a signed request straight to the handler, on this goroutine.
func (e *env) serve(op, body string) *zerotest.Writer {
	e.t.Helper()
	w := &zerotest.Writer{}
	e.srv.Config.Handler.ServeHTTP(w, e.signed(op, body, adminID, adminSecret, time.Now()))
	return w
}

func TestPlaintextIsZeroedOnceTheAnswerIsWritten(t *testing.T) {
	r := &zerotest.Rand{N: dataKeySize}
	e, id := zeroEnv(t, r)
	w := e.serve("GenerateDataKey", `{"KeyId":"`+id+`","NumberOfBytes":48}`)
	var dk struct{ CiphertextBlob, Plaintext []byte }
	if err := json.Unmarshal(w.Body(), &dk); w.Status != http.StatusOK || err != nil || len(dk.Plaintext) != dataKeySize {
		t.Fatalf("GenerateDataKey: %d %s", w.Status, w.Body())
	}
	if !zerotest.Zeroed(r.Kept()) {
		t.Error("GenerateDataKey: the data key's buffer was not zeroed")
	}
	if !zerotest.Zeroed(w.Kept()) {
		t.Error("GenerateDataKey: the response body, the data key in base64, was not zeroed once written")
	}
	blob, _ := json.Marshal(map[string][]byte{"CiphertextBlob": dk.CiphertextBlob})
	w = e.serve("Decrypt", string(blob))
	var opened struct{ Plaintext []byte }
	if err := json.Unmarshal(w.Body(), &opened); w.Status != http.StatusOK || err != nil || !bytes.Equal(opened.Plaintext, dk.Plaintext) {
		t.Fatalf("Decrypt: %d %s", w.Status, w.Body())
	}
	if !zerotest.Zeroed(w.Kept()) {
		t.Error("Decrypt: the response body, the data key in base64, was not zeroed once written")
	}
}

// A data key pair's private key leaves in the response body alone, which is
// zeroed once written, as a data key's is.
func TestPrivateKeyIsZeroedOnceTheAnswerIsWritten(t *testing.T) {
	e, id := zeroEnv(t, &zerotest.Rand{N: dataKeySize})
	w := e.serve("GenerateDataKeyPair", `{"KeyId":"`+id+`","KeyPairSpec":"ECC_NIST_P256"}`)
	var pair struct{ PrivateKeyPlaintext []byte }
	if err := json.Unmarshal(w.Body(), &pair); w.Status != http.StatusOK || err != nil || len(pair.PrivateKeyPlaintext) == 0 {
		t.Fatalf("GenerateDataKeyPair: %d %s", w.Status, w.Body())
	}
	if !zerotest.Zeroed(w.Kept()) {
		t.Error("the response body, the private key in base64, was not zeroed once written")
	}
}

type brokenSink struct{}

func (brokenSink) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// A data key made but withheld, because its audit record could not be
// written, is zeroed all the same.
func TestWithheldDataKeyIsZeroed(t *testing.T) {
	r := &zerotest.Rand{N: dataKeySize}
	ed := edge.New(nil)
	e, id := zeroEnv(t, r, func(s *setup) { s.edge = ed })
	ed.Record(audit.New(brokenSink{}, bytes.Repeat([]byte{1}, 32)), e.kms, nil)
	w := e.serve("GenerateDataKey", `{"KeyId":"`+id+`","NumberOfBytes":48}`)
	if w.Status != http.StatusServiceUnavailable {
		t.Fatalf("GenerateDataKey with no audit trail: %d %s, want 503", w.Status, w.Body())
	}
	if len(r.Kept()) != 1 || !zerotest.Zeroed(r.Kept()) {
		t.Errorf("the withheld data key's buffer was not zeroed (%d made)", len(r.Kept()))
	}
}
