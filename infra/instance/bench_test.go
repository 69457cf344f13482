package instance_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/benchfloor"
)

// BenchmarkServeGenerateDataKey is the handler's own cost of one signed
// GenerateDataKey, without the network, and its multiple of the one thing
// a client key's signature costs the server that no other API's does, an
// RSA-2048 verification, timed in chunks alternated with the requests
// (x-rsa-verify), so that both see the same machine.
func BenchmarkServeGenerateDataKey(b *testing.B) {
	e := newEnv(b)
	benchServe(b, e, appKeyID, e.private)
}

// BenchmarkServeGenerateDataKeyManagedClientKey is the same signed by a
// client key made through the management API (CreateClientKey), whose
// principal and policy each instance keeps compiled from the store's
// records rather than from the principals file.
func BenchmarkServeGenerateDataKeyManagedClientKey(b *testing.B) {
	e := newEnv(b)
	for _, step := range []struct {
		action string
		p      core.Params
	}{
		{"CreateNetworkRule", core.Params{"Name": "test", "SourcePrivateIp": `["192.0.2.0/24"]`}},
		{"CreatePolicy", core.Params{"Name": "keys", "KmsInstance": "kst-bench", "Permissions": `["RbacPermission/Template/CryptoServiceKeyUser"]`,
			"Resources": `["key/*"]`, "AccessControlRules": `{"NetworkRules":["test"]}`}},
		{"CreateApplicationAccessPoint", core.Params{"Name": "bench", "Policies": `["keys"]`}},
	} {
		e.do(step.action, step.p)
	}
	made := e.do("CreateClientKey", core.Params{"AapName": "bench", "Password": "Bench-2026"}).(core.ClientKeyIssued)
	key, err := x509.ParsePKCS8PrivateKey(made.PrivateKey)
	if err != nil {
		b.Fatal(err)
	}
	benchServe(b, e, made.ID, key.(*rsa.PrivateKey))
}

// benchServe runs GenerateDataKey through the handler, signed by the client
// key id with key, from an address of 192.0.2.0/24 (httptest's).
func benchServe(b *testing.B, e *env, clientKey string, key *rsa.PrivateKey) {
	id := e.createKey("", "")
	body := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), id)
	body = protowire.AppendVarint(protowire.AppendTag(body, 3, protowire.VarintType), 32)
	signed := e.signedAs(clientKey, "GenerateDataKey", body, key, time.Now(), nil)
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
	verify := verifier(b, key)
	b.ReportAllocs()
	served, verified := benchfloor.Alternate(b, 64, serve, verify)
	b.ReportMetric(float64(served)/float64(verified), "x-rsa-verify")
}

// verifier returns one RSA-2048 PKCS #1 v1.5 verification of a signature
// made by key.
func verifier(b *testing.B, key *rsa.PrivateKey) func() {
	digest := sha256.Sum256([]byte("x"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	return func() {
		if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
			b.Fatal("no verification")
		}
	}
}
