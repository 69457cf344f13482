package core

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/subtle"
	"fmt"
	"hash"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
)

// Secret is an AccessKeySecret. It prints as a placeholder so it cannot reach a
// log by accident, whatever the verb. The text sits behind a pointer to a
// string, which fmt never follows: a print that skips the methods below (a
// Secret in an unexported field, a verb fmt finds bad) shows an address.
type Secret struct{ p *string }

// NewSecret wraps a secret string.
func NewSecret(s string) Secret { return Secret{p: &s} }

// Bytes returns a copy of the secret, for showing it where it belongs. The
// caller zeroes it; a signature check uses MAC.
func (s Secret) Bytes() []byte {
	if s.p == nil {
		return nil
	}
	return []byte(*s.p)
}

// MAC returns an HMAC keyed with prefix, the secret and suffix, as signature
// schemes key theirs ("AWS4" + secret, secret + "&"). The key is put
// together in a buffer that is zeroed before MAC returns: the HMAC keeps only
// the states it derived from it.
func (s Secret) MAC(h func() hash.Hash, prefix, suffix string) hash.Hash {
	var secret string
	if s.p != nil {
		secret = *s.p
	}
	key := make([]byte, 0, len(prefix)+len(secret)+len(suffix))
	key = append(append(append(key, prefix...), secret...), suffix...)
	defer clear(key)
	return hmac.New(h, key)
}

// Equal compares in constant time.
func (s Secret) Equal(other []byte) bool {
	b := s.Bytes()
	defer clear(b)
	return subtle.ConstantTimeCompare(b, other) == 1
}

// Empty reports whether no secret is set.
func (s Secret) Empty() bool { return s.p == nil || *s.p == "" }

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Format keeps verbs that bypass String, such as %d, from printing the bytes.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[redacted]") }

// MarshalJSON keeps secrets out of any JSON a principal is encoded into.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Principal is a caller the service knows: its name, credentials, optional QPS
// override and RAM policy.
type Principal struct {
	Name        string
	AccessKeyID string
	Secret      Secret
	// QPS and Burst override the service defaults when positive.
	QPS    int
	Burst  int
	Policy *Policy
	// ClientKeys are the RSA keys the principal signs the KMS instance API's
	// requests with, as Alibaba's client keys sign them.
	ClientKeys []ClientKey
}

// ClientKey is a client key's ID and public key: the caller holds the
// private key, and the service only verifies what it signs.
type ClientKey struct {
	ID        string
	PublicKey *rsa.PublicKey
}

// MinClientKeyBits is the smallest RSA modulus a client key may have.
const MinClientKeyBits = 2048

// FullAccess is a policy allowing every kms action on every resource.
func FullAccess() *Policy {
	return MustPolicy(Statement{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}})
}

// Directory finds principals by AccessKeyId, and by client key ID. Its
// principals are replaced as a whole (Replace), for every holder at once.
type Directory struct {
	cur atomic.Pointer[principalIndex]
}

type principalIndex struct {
	byID        map[string]*Principal
	byClientKey map[string]clientKeyOf
}

type clientKeyOf struct {
	principal *Principal
	key       *rsa.PublicKey
}

// NewDirectory checks principals (unique names and AccessKeyIds, secrets and
// compiled policies set) and indexes them.
func NewDirectory(ps []Principal) (*Directory, error) {
	d := &principalIndex{byID: make(map[string]*Principal, len(ps)), byClientKey: map[string]clientKeyOf{}}
	names := map[string]bool{}
	for i := range ps {
		p := ps[i]
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("principal %d has no name", i)
		case p.AccessKeyID == "":
			return nil, fmt.Errorf("principal %q has no accessKeyId", p.Name)
		case !accessKeyIDText(p.AccessKeyID):
			return nil, fmt.Errorf("the accessKeyId of %q may hold only letters, digits, '.', '_' and '-'", p.Name)
		case p.Secret.Empty():
			return nil, fmt.Errorf("principal %q has no accessKeySecret", p.Name)
		case p.Policy == nil:
			return nil, fmt.Errorf("principal %q has no policy", p.Name)
		case strings.HasPrefix(p.Name, AccessPoint+"/"):
			// The principals client keys of application access points sign
			// for are named so: a file's principal may not pass for one.
			return nil, fmt.Errorf("principal name %q: names beginning %s/ are the application access points'", p.Name, AccessPoint)
		case names[p.Name]:
			return nil, fmt.Errorf("principal name %q appears twice", p.Name)
		case d.byID[p.AccessKeyID] != nil:
			return nil, fmt.Errorf("accessKeyId of %q is used twice", p.Name)
		case p.QPS < 0 || p.Burst < 0:
			return nil, fmt.Errorf("principal %q has a negative qps or burst", p.Name)
		}
		names[p.Name] = true
		d.byID[p.AccessKeyID] = &p
	}
	// Client key IDs share the AccessKeyIds' space and characters: the audit
	// trail names the key a caller signed with by either, so no ID is both.
	for _, p := range d.byID {
		for _, k := range p.ClientKeys {
			switch {
			case !ValidCredentialID(k.ID):
				return nil, fmt.Errorf("a client key of %q has an ID of other characters than letters, digits, '.', '_' and '-', or none", p.Name)
			case k.PublicKey == nil || k.PublicKey.N.BitLen() < MinClientKeyBits:
				return nil, fmt.Errorf("client key %q of %q is not an RSA key of at least %d bits", k.ID, p.Name, MinClientKeyBits)
			case d.byID[k.ID] != nil || d.byClientKey[k.ID].principal != nil:
				return nil, fmt.Errorf("client key ID %q of %q is used twice, or as an accessKeyId", k.ID, p.Name)
			}
			d.byClientKey[k.ID] = clientKeyOf{p, k.PublicKey}
		}
	}
	dir := &Directory{}
	dir.cur.Store(d)
	return dir, nil
}

