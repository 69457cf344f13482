package core

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
)

// streamByte is the first byte of SM2PKE's key stream for a 1-byte
// plaintext sealed with k to the point (x, y).
func streamByte(x, y *big.Int, k []byte) byte {
	x2, y2 := sm2.P256().ScalarMult(x, y, k)
	return sm3.Kdf(append(x2.FillBytes(make([]byte, 32)), y2.FillBytes(make([]byte, 32))...), 1)[0]
}

// scalar is the first of 65,536 scalars in [1, n-2], each a hash of label
// and a counter, that ok accepts.
func scalar(t *testing.T, label string, ok func(k []byte) bool) []byte {
	t.Helper()
	nMinus1 := new(big.Int).Sub(sm2.P256().Params().N, big.NewInt(1))
	for i := range 1 << 16 {
		k := sha256.Sum256(append([]byte(label), byte(i>>8), byte(i)))
		if new(big.Int).SetBytes(k[:]).Cmp(nMinus1) < 0 && ok(k[:]) {
			return k[:]
		}
	}
	t.Fatalf("no %s in 65,536 scalars", label)
	return nil
}

// After a k whose key stream is all zeros, sm2Encrypt draws another and
// seals with it alone: C1 is the second k's point, and the ciphertext opens
// under the judge's SM2 and gmsm's. gmsm v0.44.1's own Encrypt, drawing the
// same two, writes a ciphertext nothing opens; the day it opens, sm2Encrypt
// can give way to it.
func TestSM2EncryptDrawsAgainAfterAZeroKeyStream(t *testing.T) {
	judge, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := &ecdsa.PublicKey{Curve: sm2.P256(), X: judge.X, Y: judge.Y}
	priv, err := sm2.NewPrivateKey(judge.D.FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	// k1's key stream is a zero byte, as one k in 256's is. k2's is not,
	// nor is that of k2 times k1's point, the point gmsm's Encrypt seals
	// its second draw to (it keeps the first's product in place of the
	// key): two draws then suffice for both, whatever the judge's key.
	k1 := scalar(t, "a zero key stream", func(k []byte) bool { return streamByte(pub.X, pub.Y, k) == 0 })
	x1, y1 := sm2.P256().ScalarMult(pub.X, pub.Y, k1)
	k2 := scalar(t, "the second draw", func(k []byte) bool {
		return streamByte(pub.X, pub.Y, k) != 0 && streamByte(x1, y1, k) != 0
	})
	draws := func() *bytes.Reader { return bytes.NewReader(append(bytes.Clone(k1), k2...)) }
	pt := []byte{0x5a}

	blob, err := sm2Encrypt(draws(), pub, pt)
	if err != nil {
		t.Fatal(err)
	}
	var c sm2Ciphertext
	if rest, err := asn1.Unmarshal(blob, &c); err != nil || len(rest) > 0 {
		t.Fatalf("not GM/T 0009's ASN.1: %v", err)
	}
	if x, y := sm2.P256().ScalarBaseMult(k2); x.Cmp(c.X) != 0 || y.Cmp(c.Y) != 0 {
		t.Error("C1 is not the second draw's point")
	}
	if got, err := judge.DecryptAsn1(blob); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("the judge does not open it: %x, %v", got, err)
	}
	if got, err := sm2.Decrypt(priv, blob); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("gmsm does not open it: %x, %v", got, err)
	}

	theirs, err := sm2.EncryptASN1(draws(), pub, pt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm2.Decrypt(priv, theirs); err == nil {
		t.Error("gmsm's Encrypt now opens what it writes after a zero key stream: sm2Encrypt can give way to it")
	}
}

// sm2Encrypt refuses an empty plaintext and a point off SM2's curve, and
// a random source that gives out.
func TestSM2EncryptRefusesWhatItCannotSeal(t *testing.T) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm2Encrypt(rand.Reader, &k.PublicKey, nil); err == nil {
		t.Error("an empty plaintext sealed")
	}
	off := &ecdsa.PublicKey{Curve: sm2.P256(), X: k.X, Y: new(big.Int).Add(k.Y, big.NewInt(1))}
	if _, err := sm2Encrypt(rand.Reader, off, []byte("x")); err == nil {
		t.Error("sealed to a point off the curve")
	}
	if _, err := sm2Encrypt(bytes.NewReader(make([]byte, 16)), &k.PublicKey, []byte("x")); err == nil {
		t.Error("sealed with a random source that ran dry")
	}
}
