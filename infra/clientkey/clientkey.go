// Package clientkey makes client keys for the KMS instance API in the forms
// Alibaba hands them out: for the principals file (the operator's command)
// and for CreateClientKey's answer.
package clientkey

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/kmsless/kmsless/core"
)

// Key is a client key made for the KMS instance API, in the forms
// Alibaba hands one out: the file its SDK reads (ClientKeyFile, or its text
// as ClientKeyContent) with the file's password, and the entry of the
// principals file that lets the key sign for a principal.
type Key struct {
	ID string
	// File is Alibaba's client key file: JSON naming the KeyId, with the
	// private key and a self-signed certificate of it in PKCS #12
	// (PrivateKeyData, base64) under Password.
	File     []byte
	Password string
	// Entry is the key's clientKeys entry, in YAML, for a principal.
	Entry     string
	PublicKey *rsa.PublicKey
}

// Make makes an RSA-2048 client key named id. Its PKCS #12 file is
// encrypted under a password of 128 random bits (see PKCS12).
func Make(id string) (Key, error) {
	if !core.ValidCredentialID(id) {
		return Key{}, fmt.Errorf("the client key ID %q may hold only letters, digits, '.', '_' and '-'", id)
	}
	key, err := rsa.GenerateKey(rand.Reader, core.MinClientKeyBits)
	if err != nil {
		return Key{}, err
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, err
	}
	password := base64.RawURLEncoding.EncodeToString(secret)
	now := time.Now()
	p12, err := PKCS12(key, id, password, now.Add(-time.Hour), now.AddDate(10, 0, 0))
	if err != nil {
		return Key{}, err
	}
	file, err := json.MarshalIndent(struct{ KeyId, PrivateKeyData string }{id, base64.StdEncoding.EncodeToString(p12)}, "", "  ")
	if err != nil {
		return Key{}, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return Key{}, err
	}
	public := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})))
	entry := "- id: " + id + "\n  publicKey: |\n    " + strings.ReplaceAll(public, "\n", "\n    ") + "\n"
	return Key{ID: id, File: file, Password: password, Entry: entry, PublicKey: &key.PublicKey}, nil
}

// PKCS12 is a client key's private key in the form Alibaba hands it out
// (a client key file's PrivateKeyData, before base64): PKCS #12 holding the
// key and a self-signed certificate of it named id, valid from notBefore
// to notAfter. It is encrypted as the SDK's reader
// (golang.org/x/crypto/pkcs12) requires, with 3DES under a key derived by
// SHA-1 from password: weak against a guessable password.
func PKCS12(key *rsa.PrivateKey, id, password string, notBefore, notAfter time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: id},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return pkcs12.LegacyDES.Encode(key, cert, nil, password)
}
