package core

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/cloudflare/circl/sign"
)

// A key's two forms, circl's, which signs messages, and filippo.io/mldsa's,
// which signs μ, derive one public key of the same seed, for each parameter
// set: a signature of μ verifies under the public key GetPublicKey hands
// out, with circl.
func TestMLDSASeedsDeriveOneKeyInBothLibraries(t *testing.T) {
	for _, spec := range mldsaSpecs {
		for range 3 {
			seed := make([]byte, spec.scheme.SeedSize())
			_, _ = rand.Read(seed)
			k := newMLDSAPrivateKey(spec, seed)
			mu, err := k.mu()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := k.sk.Public().(sign.PublicKey).MarshalBinary()
			if got := mu.PublicKey().Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("%s: seed %x derives two public keys", spec.scheme.Name(), seed)
			}
		}
	}
}
