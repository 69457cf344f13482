// Package floor is the least an HTTP data-key service can do, for the load
// generator to measure the real server against: a bare net/http handler that
// draws a 32-byte key, seals it with AES-GCM and answers the sealed bytes as
// JSON, whatever the request says.
package floor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

// Handler answers every request with a freshly drawn key sealed under a random
// key of its own.
func Handler() http.Handler {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf [44]byte
		if _, err := rand.Read(buf[:]); err != nil {
			http.Error(w, "no randomness", http.StatusInternalServerError)
			return
		}
		sealed := aead.Seal(nil, buf[32:], buf[:32], nil)
		body := make([]byte, 0, 24+base64.StdEncoding.EncodedLen(len(sealed)))
		body = append(body, `{"CiphertextBlob":"`...)
		body = base64.StdEncoding.AppendEncode(body, sealed)
		body = append(body, "\"}\n"...)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_, _ = w.Write(body)
	})
}
