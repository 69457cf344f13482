package core

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// errKWP is every failure of an AES key wrap with padding to unwrap: one
// error, so that which check failed says nothing.
var errKWP = errors.New("the AES key wrap does not unwrap")

// kwpUnwrap opens AES key wrap with padding (RFC 5649, NIST SP 800-38F's
// KWP), as the RSA_AES_KEY_WRAP algorithms wrap imported material under
// an ephemeral AES key. Go's standard library has no key wrap. The
// integrity check (the alternative IV and the zero padding) is made in one
// constant-time pass.
func kwpUnwrap(kek, wrapped []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, errKWP
	}
	if len(wrapped) < 16 || len(wrapped)%8 != 0 {
		return nil, errKWP
	}
	n := len(wrapped)/8 - 1
	a := make([]byte, 8)
	r := make([]byte, 8*n)
	if n == 1 {
		// One block of data is a single AES block with its IV.
		var b [16]byte
		block.Decrypt(b[:], wrapped)
		copy(a, b[:8])
		copy(r, b[8:])
		clear(b[:])
	} else {
		// RFC 3394's unwrapping, run backwards over the six rounds.
		copy(a, wrapped[:8])
		copy(r, wrapped[8:])
		var b [16]byte
		for j := 5; j >= 0; j-- {
			for i := n; i >= 1; i-- {
				t := binary.BigEndian.Uint64(a) ^ uint64(n*j+i)
				binary.BigEndian.PutUint64(b[:8], t)
				copy(b[8:], r[8*(i-1):8*i])
				block.Decrypt(b[:], b[:])
				copy(a, b[:8])
				copy(r[8*(i-1):8*i], b[8:])
			}
		}
		clear(b[:])
	}
	// The alternative IV is A65959A6 and the message length; the length
	// leaves fewer than eight bytes of zero padding.
	mli := int(binary.BigEndian.Uint32(a[4:]))
	ok := subtle.ConstantTimeCompare(a[:4], []byte{0xa6, 0x59, 0x59, 0xa6})
	ok &= subtle.ConstantTimeLessOrEq(8*(n-1)+1, mli) & subtle.ConstantTimeLessOrEq(mli, 8*n)
	var pad byte
	for i := range r {
		// Every byte past the length must be zero.
		pad |= r[i] & byte(subtle.ConstantTimeLessOrEq(mli+1, i+1)*0xff)
	}
	ok &= subtle.ConstantTimeByteEq(pad, 0)
	if ok != 1 {
		clear(r)
		return nil, errKWP
	}
	return r[:mli], nil
}
