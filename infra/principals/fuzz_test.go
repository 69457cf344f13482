package principals

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"gopkg.in/yaml.v3"

	"github.com/kmsless/kmsless/internal/linear"
)

const fuzzPolicy = `{Version: "1", Statement: [{Effect: Allow, Action: "kms:*", Resource: "*"}]}`

// FuzzParseNeverQuotesSecrets: a principals document, YAML or JSON, with an
// access key secret written where the placeholder SECRET stands as the value
// of a member (accessKeySecret, or another by mistake: at any indentation, in
// any principal, quoted or not), is read or refused with an error, and the
// error never quotes the secret, not even the first characters YAML shows, or
// the number JSON shows, of a value it cannot place. Keys and tags are named,
// as they must be, and so are the values of name and Effect, which say which
// principal and statement an error is in.
func FuzzParseNeverQuotesSecrets(f *testing.F) {
	f.Add("principals:\n  - name: p\n    accessKeyId: LTAI5tOne\n    accessKeySecret: SECRET\n    policy: "+fuzzPolicy+"\n", "Zq9secretSecretSecret")
	f.Add("principals:\n  - name: p\n    accessKeyId: LTAI5tOne\n  accessKeySecret: SECRET\n", "Zq9secretSecretSecret")
	f.Add("principals:\n  - name: p\n    accessKeySecret: SECRET\n    accessKeySecret: SECRET\n", "Zq9secretSecretSecret")
	f.Add("principals:\n  - accessKeySecret: SECRET\n    qps: 1\n", "0x1F2E3D4C5B6A")
	f.Add("principals:\n  accessKeySecret: SECRET\n", "Zq9secretSecretSecret")
	f.Add("principals:\n  - {name: p, accessKeyId: a, accessKeySecret: SECRET, policy: [1]}\n", "Zq9secretSecretSecret")
	f.Add(`{"principals":[{"name":"p","accessKeyId":"a","accessKeySecret":SECRET,"policy":{"Statement":[]}}]}`, "271828182845904523536")
	f.Add(`{"principals":[{"name":"p","accessKeyId":"a","accessKeySecret":"SECRET","qps":"1"}]}`, "Zq9secretSecretSecret")
	f.Add(`{"principals":{"accessKeySecret":"SECRET"}}`, "Zq9secretSecretSecret")
	f.Add(`{"principals":[{"name":"p","accessKeyId":"a","accessKeySecret":"s","qps":SECRET}]}`, "271828182845904523536")
	f.Add("principals:\n  - name: app\n    accessKeyId: LTAI5tApp\n    qps: SECRET\n", "Zq9secretSecretSecret")
	f.Fuzz(func(t *testing.T, doc, secret string) {
		if len(secret) < 8 || strings.ContainsAny(secret, " \t\r\n:#'\"{}[],&*!|>%@`-?\\") || strings.Contains(doc, secret[:5]) {
			return // the secret must be a plain scalar the rest of the document does not spell
		}
		if !strings.Contains(doc, "SECRET") || strings.Contains(secretValue.ReplaceAllStringFunc(doc, func(m string) string {
			if named := secretValue.FindStringSubmatch(m)[1]; named == "name" || named == "Effect" {
				return m
			}
			return ""
		}), "SECRET") {
			return // the secret stands as a member's value, and nowhere else
		}
		_, err := Parse([]byte(strings.ReplaceAll(doc, "SECRET", secret)))
		if err == nil {
			return
		}
		msg := tagOrKey.ReplaceAllString(err.Error(), "")
		for i := 0; i+5 <= len(secret); i++ {
			if w := secret[i : i+5]; strings.Contains(msg, w) && !strings.Contains(doc, w) {
				t.Fatalf("secret %q: the error %q quotes %q of it", secret, err, w)
			}
		}
	})
}

// secretValue is SECRET written as the value of a member, in YAML or JSON,
// quoted or not; the member's name is the first group.
var secretValue = regexp.MustCompile(`(?:^|[\s{,"'])([A-Za-z]+)["']?[ \t]*:[ \t]*["']?SECRET`)

// tagOrKey matches the tags and keys the decoders name in their errors.
var tagOrKey = regexp.MustCompile("(?s)![^`]*? into |!\\S*|field .* not found|mapping key .* already defined|anchor '.*'|unknown field \".*\"|member name \".*\"|within \"[^\"]*\"")

