// Package mldsamu computes, for tests, the representative μ of a message
// that ML-DSA signs (FIPS 204, with the empty context), as a client that
// signs through AWS's MessageType EXTERNAL_MU computes it outside the
// service: SHAKE256 of SHAKE256(public key, 64), the context's two header
// bytes (0, 0) and the message, 64 bytes. Go's SHA-3 computes it, so the
// tests judge the service's signing of μ by no code the service runs.
package mldsamu

import "crypto/sha3"

// Of is μ of msg under the raw ML-DSA public key pub.
func Of(pub, msg []byte) []byte {
	tr := sha3.SumSHAKE256(pub, 64)
	h := sha3.NewSHAKE256()
	h.Write(tr)
	h.Write([]byte{0, 0})
	h.Write(msg)
	mu := make([]byte, 64)
	h.Read(mu)
	return mu
}
