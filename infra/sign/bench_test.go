package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/kmsless/kmsless/internal/benchfloor"
)

// BenchmarkVerifyACS3 verifies one GenerateDataKeyWithoutPlaintext request as
// the Go SDK sends it. x-crypto-floor is its cost over the floor timed in
// chunks alternated with it: the hashing no verifier can skip (SHA-256 of the
// body and of a canonical request of the same length, one HMAC-SHA256 of the
// string to sign).
func BenchmarkVerifyACS3(b *testing.B) {
	s := sdkRequest{}.acs3(b)
	dir := testDir(b)
	a, _ := parseAuthorization(s.r.Header.Get("Authorization"))
	signed, _ := splitSignedHeaders(a.SignedHeaders)
	creq, err := canonicalRequest(nil, s.r, signed, s.r.Header.Get("x-acs-content-sha256"))
	if err != nil {
		b.Fatal(err)
	}
	key := []byte(testSecret)
	b.ReportAllocs()
	verified, floor := benchfloor.Alternate(b, 1024, func() {
		if _, err := Verify(s.r, s.params, s.body, dir, t0, 15*time.Minute); err != nil {
			b.Fatal(err)
		}
	}, func() {
		bodySum := sha256.Sum256(s.body)
		creqSum := sha256.Sum256(creq)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(acs3 + "\n"))
		mac.Write([]byte(hex.EncodeToString(creqSum[:])))
		_ = mac.Sum(bodySum[:0])
	})
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(verified)/float64(floor), "x-crypto-floor")
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
