package core

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Alibaba Cloud KMS's bounds on ListKeys' and ListSecrets' Filters.
const (
	// maxFilters is the most Key-Values pairs one Filters holds.
	maxFilters = 10
	// maxFilterValues is the most Values one pair holds.
	maxFilterValues = 10
)

// filterKeys are the Keys a listing filters by, as Alibaba's reference
// spells them ("keyId" among them). A Key whose values form a closed set
// lists them, and any other value is refused: a misspelt state would match
// no key and pass for an answer. nil takes any string.
type filterKeys map[string][]string

// keyFilters are ListKeys' Keys.
var keyFilters = filterKeys{
	"KeyState":        {string(KeyEnabled), string(KeyDisabled), string(KeyPendingDeletion), string(KeyPendingImport)},
	"KeySpec":         nil,
	"KeyUsage":        {UsageEncrypt, UsageSign, UsageMAC, UsageKeyAgreement, UsageEncapsulate},
	"ProtectionLevel": {"SOFTWARE", "HSM"},
	"CreatorType":     {"User", "Service"},
	"DKMSInstanceId":  nil,
	"keyId":           nil,
	"AliasName":       nil,
	"Creator":         nil,
	"TagKey":          nil,
	"TagValue":        nil,
}

// secretFilters are ListSecrets' Keys.
var secretFilters = filterKeys{"SecretName": nil, "Description": nil, "TagKey": nil, "TagValue": nil}

// filter is a listing's Filters as read: for each Key, the values of which
// a listed item has one. An item is listed when it meets every Key.
type filter map[string][]string

// filter reads param as a JSON list of {"Key":…,"Values":[…]} (refusals
// show example), at most maxFilters of them, each with at most
// maxFilterValues strings, each Key one of keys. Pairs naming one Key add
// to its values, as Alibaba's reference shows; a Key whose values are all
// empty places no condition, and nil means no filter at all. Member names
// match exactly and each once, and no other member is taken: a filter
// member left unread would widen the listing in silence.
func (c *call) filter(param string, keys filterKeys, example string) (filter, error) {
	text := c.str(param)
	if text == "" {
		return nil, nil
	}
	malformed := invalidParam(param, "it must be a JSON list like %s", example)
	dec := json.NewDecoder(strings.NewReader(text))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, malformed
	}
	f := filter{}
	for pairs := 1; dec.More(); pairs++ {
		if pairs > maxFilters {
			return nil, invalidParam(param, "it takes at most %d filters", maxFilters)
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return nil, malformed
		}
		var key *string
		var values []string
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return nil, malformed
			}
			switch name {
			case "Key":
				if key != nil {
					return nil, invalidParam(param, "a filter names Key twice")
				}
				if dec.Decode(&key) != nil || key == nil {
					return nil, malformed
				}
			case "Values":
				if values != nil {
					return nil, invalidParam(param, "a filter names Values twice")
				}
				// [] decodes to an empty slice, null to nil.
				if dec.Decode(&values) != nil || values == nil {
					return nil, malformed
				}
			default:
				n, _ := name.(string)
				return nil, invalidParam(param, "a filter has only Key and Values, not %q", ClipText(n))
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, malformed
		}
		if key == nil || values == nil {
			return nil, invalidParam(param, "every filter needs a Key and its Values")
		}
		allowed, ok := keys[*key]
		if !ok {
			return nil, invalidParam(param, "%q is not a filter Key; the Keys are %s", ClipText(*key), strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		}
		if len(values) > maxFilterValues {
			return nil, invalidParam(param, "a filter takes at most %d Values", maxFilterValues)
		}
		for _, v := range values {
			if allowed != nil && !slices.Contains(allowed, v) {
				return nil, invalidParam(param, "%q is not a %s; it must be one of %s", ClipText(v), *key, strings.Join(allowed, ", "))
			}
			if !slices.Contains(f[*key], v) {
				f[*key] = append(f[*key], v)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed
	}
	if len(f) == 0 {
		return nil, nil
	}
	return f, nil
}

// filteredKeys returns page p of the keys that exist at asOf and meet f, and
// how many do. Stores page only the whole listing, so it reads all of it and
// counts and pages the keys that meet f itself.
func (c *call) filteredKeys(asOf time.Time, f filter, p Page) ([]Key, int, error) {
	aliased, err := c.aliasedKeys(f["AliasName"])
	if err != nil {
		return nil, 0, err
	}
	var out []Key
	total := 0
	err = c.s.eachKey(c.ctx, asOf, func(k *Key) error {
		if !f.meetsKey(k, c.s.stateOf(k), aliased) {
			return nil
		}
		if total >= p.Offset && (p.Limit <= 0 || len(out) < p.Limit) {
			out = append(out, *k)
		}
		total++
		return nil
	})
	if err != nil {
		return nil, 0, storeErr(err)
	}
	return out, total, nil
}

// aliasedKeys returns the IDs of the keys that the alias names point at.
func (c *call) aliasedKeys(names []string) (map[string]bool, error) {
	ids := make(map[string]bool, len(names))
	for _, name := range names {
		a, err := c.s.store.GetAlias(c.ctx, name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, storeErr(err)
		}
		ids[a.KeyID] = true
	}
	return ids, nil
}

// meets reports whether an item has one of the values of every Key of f,
// as has says of each Key and its values.
func (f filter) meets(has func(key string, values []string) bool) bool {
	for key, values := range f {
		if !has(key, values) {
			return false
		}
	}
	return true
}

// meetsKey reports whether k, in state, meets f; aliased holds the IDs of
// the keys the AliasName values point at.
func (f filter) meetsKey(k *Key, state KeyState, aliased map[string]bool) bool {
	return f.meets(func(key string, values []string) bool {
		switch key {
		case "KeyState":
			return slices.Contains(values, string(state))
		case "KeySpec":
			// By either name: EC_P256 is Alibaba's ECC_NIST_P256.
			return slices.Contains(values, k.KeySpec) || slices.Contains(values, AlibabaKeySpec(k.KeySpec))
		case "KeyUsage":
			return slices.Contains(values, k.KeyUsage)
		case "ProtectionLevel":
			return slices.Contains(values, k.ProtectionLevel)
		case "CreatorType":
			// Every key here is the account's own, made by a caller or
			// by the operator's configuration (a seed file, the
			// partition key); no cloud service makes one on its behalf.
			return slices.Contains(values, "User")
		case "DKMSInstanceId":
			// Keys here belong to no KMS instance.
			return false
		case "keyId":
			return slices.Contains(values, k.ID)
		case "AliasName":
			return aliased[k.ID]
		case "Creator":
			return slices.Contains(values, k.Creator)
		case "TagKey", "TagValue":
			return tagsMeet(key, values, k.Tags)
		}
		return false
	})
}

// meetsSecret reports whether sec meets f.
func (f filter) meetsSecret(sec *GenericSecret) bool {
	return f.meets(func(key string, values []string) bool {
		switch key {
		case "SecretName":
			return slices.Contains(values, sec.Name)
		case "Description":
			return slices.Contains(values, sec.Description)
		case "TagKey", "TagValue":
			return tagsMeet(key, values, sec.Tags)
		}
		return false
	})
}

// tagsMeet reports whether tags hold a tag whose key (for TagKey) or value
// (for TagValue) is one of values.
func tagsMeet(name string, values []string, tags map[string]string) bool {
	for k, v := range tags {
		if name == "TagKey" && slices.Contains(values, k) || name == "TagValue" && slices.Contains(values, v) {
			return true
		}
	}
	return false
}
