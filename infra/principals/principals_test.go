package principals

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

const secret = "pr0v1s10ner-S3CRET-value"

func write(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDesignExampleParses loads the principals file shown in DESIGN.md, kept
// verbatim in testdata.
func TestDesignExampleParses(t *testing.T) {
	d, err := Load("testdata/design-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := d.Lookup("LTAI5tProvisioner0001")
	if p == nil || d.Len() != 1 {
		t.Fatalf("directory of %d principals, provisioner %v", d.Len(), p)
	}
	if p.Name != "partition-provisioner" || p.QPS != 200 || p.Burst != 0 || p.Secret.Empty() {
		t.Errorf("provisioner = %s qps %d burst %d", p.Name, p.QPS, p.Burst)
	}
	if !p.Secret.Equal([]byte("…")) {
		t.Error("secret not read as written")
	}
	if !p.Policy.Allowed("kms:GenerateDataKeyWithoutPlaintext", "acs:kms:cn-hangzhou:1:alias/partitions") ||
		p.Policy.Allowed("kms:Decrypt", "acs:kms:cn-hangzhou:1:key/key-1") {
		t.Error("policy does not read as written")
	}
}

const yamlFile = `
principals:
  - name: partition-provisioner
    accessKeyId: LTAI5tProvisioner0001
    accessKeySecret: "` + secret + `"
    qps: 200
    burst: 400
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: kms:GenerateDataKeyWithoutPlaintext
          Resource: ["acs:kms:*:*:key/*", "acs:kms:*:*:alias/*"]
  - name: producer
    accessKeyId: LTAI5tProducer000001
    accessKeySecret: producer-secret
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: ["kms:Decrypt"]
          Resource: "*"
        - Effect: Deny
          Action: ["kms:Decrypt"]
          Resource: ["acs:kms:*:*:key/key-retired"]
`

const jsonFile = `  {"principals": [
  {"name": "partition-provisioner", "accessKeyId": "LTAI5tProvisioner0001", "accessKeySecret": "` + secret + `",
   "qps": 200, "burst": 400,
   "policy": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:GenerateDataKeyWithoutPlaintext",
     "Resource": ["acs:kms:*:*:key/*", "acs:kms:*:*:alias/*"]}]}},
  {"name": "producer", "accessKeyId": "LTAI5tProducer000001", "accessKeySecret": "producer-secret",
   "policy": {"Version": "1", "Statement": [
     {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"},
     {"Effect": "Deny", "Action": ["kms:Decrypt"], "Resource": ["acs:kms:*:*:key/key-retired"]}]}}
]}`

func TestYAMLAndJSONFilesReadTheSame(t *testing.T) {
	for name, text := range map[string]string{"principals.yaml": yamlFile, "principals.json": jsonFile} {
		t.Run(name, func(t *testing.T) {
			d, err := Load(write(t, name, text))
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != 2 {
				t.Fatalf("%d principals, want 2", d.Len())
			}
			prov, prod := d.Lookup("LTAI5tProvisioner0001"), d.Lookup("LTAI5tProducer000001")
			if prov == nil || prod == nil {
				t.Fatal("a principal is missing")
			}
			if prov.Name != "partition-provisioner" || prov.QPS != 200 || prov.Burst != 400 || !prov.Secret.Equal([]byte(secret)) {
				t.Errorf("provisioner = %s qps %d burst %d", prov.Name, prov.QPS, prov.Burst)
			}
			if prod.QPS != 0 || !prod.Secret.Equal([]byte("producer-secret")) {
				t.Errorf("producer qps %d or secret wrong", prod.QPS)
			}
			key := "acs:kms:cn-hangzhou:1:key/key-live"
			if !prov.Policy.Allowed("kms:GenerateDataKeyWithoutPlaintext", key) || prov.Policy.Allowed("kms:Decrypt", key) {
				t.Error("provisioner policy wrong")
			}
			if !prod.Policy.Allowed("kms:Decrypt", key) || prod.Policy.Allowed("kms:Decrypt", "acs:kms:cn-hangzhou:1:key/key-retired") {
				t.Error("producer policy wrong")
			}
		})
	}
}

func TestFilesThatAreRefused(t *testing.T) {
	one := func(fields string) string {
		return "principals:\n  - name: p\n    accessKeyId: LTAI5tOne\n    accessKeySecret: " + secret + "\n" + fields
	}
	policy := "    policy: {Version: \"1\", Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}\n"
	cases := map[string]string{
		"misspelt principal field": one(policy + "    qsp: 5\n"),
		"misspelt policy field":    one("    policy: {Version: \"1\", Statement: [{Efect: Allow, Action: \"kms:*\", Resource: \"*\"}]}\n"),
		"misspelt top level":       "principal:\n  - name: p\n",
		"unknown JSON field":       `{"principals":[{"name":"p","accessKeyId":"a","accessKeySecret":"` + secret + `","policy":{"Version":"1","Statement":[]},"role":"admin"}]}`,
		"duplicate AccessKeyId": "principals:\n" +
			"  - {name: a, accessKeyId: LTAI5tSame, accessKeySecret: " + secret + ", policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n" +
			"  - {name: b, accessKeyId: LTAI5tSame, accessKeySecret: other, policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n",
		"duplicate name": "principals:\n" +
			"  - {name: a, accessKeyId: LTAI5tOne, accessKeySecret: " + secret + ", policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n" +
			"  - {name: a, accessKeyId: LTAI5tTwo, accessKeySecret: other, policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n",
		"no secret":                  "principals:\n  - {name: p, accessKeyId: LTAI5tOne, policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n",
		"no policy":                  one(""),
		"unknown condition key":      one("    policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\", Condition: {Bool: {\"acs:SecureTransport\": \"true\"}}}]}\n"),
		"unknown condition operator": one("    policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\", Condition: {DateGreaterThan: {\"kms:EncryptionContext:a\": \"x\"}}}]}\n"),
		"condition value a map":      one("    policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\", Condition: {StringEquals: {\"kms:EncryptionContext:a\": {b: c}}}}]}\n"),
		"bad effect":                 one("    policy: {Statement: [{Effect: allow, Action: \"kms:*\", Resource: \"*\"}]}\n"),
		"negative qps":               one(policy + "    qps: -1\n"),
		"no principals":              "principals: []\n",
		"empty file":                 "",
		"malformed JSON":             `{"principals": [`,
		"action not strings":         one("    policy: {Statement: [{Effect: Allow, Action: {a: b}, Resource: \"*\"}]}\n"),
		"AccessKeyId with a colon":   "principals:\n  - {name: p, accessKeyId: \"rsa-keys-2048:LTAI5tOne\", accessKeySecret: " + secret + ", policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n",
		"AccessKeyId with a slash":   "principals:\n  - {name: p, accessKeyId: \"function/api\", accessKeySecret: " + secret + ", policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n",
		"AccessKeyId with a space":   "principals:\n  - {name: p, accessKeyId: \"LTAI 5tOne\", accessKeySecret: " + secret + ", policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}]}}\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := Parse([]byte(text))
			if err == nil {
				t.Fatalf("accepted, %d principals", d.Len())
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
}

func TestLoadNamesTheFileItCannotRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load of a missing file = %v", err)
	}
	bad := write(t, "bad.yaml", "principals: [}\n")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("Load of a malformed file = %v", err)
	}
}

// A parsed principal prints no secret, by any verb, as a value or a pointer:
// neither as text nor as the hex or decimal bytes verbs that skip String show.
func TestSecretsDoNotPrint(t *testing.T) {
	d, err := Parse([]byte(yamlFile))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Lookup("LTAI5tProvisioner0001")
	if p == nil || !p.Secret.Equal([]byte(secret)) {
		t.Fatal("the provisioner's secret was not parsed: this test would check nothing")
	}
	forms := []string{secret, fmt.Sprintf("%x", secret), fmt.Sprintf("%X", secret), strings.Trim(fmt.Sprint([]byte(secret)), "[]")}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q"} {
		for _, v := range []any{p, *p, p.Secret, []any{p}} {
			out := fmt.Sprintf(verb, v)
			for _, form := range forms {
				if strings.Contains(out, form) {
					t.Errorf("%s of %T printed the secret: %s", verb, v, out)
				}
			}
		}
	}
}

