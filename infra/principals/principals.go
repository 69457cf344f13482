package principals

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/strictjson"
	"github.com/kmsless/kmsless/internal/yamlerr"
)

type file struct {
	Principals []entry `json:"principals" yaml:"principals"`
}

type entry struct {
	Name            string      `json:"name" yaml:"name"`
	AccessKeyID     string      `json:"accessKeyId" yaml:"accessKeyId"`
	AccessKeySecret string      `json:"accessKeySecret" yaml:"accessKeySecret"`
	QPS             int         `json:"qps" yaml:"qps"`
	Burst           int         `json:"burst" yaml:"burst"`
	Policy          *policy     `json:"policy" yaml:"policy"`
	ClientKeys      []clientKey `json:"clientKeys" yaml:"clientKeys"`
}

// clientKey is a client key of the KMS instance API: its ID and its RSA
// public key in PEM (PUBLIC KEY, RSA PUBLIC KEY or a CERTIFICATE holding
// one).
type clientKey struct {
	ID        string `json:"id" yaml:"id"`
	PublicKey string `json:"publicKey" yaml:"publicKey"`
}

// key reads the client key's public key.
func (k clientKey) key() (*rsa.PublicKey, error) {
	block, rest := pem.Decode([]byte(k.PublicKey))
	if block == nil || len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("client key %q: publicKey is not one PEM block", k.ID)
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = c.PublicKey
		}
	default:
		return nil, fmt.Errorf("client key %q: publicKey is a PEM %q block, not a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", k.ID, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("client key %q: %w", k.ID, err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("client key %q: publicKey is not an RSA key", k.ID)
	}
	return rsaPub, nil
}

// policy is a RAM policy document as the file spells it.
type policy struct {
	Version   string      `json:"Version" yaml:"Version"`
	Statement []statement `json:"Statement" yaml:"Statement"`
}

type statement struct {
	Effect   string     `json:"Effect" yaml:"Effect"`
	Action   stringList `json:"Action" yaml:"Action"`
	Resource stringList `json:"Resource" yaml:"Resource"`
	// Condition maps operator → condition key → value(s).
	Condition map[string]map[string]condValues `json:"Condition,omitempty" yaml:"Condition,omitempty"`
}

// compile checks the document and compiles it once, as the principals load.
// core refuses a condition operator or key it cannot evaluate rather than
// ignore it: ignoring one would widen access.
func (p *policy) compile() (*core.Policy, error) {
	if p == nil {
		return nil, fmt.Errorf("no policy")
	}
	sts := make([]core.Statement, len(p.Statement))
	for i, st := range p.Statement {
		sts[i] = core.NewStatement(st.Effect, st.Action, st.Resource, st.Condition)
	}
	return core.NewPolicy(sts...)
}

// condValues are a condition's values: one or a list of strings, booleans or
// numbers. Conditions compare text, so each value is kept as the text the
// file writes it in ("010", "1.0"), not as the number YAML or JSON would make
// of it (8, 1); a boolean is "true" or "false", as Bool conditions take it.
type condValues []string

func (v *condValues) UnmarshalJSON(b []byte) error {
	return (*core.PolicyValues)(v).UnmarshalJSON(b)
}

func (v *condValues) UnmarshalYAML(n *yaml.Node) error {
	list := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		list = n.Content
	}
	*v = make(condValues, 0, len(list))
	for _, e := range list {
		for e.Kind == yaml.AliasNode {
			e = e.Alias
		}
		if e.Kind != yaml.ScalarNode {
			return core.ErrConditionValue
		}
		switch e.ShortTag() {
		case "!!null":
			return core.ErrConditionValue
		case "!!bool":
			var b bool
			if err := e.Decode(&b); err != nil {
				return core.ErrConditionValue
			}
			*v = append(*v, strconv.FormatBool(b))
		case "!!int", "!!float", "!!timestamp":
			*v = append(*v, e.Value)
		default:
			var s string
			if err := e.Decode(&s); err != nil {
				return core.ErrConditionValue
			}
			*v = append(*v, s)
		}
	}
	return nil
}

// stringList is a JSON or YAML value that may be one string or a list.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	return (*core.PolicyList)(s).UnmarshalJSON(b)
}

func (s *stringList) UnmarshalYAML(unmarshal func(any) error) error {
	var one string
	if err := unmarshal(&one); err == nil {
		*s = stringList{one}
		return nil
	}
	var many []string
	if err := unmarshal(&many); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// Load reads and checks a principals file.
func Load(path string) (*core.Directory, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("principals file: %w", err)
	}
	d, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("principals file %s: %w", path, err)
	}
	return d, nil
}

// Parse reads a principals document, JSON when it starts with "{", YAML otherwise.
// Unknown fields are errors, so a misspelt policy key cannot silently widen or
// narrow access. Both read one way: members by their exact names, each named
// once, and one YAML document or JSON value, with nothing after it; so no
// editor, linter or review reads in the file principals or statements Parse
// does not.
// Errors quote no value of the file.
func Parse(b []byte) (*core.Directory, error) {
	f, err := decode(b)
	if err != nil {
		return nil, err
	}
	return f.directory()
}

// decode reads a principals document as it is written, unchecked.
func decode(b []byte) (file, error) {
	var f file
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		if err := strictjson.UnmarshalKnown(t, &f); err != nil {
			return file{}, strictjson.Redact(err)
		}
		return f, nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return file{}, yamlerr.Redact(err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return file{}, errors.New("the file holds more than one YAML document")
	}
	if err := unread(&doc); err != nil {
		return file{}, err
	}
	dec = yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return file{}, yamlerr.Redact(err)
	}
	return f, nil
}

// unread refuses what yaml.v3 drops without a word: an empty (null) list
// item, such as a principal or a statement, and a member whose key is null,
// which no known field refuses. Aliases are not followed: the node one names
// is checked where it stands.
func unread(n *yaml.Node) error {
	null := func(n *yaml.Node) bool {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if null(item) {
				return fmt.Errorf("line %d: a list item is empty", item.Line)
			}
		}
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			if null(n.Content[i]) {
				return fmt.Errorf("line %d: a key is null", n.Content[i].Line)
			}
		}
	}
	for _, c := range n.Content {
		if err := unread(c); err != nil {
			return err
		}
	}
	return nil
}

// directory checks the principals of a document and indexes them.
func (f file) directory() (*core.Directory, error) {
	if len(f.Principals) == 0 {
		return nil, fmt.Errorf("no principals")
	}
	ps := make([]core.Principal, 0, len(f.Principals))
	for _, e := range f.Principals {
		pol, err := e.Policy.compile()
		if err != nil {
			return nil, fmt.Errorf("principal %q: %w", e.Name, err)
		}
		var keys []core.ClientKey
		for _, k := range e.ClientKeys {
			pub, err := k.key()
			if err != nil {
				return nil, fmt.Errorf("principal %q: %w", e.Name, err)
			}
			keys = append(keys, core.ClientKey{ID: k.ID, PublicKey: pub})
		}
		ps = append(ps, core.Principal{
			Name: e.Name, AccessKeyID: e.AccessKeyID, Secret: core.NewSecret(e.AccessKeySecret),
			QPS: e.QPS, Burst: e.Burst, Policy: pol, ClientKeys: keys,
		})
	}
	return core.NewDirectory(ps)
}