// FuzzParseReadsWhatTheFileSays: a document Parse accepts says, read apart
// (JSON as one value with each member named once, by its exact name; YAML as
// one document, each item and key read), one principal for each entry, each
// found by its accessKeyId with the name, secret, qps and burst the entry
// gives, none sharing an accessKeyId or a name, and every member one the
// format has, by its exact name; and what Parse read, written out again as
// JSON and as YAML, reads back to the same principals and policies.
func FuzzParseReadsWhatTheFileSays(f *testing.F) {
	f.Add([]byte(yamlFile))
	f.Add([]byte(jsonFile))
	f.Add([]byte(tenantConsumer))
	for _, s := range []string{
		`{"principals":[{"name":"p","accessKeyId":"a","accessKeySecret":"s","policy":` + jsonPolicy + `}]}`,
		`{"principals":[{"name":"p","accessKeyId":"a","AccessKeyId":"b","accessKeySecret":"s","policy":` + jsonPolicy + `}]}`,
		`{"principals":[{"name":"p","accessKeyId":"a","accessKeySecret":"s","policy":` + jsonPolicy + `}]} {"principals":[]}`,
		`{"principals":[{"NAME":"p","accessKeyId":"a","accessKeySecret":"s","policy":` + jsonPolicy + `}]}`,
		"principals:\n  - {name: p, accessKeyId: a, accessKeySecret: s, qps: 3, policy: " + fuzzPolicy + "}\n---\nprincipals: []\n",
		"base: &b {name: p, accessKeyId: a, accessKeySecret: '007', policy: " + fuzzPolicy + "}\nprincipals:\n  - *b\n",
		"principals:\n  -\n  - {name: p, accessKeyId: a, accessKeySecret: s, policy: " + fuzzPolicy + "}\n",
		"principals:\n  - {name: p, accessKeyId: a, accessKeySecret: s, policy: {~: x, Statement: [~]}}\n",
		"principals:\n  - {name: p, accessKeyId: a, accessKeySecret: 0x10, burst: 0o7, policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\", Condition: {StringEquals: {kms:EncryptionContext:t: [007, 1.0, true]}}}]}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := Parse(doc)
		if err != nil {
			return
		}
		said, err := readApart(doc)
		if err != nil {
			t.Fatalf("accepted %q, which read apart %v", doc, err)
		}
		if d.Len() != len(said) {
			t.Fatalf("%q: %d principals, the document says %d", doc, d.Len(), len(said))
		}
		names := map[string]bool{}
		for _, s := range said {
			p := d.Lookup(s.id)
			if p == nil || p.Name != s.name || !p.Secret.Equal([]byte(s.secret)) || p.QPS != s.qps || p.Burst != s.burst || p.Policy == nil {
				t.Fatalf("%q: principal %q read as %+v, the document says %+v", doc, s.id, p, s)
			}
			if s.secret == "" || names[s.name] || !accessKeyID.MatchString(s.id) {
				t.Fatalf("%q: principal %+v accepted", doc, s)
			}
			names[s.name] = true
		}
		read, err := decode(doc)
		if err != nil {
			t.Fatalf("%q accepted, then not decoded: %v", doc, err)
		}
		asJSON, err := json.Marshal(read)
		if err != nil {
			t.Fatal(err)
		}
		asYAML, err := yaml.Marshal(read)
		if err != nil {
			t.Fatal(err)
		}
		for _, again := range [][]byte{asJSON, asYAML} {
			d2, err := Parse(again)
			if err != nil {
				t.Fatalf("%q read, written again as %q it is refused: %v", doc, again, err)
			}
			if d2.Len() != d.Len() {
				t.Fatalf("%q read as %d principals, written again as %q %d", doc, d.Len(), again, d2.Len())
			}
			for _, s := range said {
				p, p2 := d.Lookup(s.id), d2.Lookup(s.id)
				if p2 == nil || p2.Name != p.Name || !bytes.Equal(p2.Secret.Bytes(), p.Secret.Bytes()) || p2.QPS != p.QPS || p2.Burst != p.Burst ||
					!reflect.DeepEqual(p2.Policy, p.Policy) {
					t.Fatalf("%q: principal %q read as %+v, written again as %q read as %+v", doc, s.id, p, again, p2)
				}
			}
		}
	})
}

// accessKeyID is the text of an accessKeyId the directory takes.
var accessKeyID = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

