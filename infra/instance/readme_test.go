package instance_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alibabacloud-go/tea/tea"
	dkmsopenapi "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/openapi"
	dkms "github.com/aliyun/alibabacloud-dkms-gcs-go-sdk/sdk"

	"github.com/kmsless/kmsless/infra/clientkey"
	"github.com/kmsless/kmsless/infra/principals"
)

// The README's way to a client key works as printed: its two openssl
// commands make a key the SDK signs with, its principals entry takes the
// public key they print, and the SDK, configured as the README says,
// is answered as that principal.
func TestReadmeClientKeyWorks(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)[strings.Index(string(readme), "### Alibaba's KMS instance API"):]
	dir := t.TempDir()
	var outputs []string
	for _, cmd := range regexp.MustCompile("`(openssl [^`]+)`").FindAllStringSubmatch(section, 2) {
		// A code span may break across lines; Markdown shows the break as a space.
		c := exec.Command("sh", "-c", strings.Join(strings.Fields(cmd[1]), " "))
		c.Dir = dir
		out, err := c.Output()
		if err != nil {
			t.Fatalf("%s: %v", cmd[1], err)
		}
		outputs = append(outputs, string(out))
	}
	if len(outputs) != 2 {
		t.Fatalf("the README gives %d openssl commands, want 2", len(outputs))
	}
	privatePEM, err := os.ReadFile(filepath.Join(dir, "client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(privatePEM)
	if block == nil {
		t.Fatal("client-key.pem holds no PEM")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("the key is not in the PKCS #1 form the SDK reads: %v", err)
	}

	// The README's principals entry, with the public key printed.
	m := regexp.MustCompile("(?s)```yaml\n(principals:\n.*?clientKeys:.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("the section has no principals example")
	}
	indent := "          "
	public := indent + strings.ReplaceAll(strings.TrimSpace(outputs[1]), "\n", "\n"+indent)
	file := regexp.MustCompile(`(?s) {10}-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----`).ReplaceAllString(m[1], public)
	file = strings.ReplaceAll(file, `"…"`, `"orders-secret"`)
	d, err := principals.Parse([]byte(file))
	if err != nil {
		t.Fatalf("the README's principals entry: %v\n%s", err, file)
	}
	p, pub := d.LookupClientKey("KAAP.orders-app-1")
	if p == nil || !pub.Equal(&key.PublicKey) {
		t.Fatal("the entry does not hold the key openssl printed")
	}

	e := newEnv(t, func(s *setup) { s.private = key })
	c, err := dkms.NewClient(&dkmsopenapi.Config{AccessKeyId: tea.String(appKeyID), PrivateKey: tea.String(string(privatePEM)),
		Endpoint: tea.String(strings.TrimPrefix(e.srv.URL, "http://")), Protocol: tea.String("http")})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.GenerateRandomWithOptions(&dkms.GenerateRandomRequest{Length: tea.Int32(16)}, noRetry); err != nil || len(r.Random) != 16 {
		t.Fatalf("GenerateRandom signed with the README's key: %v", err)
	}
}

// A client key made by clientkey.Make (kmsless client-key) is
// read by the SDK from Alibaba's file form, as ClientKeyContent with its
// password, and signs for the principal whose entry it gives; with another
// password the SDK reads nothing.
func TestMadeClientKeyFileSignsForTheSDK(t *testing.T) {
	k, err := clientkey.Make(appKeyID)
	if err != nil {
		t.Fatal(err)
	}
	entry := "principals:\n  - name: app\n    accessKeyId: LTAIapp\n    accessKeySecret: s\n    policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}\n    clientKeys:\n      " +
		strings.ReplaceAll(strings.TrimSpace(k.Entry), "\n", "\n      ") + "\n"
	d, err := principals.Parse([]byte(entry))
	if err != nil {
		t.Fatalf("the entry: %v\n%s", err, entry)
	}
	if _, pub := d.LookupClientKey(appKeyID); pub == nil || !pub.Equal(k.PublicKey) {
		t.Fatal("the entry does not hold the key made")
	}
	e := newEnv(t, func(s *setup) { s.public = k.PublicKey })
	client := func(password string) (*dkms.Client, error) {
		return dkms.NewClient(&dkmsopenapi.Config{ClientKeyContent: tea.String(string(k.File)), Password: tea.String(password),
			Endpoint: tea.String(strings.TrimPrefix(e.srv.URL, "http://")), Protocol: tea.String("http")})
	}
	c, err := client(k.Password)
	if err != nil {
		t.Fatalf("the SDK reads the file: %v", err)
	}
	if r, err := c.GenerateRandomWithOptions(&dkms.GenerateRandomRequest{Length: tea.Int32(16)}, noRetry); err != nil || len(r.Random) != 16 {
		t.Fatalf("GenerateRandom signed with the made key: %v", err)
	}
	if _, err := client(k.Password + "x"); err == nil {
		t.Error("the SDK read the file under another password")
	}
}
