package platform

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// The api function answers the KMS instance API beside the other two,
// through the HTTP triggers of both clouds, its protocol buffer bodies
// carried in base64: a GenerateRandom signed by a principal's client key.
func TestAPIServesTheInstanceAPIThroughHTTPTriggers(t *testing.T) {
	file, key := clientKeyPrincipal(t)
	fn := API(wire(t, map[string]string{"KMS_PRINCIPALS_FILE": file}))

	body := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 24)
	sum := sha256.Sum256(body)
	headers := map[string]string{"host": "kms.example.com", "content-type": "application/x-protobuf",
		"date": time.Now().UTC().Format(http.TimeFormat), "x-kms-apiversion": "dkms-gcs-0.2", "x-kms-apiname": "GenerateRandom",
		"x-kms-signaturemethod": "RSA_PKCS1_SHA_256", "x-kms-acccesskeyid": "KAAP.app", "content-sha256": strings.ToUpper(hex.EncodeToString(sum[:]))}
	sts := "POST\n" + headers["content-sha256"] + "\n" + headers["content-type"] + "\n" + headers["date"] + "\n"
	var names []string
	for k := range headers {
		if strings.HasPrefix(k, "x-kms-") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		sts += k + ":" + headers[k] + "\n"
	}
	digest := sha256.Sum256([]byte(sts + "/"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	headers["authorization"] = "Bearer " + base64.StdEncoding.EncodeToString(sig)
	for _, kind := range []string{"url", "fc"} {
		ev := map[string]any{"version": "2.0", "rawPath": "/", "headers": headers, "body": base64.StdEncoding.EncodeToString(body), "isBase64Encoded": true,
			"requestContext": map[string]any{"domainName": "kms.example.com", "http": map[string]any{"method": "POST", "path": "/", "sourceIp": "203.0.113.10"}}}
		if kind == "fc" {
			ev["version"], ev["queryParameters"] = "v1", map[string]string{}
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out, err := fn.Handler(context.Background(), raw)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		b, _ := json.Marshal(out)
		var resp struct {
			StatusCode      int    `json:"statusCode"`
			Body            string `json:"body"`
			IsBase64Encoded bool   `json:"isBase64Encoded"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatal(err)
		}
		answer, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || !resp.IsBase64Encoded {
			t.Fatalf("%s trigger: %d, base64 %v, %q", kind, resp.StatusCode, resp.IsBase64Encoded, resp.Body)
		}
		// GenerateRandomResponse: Random (1), 24 bytes, then RequestId (2).
		if num, typ, n := protowire.ConsumeTag(answer); num != 1 || typ != protowire.BytesType || n < 0 {
			t.Fatalf("%s trigger: the answer does not start with Random", kind)
		} else if random, m := protowire.ConsumeBytes(answer[n:]); m < 0 || len(random) != 24 {
			t.Errorf("%s trigger: %d random bytes", kind, len(random))
		}
	}
}

// clientKeyPrincipal writes a principals file of one principal, allowed
// GenerateRandom, with an RSA client key KAAP.app, and returns the file and
// the client key.
func clientKeyPrincipal(t *testing.T) (string, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "principals.json")
	principals, err := json.Marshal(map[string]any{"principals": []map[string]any{{"name": "app", "accessKeyId": "LTAI5tApp", "accessKeySecret": "app-secret",
		"policy":     map[string]any{"Statement": []map[string]any{{"Effect": "Allow", "Action": "kms:GenerateRandom", "Resource": "*"}}},
		"clientKeys": []map[string]string{{"id": "KAAP.app", "publicKey": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, principals, 0o600); err != nil {
		t.Fatal(err)
	}
	return file, key
}