const jsonPolicy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`

// said is a principal as its document says it.
type said struct {
	name, id, secret string
	qps, burst       int
}

// members are the members each level of a principals document may have.
var members = map[string][]string{
	"file":      {"principals"},
	"principal": {"name", "accessKeyId", "accessKeySecret", "qps", "burst", "policy"},
	"policy":    {"Version", "Statement"},
	"statement": {"Effect", "Action", "Resource", "Condition"},
}

// readApart reads the principals a document says, by rules of its own: JSON
// by encoding/json/v2's (one value, each member named once, valid UTF-8) and
// exact names; YAML as one document.
func readApart(doc []byte) ([]said, error) {
	var top any
	if t := bytes.TrimSpace(doc); len(t) > 0 && t[0] == '{' {
		if err := jsonv2.Unmarshal(doc, &top); err != nil {
			return nil, err
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(doc))
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return nil, err
		}
		if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("a second document (%v)", err)
		}
		if err := n.Decode(&top); err != nil {
			return nil, err
		}
		// Scalars as a string field reads them, not as YAML resolves them.
		var texts struct {
			Principals []struct {
				Name            string `yaml:"name"`
				AccessKeyID     string `yaml:"accessKeyId"`
				AccessKeySecret string `yaml:"accessKeySecret"`
			} `yaml:"principals"`
		}
		if err := n.Decode(&texts); err != nil {
			return nil, err
		}
		m, _ := top.(map[string]any)
		list, _ := m["principals"].([]any)
		for i, p := range texts.Principals {
			if m, ok := list[i].(map[string]any); ok && i < len(list) {
				for k, v := range map[string]string{"name": p.Name, "accessKeyId": p.AccessKeyID, "accessKeySecret": p.AccessKeySecret} {
					if _, ok := m[k]; ok {
						m[k] = v
					}
				}
			}
		}
	}
	file, err := object(top, "file")
	if err != nil {
		return nil, err
	}
	list, ok := file["principals"].([]any)
	if !ok {
		return nil, errors.New("principals is not a list")
	}
	var out []said
	for _, item := range list {
		p, err := object(item, "principal")
		if err != nil {
			return nil, err
		}
		pol, err := object(p["policy"], "policy")
		if err != nil {
			return nil, err
		}
		sts, _ := pol["Statement"].([]any)
		for _, st := range sts {
			if _, err := object(st, "statement"); err != nil {
				return nil, err
			}
		}
		s := said{}
		s.name, _ = p["name"].(string)
		s.id, _ = p["accessKeyId"].(string)
		s.secret, _ = p["accessKeySecret"].(string)
		s.qps, s.burst = integer(p["qps"]), integer(p["burst"])
		out = append(out, s)
	}
	return out, nil
}

// object is v as an object of the members level may have, by exact names.
func object(v any, level string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the %s is %T, not an object", level, v)
	}
	for k := range m {
		if !contains(members[level], k) {
			return nil, fmt.Errorf("the %s has the member %q", level, k)
		}
	}
	return m, nil
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func integer(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return 0
}

// FuzzParseWorkIsLinear: reading a principals document costs work that grows
// linearly with it, whatever it repeats. The document is prefix, then n
// copies of member (each "#" in a copy replaced by its index, so that names
// and keys stay distinct), then suffix: a member carries its own separator.
// A document refused costs work too.
func FuzzParseWorkIsLinear(f *testing.F) {
	entry := `{name: p#, accessKeyId: LTAI#, accessKeySecret: s#, policy: ` + fuzzPolicy + `}`
	first := `{"name":"p","accessKeyId":"LTAI","accessKeySecret":"s","policy":` + jsonPolicy + `}`
	f.Add("principals:\n", "  - "+entry+"\n", "")
	f.Add("principals: ["+strings.ReplaceAll(entry, "#", ""), ", "+entry, "]\n")
	f.Add(`{"principals":[`+first, `,{"name":"p#","accessKeyId":"LTAI#","accessKeySecret":"s#","policy":`+jsonPolicy+`}`, `]}`)
	f.Add("principals:\n  - name: p\n    accessKeyId: a\n    accessKeySecret: s\n    policy:\n      Statement:\n", "        - {Effect: Allow, Action: [\"kms:Decrypt\", \"kms:*#\"], Resource: \"acs:kms:*:*:key/#\"}\n", "")
	f.Add("principals:\n  - name: p\n    accessKeyId: a\n    accessKeySecret: s\n    policy: {Statement: [{Effect: Allow, Action: \"kms:*\", Resource: \"*\", Condition: {StringLike: {k: v", `, "kms:EncryptionContext:k#": [a#, b*]`, "}}}]}\n")
	f.Add("a: &a [x]\n", "b#: [*a, *a]\n", "")
	f.Fuzz(func(t *testing.T, prefix, member, suffix string) {
		if len(prefix)+len(member)+len(suffix) > 256 {
			return // the input grows 50 times; keep a run short
		}
		build := linear.Repeat(prefix, member, "", suffix)
		run := func(doc []byte) error {
			_, err := Parse(doc)
			return err
		}
		if bad, costs := linear.Superlinear(5, build, run); bad {
			t.Fatalf("prefix %q, member %q, suffix %q: %s: more than linear", prefix, member, suffix, costs)
		}
	})
}
