package principals

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/kmsless/kmsless/core"
)

type file struct {
	Principals []entry `json:"principals" yaml:"principals"`
}

type entry struct {
	Name            string       `json:"name" yaml:"name"`
	AccessKeyID     string       `json:"accessKeyId" yaml:"accessKeyId"`
	AccessKeySecret string       `json:"accessKeySecret" yaml:"accessKeySecret"`
	QPS             int          `json:"qps" yaml:"qps"`
	Burst           int          `json:"burst" yaml:"burst"`
	Policy          *core.Policy `json:"policy" yaml:"policy"`
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
// narrow access.
func Parse(b []byte) (*core.Directory, error) {
	var f file
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, err
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			return nil, err
		}
	}
	if len(f.Principals) == 0 {
		return nil, fmt.Errorf("no principals")
	}
	ps := make([]core.Principal, 0, len(f.Principals))
	for _, e := range f.Principals {
		ps = append(ps, core.Principal{
			Name: e.Name, AccessKeyID: e.AccessKeyID, Secret: core.NewSecret(e.AccessKeySecret),
			QPS: e.QPS, Burst: e.Burst, Policy: e.Policy,
		})
	}
	return core.NewDirectory(ps)
}