// The seed scenario's consumer: one policy lets it Decrypt only blobs whose
// context's PartitionId belongs to tenant A, however many partitions it has.
const tenantConsumer = `
principals:
  - name: tenant-a-consumer
    accessKeyId: LTAI5tTenantA0001
    accessKeySecret: tenant-a-secret
    policy:
      Version: "1"
      Statement:
        - Effect: Allow
          Action: [kms:Decrypt, kms:GetPartitionDataKey]
          Resource: "*"
          Condition:
            StringLike:
              kms:EncryptionContext:PartitionId: tenant-a-*
        - Effect: Deny
          Action: kms:*
          Resource: "*"
          Condition:
            NotIpAddress: {acs:SourceIp: [10.0.0.0/8, "192.168.1.1"]}
            Bool: {kms:EncryptionContext:Audited: false}
`

func TestConditionsLoadFromTheFile(t *testing.T) {
	d, err := Parse([]byte(tenantConsumer))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Lookup("LTAI5tTenantA0001").Policy
	key := "acs:kms:cn-hangzhou:1:key/key-a"
	facts := func(partition, ip string) *core.Facts {
		return &core.Facts{Context: core.EncryptionContext{"PartitionId": partition}, SourceIP: ip}
	}
	if !p.AllowedWith("kms:Decrypt", facts("tenant-a-7", "10.1.2.3"), key) {
		t.Error("tenant A's partition refused")
	}
	if p.AllowedWith("kms:Decrypt", facts("tenant-b-7", "10.1.2.3"), key) {
		t.Error("tenant B's partition allowed")
	}
	audited := &core.Facts{Context: core.EncryptionContext{"PartitionId": "tenant-a-7", "Audited": "false"}, SourceIP: "172.16.0.1"}
	if p.AllowedWith("kms:Decrypt", audited, key) {
		t.Error("the conditional Deny (a YAML boolean value) was not applied")
	}
}

