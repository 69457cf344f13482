package core

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// FuzzImportedPrivateKey: an imported private key is the caller's bytes,
// read partly by hand (secp256k1's, ML-DSA's and ML-KEM's PKCS #8). Whatever
// they are, reading them into a key of any spec never panics, and what it
// takes, written as this service writes it, reads back to the same bytes:
// one key, one encoding.
func FuzzImportedPrivateKey(f *testing.F) {
	c := &call{s: &Service{rand: rand.Reader}}
	for _, spec := range asymmetricKeySpecs {
		if spec.bits > 2048 {
			continue // one RSA seed is enough, and the larger keys are slow to make
		}
		var priv privateKeyOf
		var err error
		if spec.bits > 0 {
			priv, err = rsa.GenerateKey(rand.Reader, spec.bits) // newKeyPair would spend a bucket
		} else {
			priv, err = c.newKeyPair(&spec)
		}
		if err != nil {
			f.Fatal(err)
		}
		der, err := marshalPKCS8(priv)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
		f.Add(der[:len(der)-1])
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		for i := range asymmetricKeySpecs {
			spec := &asymmetricKeySpecs[i]
			canonical, err := importedPrivateKey(spec, der)
			if err != nil {
				continue
			}
			again, err := importedPrivateKey(spec, canonical)
			if err != nil || !bytes.Equal(again, canonical) {
				t.Fatalf("%s: the key taken does not read back as written: %v", spec.name, err)
			}
		}
	})
}

// FuzzKWPUnwrap: the key wrap of an import is the caller's bytes too; any
// of them, under any key, is refused or unwraps to fewer bytes than were
// sent, without a panic.
func FuzzKWPUnwrap(f *testing.F) {
	f.Add(make([]byte, 32), []byte{0xaf, 0xbe, 0xb0, 0xf0, 0x7d, 0xfb, 0xf5, 0x41, 0x92, 0x00, 0xf2, 0xcc, 0xb5, 0x0b, 0xb2, 0x4f})
	f.Add(make([]byte, 24), make([]byte, 40))
	f.Fuzz(func(t *testing.T, kek, wrapped []byte) {
		got, err := kwpUnwrap(kek, wrapped)
		if err == nil && len(got) > len(wrapped)-8 {
			t.Fatalf("unwrapped %d bytes from %d", len(got), len(wrapped))
		}
	})
}
