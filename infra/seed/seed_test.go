package seed

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

var material = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

func TestParseReadsEveryField(t *testing.T) {
	keys, err := Parse([]byte(`
keys:
  - keyId: key-a
    description: orders
    state: Disabled
    enableAutomaticRotation: true
    aliases: [alias/a]
    tags: {team: payments}
    deletionProtection: true
    deletionProtectionDescription: kept
    policy: |
      {"Version": "1", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]}
    material: ` + material + `
  - keyId: key-b
    versions:
      - {versionId: v1, material: ` + material + `}
      - {material: ` + material + `}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := keys[0], keys[1]
	if a.ID != "key-a" || a.Description != "orders" || a.State != "Disabled" || a.RotationInterval != "365d" ||
		a.Aliases[0] != "alias/a" || a.Tags["team"] != "payments" || !a.DeletionProtection || a.DeletionProtectionDescription != "kept" ||
		!strings.HasPrefix(a.Policy, `{"Version": "1"`) ||
		len(a.Versions) != 1 || len(a.Versions[0].Material) != 32 || a.Versions[0].ID != "" {
		t.Errorf("key a = %+v", a)
	}
	if len(b.Versions) != 2 || b.Versions[0].ID != "v1" || b.Versions[1].ID != "" {
		t.Errorf("key b = %+v", b)
	}
}

func TestParseRefusesWhatItCannotRead(t *testing.T) {
	secret := "c2VjcmV0LW1hdGVyaWFsLW5vdC1iYXNlNjQ$$"
	cases := map[string]string{
		"misspelt field":                 "keys:\n  - keyId: key-a\n    descripton: x\n",
		"no key ID":                      "keys:\n  - description: x\n",
		"material not base64":            "keys:\n  - keyId: key-a\n    material: " + secret + "\n",
		"material and versions":          "keys:\n  - keyId: key-a\n    material: " + material + "\n    versions: [{material: " + material + "}]\n",
		"interval without rotation":      "keys:\n  - keyId: key-a\n    rotationInterval: 30d\n",
		"description without protection": "keys:\n  - keyId: key-a\n    deletionProtectionDescription: x\n",
		"empty file":                     "",
		"version without material":       "keys:\n  - keyId: key-a\n    versions: [{versionId: v1}]\n",
	}
	for name, text := range cases {
		_, err := Parse([]byte(text))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error echoes the material: %v", name, err)
		}
	}
}

// A value YAML cannot place may be key material written in the wrong field:
// the error names the line and the type, never the value.
func TestParseErrorsQuoteNoValue(t *testing.T) {
	for _, doc := range []string{
		"keys:\n  - keyId: k\n    enableAutomaticRotation: c2VjcmV0LWtleS1tYXRlcmlhbA==\n",
		"keys:\n  - keyId: k\n    versions: c2VjcmV0LWtleS1tYXRlcmlhbA==\n",
		"keys:\n  - c2VjcmV0LWtleS1tYXRlcmlhbA==\n",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || strings.Contains(err.Error(), "c2Vj") || !strings.Contains(err.Error(), "line") {
			t.Errorf("Parse(%q) = %v; want an error naming the line and no material", doc, err)
		}
	}
}