// A value YAML cannot place may be a secret written in the wrong field or at
// the wrong indentation: the error names the line and the type, never the
// value.
func TestParseErrorsQuoteNoSecret(t *testing.T) {
	for _, doc := range []string{
		"principals:\n  - name: app\n    accessKeyId: LTAI5tApp\n    qps: Zq9secretSecretSecret\n",
		"principals:\n  - Zq9secretSecretSecret\n",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || strings.Contains(err.Error(), "Zq9se") || !strings.Contains(err.Error(), "line") {
			t.Errorf("Parse(%q) = %v; want an error naming the line and no secret", doc, err)
		}
	}
	// encoding/json quoted a number it could not place, and its v2 quotes
	// strings too: the error says where, by the members' names, and no more.
	for _, doc := range []string{
		`{"principals":[{"name":"app","accessKeyId":"LTAI5tApp","qps":27182818284590452353}]}`,
		`{"principals":[{"name":"app","accessKeyId":"LTAI5tApp","accessKeySecret":27182818284590452353}]}`,
		`{"principals":[{"name":"app","accessKeyId":"LTAI5tApp","burst":"Zq9secretSecretSecret"}]}`,
		`{"principals":[{"name":"app","accessKeyId":"LTAI5tApp","policy":{"Statement":[{"Action":{"a":"Zq9secretSecretSecret"}}]}}]}`,
	} {
		_, err := Parse([]byte(doc))
		if err == nil || strings.Contains(err.Error(), "Zq9se") || strings.Contains(err.Error(), "27182") || !strings.Contains(err.Error(), "/principals/0/") {
			t.Errorf("Parse(%q) = %v; want an error naming the member and no secret", doc, err)
		}
	}
}

