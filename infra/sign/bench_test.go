package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// BenchmarkVerifyACS3 verifies one GenerateDataKeyWithoutPlaintext request as
// the Go SDK sends it. x-crypto-floor is its cost over the floor measured in the
// same run: the hashing no verifier can skip (SHA-256 of the body and of a
// canonical request of the same length, one HMAC-SHA256 of the string to sign).
func BenchmarkVerifyACS3(b *testing.B) {
	s := sdkRequest{}.acs3(b)
	dir := testDir(b)
	a, _ := parseAuthorization(s.r.Header.Get("Authorization"))
	signed, _ := splitSignedHeaders(a.SignedHeaders)
	creq, err := canonicalRequest(nil, s.r, signed, s.r.Header.Get("x-acs-content-sha256"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(s.r, s.params, s.body, dir, t0, 15*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)

	key := []byte(testSecret)
	start := time.Now()
	for range b.N {
		bodySum := sha256.Sum256(s.body)
		creqSum := sha256.Sum256(creq)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(acs3 + "\n"))
		mac.Write([]byte(hex.EncodeToString(creqSum[:])))
		_ = mac.Sum(bodySum[:0])
	}
	floor := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	b.ReportMetric(floor, "floor-ns/op")
	b.ReportMetric(perOp/floor, "x-crypto-floor")
}

// BenchmarkVerifyV1 is the same request signed with SignatureVersion 1.0.
func BenchmarkVerifyV1(b *testing.B) {
	s := sdkRequest{}.v1(b)
	dir := testDir(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(s.r, s.params, s.body, dir, t0, 15*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