// Replace puts next's principals in d's place: a lookup from then on finds
// them, and not d's. A request that found one of d's before goes on as it.
func (d *Directory) Replace(next *Directory) { d.cur.Store(next.index()) }

// noPrincipals is the index of a nil or zero Directory.
var noPrincipals = &principalIndex{}

// index is the principals in service.
func (d *Directory) index() *principalIndex {
	if d == nil {
		return noPrincipals
	}
	if idx := d.cur.Load(); idx != nil {
		return idx
	}
	return noPrincipals
}

// LookupClientKey returns the principal that holds the client key id and
// the key, or nil and nil.
func (d *Directory) LookupClientKey(id string) (*Principal, *rsa.PublicKey) {
	k := d.index().byClientKey[id]
	return k.principal, k.key
}

// ValidCredentialID reports whether id may name an AccessKey or a client
// key: it is not empty, and made of the characters accessKeyIDText allows.
func ValidCredentialID(id string) bool { return id != "" && accessKeyIDText(id) }

// accessKeyIDText reports whether id is made of the characters cloud
// AccessKey IDs are (LTAI…, AKIA…, STS.…). The service names a caller's rate
// bucket, nonces and other buckets by its ID and a separator (':'), so an ID
// holding one could share another caller's; nor can an ID with '/', ',' or
// '=' be named in every signature's credential.
func accessKeyIDText(id string) bool {
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Lookup returns the principal with the AccessKeyId, or nil.
func (d *Directory) Lookup(accessKeyID string) *Principal { return d.index().byID[accessKeyID] }

// Len is the number of principals.
func (d *Directory) Len() int { return len(d.index().byID) }

// PrincipalChange is how one principal, by name, differs between two
// directories: Added, Removed, or else Changed names what changed
// ("accessKeyId", "secret", "limits", "policy", "clientKeys"). It holds no
// secret.
type PrincipalChange struct {
	Name, AccessKeyID string
	Added, Removed    bool
	Changed           []string
}

// Changes lists how next's principals differ from d's, by name in order.
func (d *Directory) Changes(next *Directory) []PrincipalChange {
	was, is := byName(d), byName(next)
	var out []PrincipalChange
	for name, p := range was {
		if is[name] == nil {
			out = append(out, PrincipalChange{Name: name, AccessKeyID: p.AccessKeyID, Removed: true})
		}
	}
	for name, p := range is {
		old := was[name]
		if old == nil {
			out = append(out, PrincipalChange{Name: name, AccessKeyID: p.AccessKeyID, Added: true})
			continue
		}
		var changed []string
		secret := p.Secret.Bytes()
		for what, same := range map[string]bool{
			"accessKeyId": old.AccessKeyID == p.AccessKeyID,
			"secret":      old.Secret.Equal(secret),
			"limits":      old.QPS == p.QPS && old.Burst == p.Burst,
			"policy":      reflect.DeepEqual(old.Policy.statements, p.Policy.statements),
			"clientKeys": slices.EqualFunc(old.ClientKeys, p.ClientKeys, func(a, b ClientKey) bool {
				return a.ID == b.ID && a.PublicKey.Equal(b.PublicKey)
			}),
		} {
			if !same {
				changed = append(changed, what)
			}
		}
		clear(secret)
		if len(changed) > 0 {
			slices.Sort(changed)
			out = append(out, PrincipalChange{Name: name, AccessKeyID: p.AccessKeyID, Changed: changed})
		}
	}
	slices.SortFunc(out, func(a, b PrincipalChange) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func byName(d *Directory) map[string]*Principal {
	ps := d.index().byID
	m := make(map[string]*Principal, len(ps))
	for _, p := range ps {
		m[p.Name] = p
	}
	return m
}