// A JSON file reads one way, as YAML does: members by their exact names, each
// named once, and one value with nothing after it. encoding/json matched
// names in any case, kept the last of a member named twice and stopped after
// the first value, so a file could show a reader one accessKeyId, secret or
// statement and give the service another.
func TestJSONFileReadsOneWay(t *testing.T) {
	entry := func(members string) string {
		return `{"name":"p","accessKeyId":"LTAI5tOne","accessKeySecret":"` + secret + `",` + members +
			`"policy":{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}}`
	}
	if _, err := Parse([]byte(`{"principals":[` + entry("") + `]}`)); err != nil {
		t.Fatalf("the file itself is refused: %v", err)
	}
	for name, doc := range map[string]string{
		"member named twice":      `{"principals":[` + entry(`"accessKeyId":"LTAI5tTwo",`) + `]}`,
		"two spellings":           `{"principals":[` + entry(`"AccessKeyId":"LTAI5tTwo",`) + `]}`,
		"another case":            `{"Principals":[` + entry("") + `]}`,
		"statement member case":   `{"principals":[` + strings.Replace(entry(""), `"Effect":"Allow"`, `"effect":"Allow"`, 1) + `]}`,
		"statement named twice":   `{"principals":[` + strings.Replace(entry(""), `"Effect":"Allow"`, `"Effect":"Allow","Effect":"Deny"`, 1) + `]}`,
		"a second value":          `{"principals":[` + entry("") + `]} {"principals":[]}`,
		"invalid UTF-8":           `{"principals":[` + entry(`"burst":1,`) + "]}\xff",
		"invalid UTF-8 in a name": `{"principals":[` + strings.Replace(entry(""), `"p"`, "\"p\xff\"", 1) + `]}`,
	} {
		if d, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted, %d principals", name, d.Len())
		}
	}
}

// A YAML file is one document. yaml.v3 reads the first and stops, so the
// principals of a second went unread, where a reader of the file sees them.
func TestYAMLFileIsOneDocument(t *testing.T) {
	for _, doc := range []string{yamlFile + "---\n" + tenantConsumer, yamlFile + "---\nprincipals: []\n", yamlFile + "---\n[\n"} {
		if d, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%q accepted, %d principals", doc, d.Len())
		}
	}
	if _, err := Parse([]byte("---\n" + yamlFile + "...\n")); err != nil {
		t.Errorf("one document between markers: %v", err)
	}
}

