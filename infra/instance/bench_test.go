package instance_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// BenchmarkServeGenerateDataKey is the handler's own cost of one signed
// GenerateDataKey, without the network, and its multiple of the one thing
// a client key's signature costs the server that no other API's does, an
// RSA-2048 verification, measured in the same run (x-rsa-verify).
func BenchmarkServeGenerateDataKey(b *testing.B) {
	e := newEnv(b)
	id := e.createKey("", "")
	body := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), id)
	body = protowire.AppendVarint(protowire.AppendTag(body, 3, protowire.VarintType), 32)
	signed := e.signed("GenerateDataKey", body, e.private, time.Now(), nil)
	h := e.srv.Config.Handler
	serve := func() {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = signed.Header
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	serve()
	verify := verifyCost(b, e.private)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(verify.Nanoseconds()), "x-rsa-verify")
}

// verifyCost is the time of one RSA-2048 PKCS #1 v1.5 verification.
func verifyCost(b *testing.B, key *rsa.PrivateKey) time.Duration {
	digest := sha256.Sum256([]byte("x"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	start := time.Now()
	for range n {
		if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
			b.Fatal("no verification")
		}
	}
	return time.Since(start) / n
}
