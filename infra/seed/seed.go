package seed

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/yamlerr"
)

type file struct {
	Keys []key `yaml:"keys"`
}

type key struct {
	KeyID                         string            `yaml:"keyId"`
	Description                   string            `yaml:"description"`
	State                         string            `yaml:"state"`
	EnableAutomaticRotation       bool              `yaml:"enableAutomaticRotation"`
	RotationInterval              string            `yaml:"rotationInterval"`
	Aliases                       []string          `yaml:"aliases"`
	Tags                          map[string]string `yaml:"tags"`
	DeletionProtection            bool              `yaml:"deletionProtection"`
	DeletionProtectionDescription string            `yaml:"deletionProtectionDescription"`
	Policy                        string            `yaml:"policy"`
	Material                      string            `yaml:"material"`
	Versions                      []version         `yaml:"versions"`
}

type version struct {
	VersionID string `yaml:"versionId"`
	Material  string `yaml:"material"`
}

// Parse reads a seed document. Unknown fields are errors, so a misspelt
// field cannot silently leave a fixture different from what it says. Errors
// name keys and fields, never material.
func Parse(b []byte) ([]core.SeedKey, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the seed file is empty")
		}
		return nil, yamlerr.Redact(err)
	}
	out := make([]core.SeedKey, 0, len(f.Keys))
	for i, k := range f.Keys {
		sk, err := seedKey(i, k)
		if err != nil {
			clearAll(out)
			return nil, err
		}
		out = append(out, sk)
	}
	return out, nil
}

// seedKey turns one entry into a core.SeedKey, decoding its material.
func seedKey(i int, k key) (core.SeedKey, error) {
	sk := core.SeedKey{
		ID: k.KeyID, Description: k.Description, State: core.KeyState(k.State), Tags: k.Tags, Aliases: k.Aliases,
		DeletionProtection: k.DeletionProtection, DeletionProtectionDescription: k.DeletionProtectionDescription,
		Policy: k.Policy,
	}
	switch {
	case k.KeyID == "":
		return core.SeedKey{}, fmt.Errorf("seed key %d has no keyId", i+1)
	case k.EnableAutomaticRotation && k.RotationInterval == "":
		sk.RotationInterval = "365d"
	case k.EnableAutomaticRotation:
		sk.RotationInterval = k.RotationInterval
	case k.RotationInterval != "":
		return core.SeedKey{}, fmt.Errorf("seed key %s: rotationInterval needs enableAutomaticRotation: true", k.KeyID)
	}
	if k.DeletionProtectionDescription != "" && !k.DeletionProtection {
		return core.SeedKey{}, fmt.Errorf("seed key %s: deletionProtectionDescription needs deletionProtection: true", k.KeyID)
	}
	if k.Material != "" && len(k.Versions) > 0 {
		return core.SeedKey{}, fmt.Errorf("seed key %s: give material or versions, not both", k.KeyID)
	}
	vs := k.Versions
	if k.Material != "" {
		vs = []version{{Material: k.Material}}
	}
	for j, v := range vs {
		m, err := base64.StdEncoding.DecodeString(v.Material)
		if err != nil || v.Material == "" {
			clear(m) // what decoded before the error
			clearAll([]core.SeedKey{sk})
			return core.SeedKey{}, fmt.Errorf("seed key %s: the material of version %d is not base64", k.KeyID, j+1)
		}
		sk.Versions = append(sk.Versions, core.SeedVersion{ID: v.VersionID, Material: m})
	}
	return sk, nil
}

// Load reads the seed file at path.
func Load(path string) ([]core.SeedKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	defer clear(b)
	keys, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	return keys, nil
}

// Apply reads the seed file at path and applies it to kms (see
// core.Service.Seed): idempotent, and refused whole on a conflict.
func Apply(ctx context.Context, kms *core.Service, path string) (core.SeedResult, error) {
	keys, err := Load(path)
	if err != nil {
		return core.SeedResult{}, err
	}
	res, err := kms.Seed(ctx, keys)
	if err != nil {
		return res, fmt.Errorf("seed file %s: %w", path, err)
	}
	return res, nil
}

func clearAll(keys []core.SeedKey) {
	for _, k := range keys {
		for _, v := range k.Versions {
			clear(v.Material)
		}
	}
}