// A condition's values are text, compared as text: a value written as a
// number is the number as written. YAML read 010 as 8 and 1_000 as 1000, and
// JSON 1.0 as 1, so a Deny on the context value "010" denied "8" instead and
// let "010" through.
func TestConditionValuesAreTheTextWritten(t *testing.T) {
	values := []string{"010", "0x1F", "1_000", "1.0", "1e3", "12345678901234567890123", "2001-12-14", "true"}
	yamlDoc := "principals:\n  - name: p\n    accessKeyId: LTAI5tOne\n    accessKeySecret: s\n    policy:\n      Statement:\n" +
		"        - {Effect: Allow, Action: \"kms:*\", Resource: \"*\"}\n" +
		"        - Effect: Deny\n          Action: \"kms:*\"\n          Resource: \"*\"\n          Condition:\n            StringEquals:\n" +
		"              kms:EncryptionContext:t: [" + strings.Join(values, ", ") + "]\n" +
		"        - Effect: Deny\n          Action: \"kms:*\"\n          Resource: \"*\"\n          Condition:\n            Bool: {kms:EncryptionContext:b: True}\n"
	jsonDoc := `{"principals":[{"name":"p","accessKeyId":"LTAI5tOne","accessKeySecret":"s","policy":{"Statement":[` +
		`{"Effect":"Allow","Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:t":[1.0,1e3,12345678901234567890123,true]}}},` +
		`{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"Bool":{"kms:EncryptionContext:b":true}}}]}}]}`
	key := "acs:kms:cn-hangzhou:1:key/key-1"
	allowed := func(p *core.Policy, k, v string) bool {
		return p.AllowedWith("kms:Decrypt", &core.Facts{Context: core.EncryptionContext{k: v}}, key)
	}
	for name, tc := range map[string]struct {
		doc           string
		denied, other []string
	}{
		"YAML": {yamlDoc, values, []string{"8", "31", "1000", "1", "+Inf", "1.2345678901234568e+22"}},
		"JSON": {jsonDoc, []string{"1.0", "1e3", "12345678901234567890123", "true"}, []string{"1", "1000", "1.2345678901234568e+22"}},
	} {
		d, err := Parse([]byte(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := d.Lookup("LTAI5tOne").Policy
		for _, v := range tc.denied {
			if allowed(p, "t", v) {
				t.Errorf("%s: the context value %q, written in the Deny, is allowed", name, v)
			}
		}
		for _, v := range tc.other {
			if !allowed(p, "t", v) {
				t.Errorf("%s: the context value %q, not written in the Deny, is denied", name, v)
			}
		}
		if allowed(p, "b", "true") || !allowed(p, "b", "false") {
			t.Errorf("%s: a Bool condition's boolean is not read as true", name)
		}
	}
}

// yaml.v3 drops an empty list item and a member whose key is null without a
// word, so a file could list a principal, a statement or an action that was
// never read. Such a file is refused.
func TestYAMLFileDropsNothing(t *testing.T) {
	entry := func(policy string) string {
		return "{name: p, accessKeyId: LTAI5tOne, accessKeySecret: s, policy: " + policy + "}"
	}
	statement := "{Effect: Allow, Action: \"kms:*\", Resource: \"*\"}"
	for _, doc := range []string{
		"principals:\n  -\n  - " + entry("{Statement: ["+statement+"]}") + "\n",
		"principals:\n  - " + entry("{Statement: ["+statement+", ~]}") + "\n",
		"principals:\n  - " + entry("{Statement: [{Effect: Allow, Action: [kms:Decrypt, null], Resource: \"*\"}]}") + "\n",
		"principals:\n  - " + entry("{~: x, Statement: ["+statement+"]}") + "\n",
		"principals:\n  - " + entry("{Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\", null: x}]}") + "\n",
		"~: x\nprincipals:\n  - " + entry("{Statement: ["+statement+"]}") + "\n",
	} {
		if d, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%q accepted, %d principals", doc, d.Len())
		}
	}
	if _, err := Parse([]byte("principals:\n  - " + entry("{Statement: ["+statement+"]}") + "\n")); err != nil {
		t.Errorf("the file itself: %v", err)
	}
}

// clientKeyPEM is a PEM block of type typ around der.
func clientKeyPEM(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// A principal's client keys load from their PEM, as a PUBLIC KEY, an RSA
// PUBLIC KEY or a certificate; a key of another kind or under 2048 bits, a
// block of another type, and an ID used twice or as an AccessKeyId are
// refused.
func TestClientKeysLoad(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki := func(k any) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsaKey.PublicKey, rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	file := func(keys ...[2]string) []byte {
		f := map[string]any{"principals": []map[string]any{{"name": "app", "accessKeyId": "LTAI5tApp", "accessKeySecret": secret,
			"policy": map[string]any{"Statement": []map[string]any{{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}},
			"clientKeys": func() (out []map[string]string) {
				for _, k := range keys {
					out = append(out, map[string]string{"id": k[0], "publicKey": k[1]})
				}
				return out
			}()}}}
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	d, err := Parse(file([2]string{"KAAP.spki", clientKeyPEM("PUBLIC KEY", spki(&rsaKey.PublicKey))},
		[2]string{"KAAP.pkcs1", clientKeyPEM("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))},
		[2]string{"KAAP.cert", clientKeyPEM("CERTIFICATE", cert)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"KAAP.spki", "KAAP.pkcs1", "KAAP.cert"} {
		if p, k := d.LookupClientKey(id); p == nil || p.Name != "app" || !k.Equal(&rsaKey.PublicKey) {
			t.Errorf("client key %s: %v, %v", id, p, k)
		}
	}
	if p, _ := d.LookupClientKey("LTAI5tApp"); p != nil {
		t.Error("an AccessKeyId is taken for a client key")
	}
	for name, f := range map[string][]byte{
		"an EC key":           file([2]string{"KAAP.ec", clientKeyPEM("PUBLIC KEY", spki(&ecKey.PublicKey))}),
		"a 1024-bit key":      file([2]string{"KAAP.small", clientKeyPEM("PUBLIC KEY", spki(&small.PublicKey))}),
		"a private key block": file([2]string{"KAAP.priv", clientKeyPEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))}),
		"no PEM":              file([2]string{"KAAP.none", "MIIB"}),
		"an ID used twice":    file([2]string{"KAAP.a", clientKeyPEM("PUBLIC KEY", spki(&rsaKey.PublicKey))}, [2]string{"KAAP.a", clientKeyPEM("PUBLIC KEY", spki(&rsaKey.PublicKey))}),
		"an AccessKeyId":      file([2]string{"LTAI5tApp", clientKeyPEM("PUBLIC KEY", spki(&rsaKey.PublicKey))}),
		"an ID with a colon":  file([2]string{"KAAP:a", clientKeyPEM("PUBLIC KEY", spki(&rsaKey.PublicKey))}),
	} {
		if _, err := Parse(f); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error reveals a secret: %v", name, err)
		}
	}
}
