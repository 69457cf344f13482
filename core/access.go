package core

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The KMS instance API's access configuration, as Alibaba's management API
// shapes it: a network rule names the addresses callers may come from; an
// access policy allows the instance API's key or secret actions on some
// keys or secrets, from the addresses of its network rules; an application
// access point (AAP) gathers up to three policies; and a client key, made
// here for an AAP, signs the instance API's requests as the AAP. The
// service keeps a client key's public key only: the private key is
// answered once, in Alibaba's PKCS #12 form under the caller's password.
//
// A client key signs for the principal its AAP stands for, whose policy
// is the AAP's policies compiled to one (accessStatements). Instances keep
// what the store says of every client key for Config.CacheTTL, as
// grants, and read it again sooner when a request names a
// client key they do not know; either way at most once a second. A change
// made on another instance is seen within that time, and requests naming
// client keys, known or not, cost no store reads beyond one a second.

// NetworkRule is CreateNetworkRule's record: the addresses (IPs or CIDR
// blocks) a policy's callers may come from.
type NetworkRule struct {
	Name, Type, Description string
	SourcePrivateIP         []string
	CreatedAt, UpdatedAt    time.Time
}

// PermissionPolicy is CreatePolicy's record. Permissions are Alibaba's
// templates (permissionActions); Resources are key/<id>, key/*,
// secret/<name> or secret/*; NetworkRules, its AccessControlRules, name
// the network rules its callers must come from (none: any address).
type PermissionPolicy struct {
	Name, Description, KmsInstance string
	Permissions, Resources         []string
	NetworkRules                   []string
	CreatedAt, UpdatedAt           time.Time
}

// ApplicationAccessPoint is an application access point: the policies its client
// keys sign under.
type ApplicationAccessPoint struct {
	Name, Description, AuthenticationMethod string
	Policies                                []string
	CreatedAt, UpdatedAt                    time.Time
}

// IssuedClientKey is a client key made by CreateClientKey: its public key
// (DER SubjectPublicKeyInfo), the AAP it signs for and when it is valid.
type IssuedClientKey struct {
	ID, AapName, Algorithm         string
	PublicKey                      []byte
	NotBefore, NotAfter, CreatedAt time.Time
}

// ClientKeyIssued is CreateClientKey's result: the key, its private key
// (PKCS #8 DER), which the adapter encodes as Alibaba's PKCS #12 under
// Password and then clears (Wipe), and the password the caller chose.
type ClientKeyIssued struct {
	IssuedClientKey
	PrivateKey []byte
	Password   string
}

// The answers of the access actions that describe or make a record, with
// its ARN.
type (
	NetworkRuleDescription struct {
		NetworkRule
		ARN string
	}
	AccessPolicyDescription struct {
		PermissionPolicy
		ARN string
	}
	AccessPointDescription struct {
		ApplicationAccessPoint
		ARN string
	}
	// PolicyCreated is CreatePolicy's answer, which Alibaba shapes apart
	// from DescribePolicy's.
	PolicyCreated struct{ AccessPolicyDescription }
)

// Alibaba's permission templates, and the policy actions each allows.
const (
	permissionKeyUser    = "RbacPermission/Template/CryptoServiceKeyUser"
	permissionSecretUser = "RbacPermission/Template/CryptoServiceSecretUser"
)

// permissionActions are the actions of the KMS instance API's APIs each
// template allows: the key user's on keys, the secret user's on secrets.
var permissionActions = map[string][]string{
	permissionKeyUser: {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyPair",
		"kms:GenerateDataKeyPairWithoutPlaintext", "kms:AsymmetricSign", "kms:AsymmetricVerify", "kms:GetPublicKey"},
	permissionSecretUser: {"kms:GetSecretValue"},
}

// Bounds of the access configuration: Alibaba's where it documents them
// (three policies an AAP, forty network rules a policy), this service's
// otherwise.
const (
	maxAccessName       = 64
	maxAccessList       = 40 // addresses of a rule, resources and rules of a policy
	maxPoliciesPerPoint = 3
	clientKeyValidity   = 5 * 365 * 24 * time.Hour
	clientKeyTimeLayout = "2006-01-02T15:04:05Z"
	clientKeyAlgorithm  = "RSA_2048"
	authenticationKey   = "ClientKey"
)

// AccessARN is the ARN of an access record of kind (an Access… constant).
func (s *Service) AccessARN(kind, name string) string { return s.arnPrefix + kind + "/" + name }

func (c *call) accessStore() (AccessStore, error) {
	if c.s.access == nil {
		return nil, Errorf(CodeInvalidParameter, "This service keeps no access configuration: its store does not.")
	}
	return c.s.access, nil
}

// accessName reads a record's name (validAccessName).
func (c *call) accessName(param string) (string, error) {
	name, err := c.required(param)
	if err != nil {
		return "", err
	}
	if !validAccessName(name) {
		return "", invalidParam(param, "it must be 1 to %d letters, digits, '_', '-' and '.'", maxAccessName)
	}
	return name, nil
}

// accessDescription sets *desc to Description, when given: at most 1024
// characters.
func (c *call) accessDescription(desc *string) error {
	v, given := c.p["Description"]
	if utf8.RuneCountInString(v) > 1024 {
		return invalidParam("Description", "it is longer than 1024 characters")
	}
	if given {
		*desc = v
	}
	return nil
}

// jsonList reads param, a JSON list of 1 to most strings, each checked by
// valid, in its order, once each; absent, it is nil unless required.
func (c *call) jsonList(param string, required bool, most int, valid func(string) bool, want string) ([]string, error) {
	v := c.str(param)
	if v == "" {
		if required {
			return nil, missingParam(param)
		}
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(v), &list); err != nil || len(list) == 0 || len(list) > most {
		return nil, invalidParam(param, "it must be a JSON list of 1 to %d strings", most)
	}
	var out []string
	for _, s := range list {
		if !valid(s) {
			return nil, invalidParam(param, "%q is not %s", ClipText(s), want)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// validAddress reports whether s is an IP address or a CIDR block.
func validAddress(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// validAccessResource reports whether s is key/<id>, key/*, secret/<name>
// or secret/*.
func validAccessResource(s string) bool {
	kind, name, ok := strings.Cut(s, "/")
	return ok && (kind == "key" || kind == "secret") && name != "" && len(name) <= 255 && !strings.ContainsAny(name, "?\x00")
}

// validAccessName reports whether s may name an access record: 1 to 64
// letters, digits, '_', '-' and '.'.
func validAccessName(s string) bool {
	return s != "" && len(s) <= maxAccessName && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
	}) < 0
}

// getAccess reads the record of kind and name into v; a missing one is
// ResourceNotFound, named as its kind is.
func (c *call) getAccess(st AccessStore, kind, name string, v any) error {
	r, err := st.GetAccess(c.ctx, kind, name)
	if errors.Is(err, ErrNotFound) {
		return noAccess(kind, name)
	}
	if err != nil {
		return storeErr(err)
	}
	if err := json.Unmarshal(r.Doc, v); err != nil {
		return internal("%s %q: %w", kind, name, err)
	}
	return nil
}

// noAccess is the refusal of a record of kind that is not there.
func noAccess(kind, name string) error {
	return Errorf(CodeResourceNotFound, "The %s %q does not exist.", accessNoun[kind], ClipText(name))
}

var accessNoun = map[string]string{
	AccessNetworkRule: "network rule", AccessPolicy: "policy",
	AccessPoint: "application access point", AccessClientKey: "client key",
}

// putAccess stores v as the record of kind and name: a new one, or in
// place of the one there.
func (c *call) putAccess(st AccessStore, kind, name string, v any, create bool) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return internal("%s: %w", kind, err)
	}
	r := AccessRecord{Kind: kind, Name: name, Doc: doc}
	if create {
		err = st.CreateAccess(c.ctx, r)
	} else {
		err = st.ReplaceAccess(c.ctx, r)
	}
	switch {
	case errors.Is(err, ErrExists):
		return Errorf(CodeResourceExist, "The %s %q already exists.", accessNoun[kind], name)
	case errors.Is(err, ErrNotFound):
		return noAccess(kind, name)
	case err != nil:
		return storeErr(err)
	}
	c.s.clientKeys.forget()
	return nil
}

// listAccess reads every record of kind.
func listAccess[T any](c *call, st AccessStore, kind string) ([]T, error) {
	rs, err := st.ListAccess(c.ctx, kind)
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]T, len(rs))
	for i, r := range rs {
		if err := json.Unmarshal(r.Doc, &out[i]); err != nil {
			return nil, internal("%s %q: %w", kind, r.Name, err)
		}
	}
	return out, nil
}

// namedBy refuses to delete the record name of kind while a record of
// kind user names it (by names).
func namedBy[T any](c *call, st AccessStore, kind, name, user string, names func(T) (string, []string)) error {
	users, err := listAccess[T](c, st, user)
	if err != nil {
		return err
	}
	for _, u := range users {
		if by, list := names(u); slices.Contains(list, name) {
			return Errorf(CodeInvalidParameter, "The %s %q is in use by the %s %q; take it out of that first.", accessNoun[kind], name, accessNoun[user], by)
		}
	}
	return nil
}

// existing refuses names of kind that have no record.
func (c *call) existing(st AccessStore, kind, param string, names []string) error {
	for _, n := range names {
		if _, err := st.GetAccess(c.ctx, kind, n); errors.Is(err, ErrNotFound) {
			return invalidParam(param, "the %s %q does not exist", accessNoun[kind], ClipText(n))
		} else if err != nil {
			return storeErr(err)
		}
	}
	return nil
}

func (c *call) now() time.Time { return c.s.clock.Now().UTC().Truncate(time.Second) }

// Network rules.

func (c *call) networkRuleFields(r *NetworkRule, create bool) error {
	ips, err := c.jsonList("SourcePrivateIp", create, maxAccessList, validAddress, "an IP address or CIDR block")
	if err != nil {
		return err
	}
	if ips != nil {
		r.SourcePrivateIP = ips
	}
	return c.accessDescription(&r.Description)
}

func (c *call) createNetworkRule() (any, error) {
	if t := c.str("Type"); t != "" && t != "Private" {
		return nil, invalidParam("Type", "the one type is Private")
	}
	var r NetworkRule
	arn, err := c.createAccess(AccessNetworkRule, &r, func(_ AccessStore, name string, now time.Time) error {
		r = NetworkRule{Name: name, Type: "Private", CreatedAt: now, UpdatedAt: now}
		return c.networkRuleFields(&r, true)
	})
	return NetworkRuleDescription{r, arn}, err
}

// createAccess authorizes and stores a new record of kind, v, which fill
// makes from the request, given its name (Name) and the time.
func (c *call) createAccess(kind string, v any, fill func(st AccessStore, name string, now time.Time) error) (string, error) {
	st, err := c.accessStore()
	if err != nil {
		return "", err
	}
	name, err := c.accessName("Name")
	if err != nil {
		return "", err
	}
	arn := c.s.AccessARN(kind, name)
	if err := c.authorize(arn); err != nil {
		return "", err
	}
	if err := fill(st, name, c.now()); err != nil {
		return "", err
	}
	return arn, c.putAccess(st, kind, name, v, true)
}

func (c *call) describeNetworkRule() (any, error) {
	var r NetworkRule
	arn, err := c.readAccess(AccessNetworkRule, &r)
	return NetworkRuleDescription{r, arn}, err
}

// readAccess authorizes and reads the record of kind that Name names.
func (c *call) readAccess(kind string, v any) (string, error) {
	st, err := c.accessStore()
	if err != nil {
		return "", err
	}
	name, err := c.accessName("Name")
	if err != nil {
		return "", err
	}
	arn := c.s.AccessARN(kind, name)
	if err := c.authorize(arn); err != nil {
		return "", err
	}
	return arn, c.getAccess(st, kind, name, v)
}

func (c *call) listNetworkRules() (any, error) {
	return listAccessAction[NetworkRule](c, AccessNetworkRule)
}

// listAccessAction answers a List action of kind: a page of its records.
func listAccessAction[T any](c *call, kind string) (any, error) {
	st, err := c.accessStore()
	if err != nil {
		return nil, err
	}
	page, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN(kind)); err != nil {
		return nil, err
	}
	all, err := listAccess[T](c, st, kind)
	if err != nil {
		return nil, err
	}
	return Listing[T]{Items: pageItems(all, page), Total: len(all), PageNumber: num, PageSize: size}, nil
}

func (c *call) updateNetworkRule() (any, error) {
	var r NetworkRule
	return nil, c.updateAccess(AccessNetworkRule, &r, func(AccessStore) error { return c.networkRuleFields(&r, false) }, &r.UpdatedAt)
}

// updateAccess authorizes and reads the record of kind that Name names,
// changes it by change and stores it again.
func (c *call) updateAccess(kind string, v any, change func(AccessStore) error, updated *time.Time) error {
	st, err := c.accessStore()
	if err != nil {
		return err
	}
	if _, err := c.readAccess(kind, v); err != nil {
		return err
	}
	if err := change(st); err != nil {
		return err
	}
	*updated = c.now()
	return c.putAccess(st, kind, c.str("Name"), v, false)
}

func (c *call) deleteNetworkRule() (any, error) {
	return nil, c.deleteAccess(AccessNetworkRule, func(st AccessStore, name string) error {
		return namedBy(c, st, AccessNetworkRule, name, AccessPolicy, func(p PermissionPolicy) (string, []string) { return p.Name, p.NetworkRules })
	})
}

// deleteAccess authorizes and deletes the record of kind that Name names,
// once inUse finds nothing naming it.
func (c *call) deleteAccess(kind string, inUse func(AccessStore, string) error) error {
	st, err := c.accessStore()
	if err != nil {
		return err
	}
	name, err := c.accessName("Name")
	if err != nil {
		return err
	}
	if err := c.authorize(c.s.AccessARN(kind, name)); err != nil {
		return err
	}
	if err := inUse(st, name); err != nil {
		return err
	}
	return c.dropAccess(st, kind, name)
}

func (c *call) dropAccess(st AccessStore, kind, name string) error {
	err := st.DeleteAccess(c.ctx, kind, name)
	if errors.Is(err, ErrNotFound) {
		return noAccess(kind, name)
	}
	if err != nil {
		return storeErr(err)
	}
	c.s.clientKeys.forget()
	return nil
}

// Access policies.

func (c *call) accessPolicyFields(st AccessStore, p *PermissionPolicy, create bool) error {
	perms, err := c.jsonList("Permissions", create, len(permissionActions), func(s string) bool { return permissionActions[s] != nil },
		permissionKeyUser+" or "+permissionSecretUser)
	if err != nil {
		return err
	}
	resources, err := c.jsonList("Resources", create, maxAccessList, validAccessResource, "key/<key ID>, key/*, secret/<name> or secret/*")
	if err != nil {
		return err
	}
	if create {
		inst, err := c.required("KmsInstance")
		if err != nil {
			return err
		}
		if len(inst) > 128 {
			return invalidParam("KmsInstance", "it is longer than 128 characters")
		}
		p.KmsInstance = inst
	}
	if v := c.str("AccessControlRules"); v != "" || create {
		var rules struct{ NetworkRules []string }
		if err := json.Unmarshal([]byte(v), &rules); err != nil || len(rules.NetworkRules) > maxAccessList ||
			slices.ContainsFunc(rules.NetworkRules, func(s string) bool { return !validAccessName(s) }) {
			return invalidParam("AccessControlRules", `it must be {"NetworkRules": [...]}, naming at most %d network rules`, maxAccessList)
		}
		if err := c.existing(st, AccessNetworkRule, "AccessControlRules", rules.NetworkRules); err != nil {
			return err
		}
		p.NetworkRules = slices.Compact(rules.NetworkRules)
	}
	if perms != nil {
		p.Permissions = perms
	}
	if resources != nil {
		p.Resources = resources
	}
	return c.accessDescription(&p.Description)
}

func (c *call) createAccessPolicy() (any, error) {
	var p PermissionPolicy
	arn, err := c.createAccess(AccessPolicy, &p, func(st AccessStore, name string, now time.Time) error {
		p = PermissionPolicy{Name: name, CreatedAt: now, UpdatedAt: now}
		return c.accessPolicyFields(st, &p, true)
	})
	return PolicyCreated{AccessPolicyDescription{p, arn}}, err
}

func (c *call) describeAccessPolicy() (any, error) {
	var p PermissionPolicy
	arn, err := c.readAccess(AccessPolicy, &p)
	return AccessPolicyDescription{p, arn}, err
}

func (c *call) listAccessPolicies() (any, error) {
	return listAccessAction[PermissionPolicy](c, AccessPolicy)
}

func (c *call) updateAccessPolicy() (any, error) {
	var p PermissionPolicy
	return nil, c.updateAccess(AccessPolicy, &p, func(st AccessStore) error { return c.accessPolicyFields(st, &p, false) }, &p.UpdatedAt)
}

func (c *call) deleteAccessPolicy() (any, error) {
	return nil, c.deleteAccess(AccessPolicy, func(st AccessStore, name string) error {
		return namedBy(c, st, AccessPolicy, name, AccessPoint, func(a ApplicationAccessPoint) (string, []string) { return a.Name, a.Policies })
	})
}

// Application access points.

func (c *call) accessPointFields(st AccessStore, a *ApplicationAccessPoint, create bool) error {
	policies, err := c.jsonList("Policies", create, maxPoliciesPerPoint, validAccessName, "a policy's name")
	if err != nil {
		return err
	}
	if err := c.existing(st, AccessPolicy, "Policies", policies); err != nil {
		return err
	}
	if policies != nil {
		a.Policies = policies
	}
	return c.accessDescription(&a.Description)
}

func (c *call) createAccessPoint() (any, error) {
	if m := c.str("AuthenticationMethod"); m != "" && m != authenticationKey {
		return nil, invalidParam("AuthenticationMethod", "the one method is %s", authenticationKey)
	}
	var a ApplicationAccessPoint
	arn, err := c.createAccess(AccessPoint, &a, func(st AccessStore, name string, now time.Time) error {
		a = ApplicationAccessPoint{Name: name, AuthenticationMethod: authenticationKey, CreatedAt: now, UpdatedAt: now}
		return c.accessPointFields(st, &a, true)
	})
	return AccessPointDescription{a, arn}, err
}

func (c *call) describeAccessPoint() (any, error) {
	var a ApplicationAccessPoint
	arn, err := c.readAccess(AccessPoint, &a)
	return AccessPointDescription{a, arn}, err
}

func (c *call) listAccessPoints() (any, error) {
	return listAccessAction[ApplicationAccessPoint](c, AccessPoint)
}

func (c *call) updateAccessPoint() (any, error) {
	var a ApplicationAccessPoint
	return nil, c.updateAccess(AccessPoint, &a, func(st AccessStore) error { return c.accessPointFields(st, &a, false) }, &a.UpdatedAt)
}

func (c *call) deleteAccessPoint() (any, error) {
	return nil, c.deleteAccess(AccessPoint, func(st AccessStore, name string) error {
		return namedBy(c, st, AccessPoint, name, AccessClientKey, func(k IssuedClientKey) (string, []string) { return k.ID, []string{k.AapName} })
	})
}

// Client keys.

// clientKeyPassword checks Password as Alibaba does: 8 to 64 of digits,
// letters and ~!@#$%^&*?_-, of at least two of those three kinds. It
// encrypts the PKCS #12 file the SDK reads, whose cipher is weak against a
// guessable password.
func (c *call) clientKeyPassword() (string, error) {
	pw, err := c.required("Password")
	if err != nil {
		return "", err
	}
	var digit, letter, other bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letter = true
		case strings.ContainsRune("~!@#$%^&*?_-", r):
			other = true
		default:
			return "", invalidParam("Password", "it may hold only digits, letters and ~!@#$%%^&*?_-")
		}
	}
	kinds := 0
	for _, b := range []bool{digit, letter, other} {
		if b {
			kinds++
		}
	}
	if len(pw) < 8 || len(pw) > 64 || kinds < 2 {
		return "", invalidParam("Password", "it must be 8 to 64 characters of at least two of digits, letters and ~!@#$%%^&*?_-")
	}
	return pw, nil
}

// clientKeyValidity reads NotBefore and NotAfter: both or neither (from
// now for five years), in UTC as 2006-01-02T15:04:05Z, the first before
// the second.
func (c *call) clientKeyValidity(now time.Time) (time.Time, time.Time, error) {
	nb, na := c.str("NotBefore"), c.str("NotAfter")
	if nb == "" && na == "" {
		return now, now.Add(clientKeyValidity), nil
	}
	if nb == "" || na == "" {
		missing := "NotAfter"
		if nb == "" {
			missing = "NotBefore"
		}
		return time.Time{}, time.Time{}, invalidParam(missing, "NotBefore and NotAfter are given together")
	}
	from, err1 := time.Parse(clientKeyTimeLayout, nb)
	to, err2 := time.Parse(clientKeyTimeLayout, na)
	switch {
	case err1 != nil:
		return time.Time{}, time.Time{}, invalidParam("NotBefore", "it must be a UTC time such as 2026-01-02T15:04:05Z")
	case err2 != nil:
		return time.Time{}, time.Time{}, invalidParam("NotAfter", "it must be a UTC time such as 2026-01-02T15:04:05Z")
	case !to.After(from):
		return time.Time{}, time.Time{}, invalidParam("NotAfter", "it must come after NotBefore")
	}
	return from, to, nil
}

func (c *call) createClientKey() (any, error) {
	st, err := c.accessStore()
	if err != nil {
		return nil, err
	}
	aap, err := c.accessName("AapName")
	if err != nil {
		return nil, err
	}
	pw, err := c.clientKeyPassword()
	if err != nil {
		return nil, err
	}
	now := c.now()
	from, to, err := c.clientKeyValidity(now)
	if err != nil {
		return nil, err
	}
	// A new client key is a credential of its AAP: the caller must be
	// allowed to make one on that AAP.
	if err := c.authorize(c.s.AccessARN(AccessPoint, aap)); err != nil {
		return nil, err
	}
	id := "KAAP." + newVersionID()
	var point ApplicationAccessPoint
	if err := c.getAccess(st, AccessPoint, aap, &point); err != nil {
		return nil, err
	}
	priv, err := c.newRSAKey(MinClientKeyBits)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, internal("client key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, internal("client key: %w", err)
	}
	k := IssuedClientKey{ID: id, AapName: aap, Algorithm: clientKeyAlgorithm, PublicKey: pub, NotBefore: from, NotAfter: to, CreatedAt: now}
	if err := c.putAccess(st, AccessClientKey, id, k, true); err != nil {
		clear(der)
		return nil, err
	}
	return ClientKeyIssued{IssuedClientKey: k, PrivateKey: der, Password: pw}, nil
}

func (c *call) getClientKey() (any, error) {
	st, err := c.accessStore()
	if err != nil {
		return nil, err
	}
	id, err := c.required("ClientKeyId")
	if err != nil {
		return nil, err
	}
	if !ValidCredentialID(id) || len(id) > 128 {
		return nil, invalidParam("ClientKeyId", "it is not a client key's ID")
	}
	if err := c.authorize(c.s.AccessARN(AccessClientKey, id)); err != nil {
		return nil, err
	}
	var k IssuedClientKey
	return k, c.getAccess(st, AccessClientKey, id, &k)
}

func (c *call) listClientKeys() (any, error) {
	st, err := c.accessStore()
	if err != nil {
		return nil, err
	}
	aap := c.str("AapName")
	if aap != "" && !validAccessName(aap) {
		return nil, invalidParam("AapName", "it is not an application access point's name")
	}
	if err := c.authorize(c.s.CollectionARN(AccessClientKey)); err != nil {
		return nil, err
	}
	keys, err := listAccess[IssuedClientKey](c, st, AccessClientKey)
	if err != nil {
		return nil, err
	}
	if aap != "" {
		keys = slices.DeleteFunc(keys, func(k IssuedClientKey) bool { return k.AapName != aap })
	}
	return keys, nil
}

func (c *call) deleteClientKey() (any, error) {
	st, err := c.accessStore()
	if err != nil {
		return nil, err
	}
	id, err := c.required("ClientKeyId")
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.AccessARN(AccessClientKey, id)); err != nil {
		return nil, err
	}
	return nil, c.dropAccess(st, AccessClientKey, id)
}

// The client keys the instances know.

// ClientKeyCaller is the principal a client key made by CreateClientKey
// signs for, and the key's public key; nil for an ID that names none. A
// key outside its validity is refused.
func (s *Service) ClientKeyCaller(ctx context.Context, id string) (*Principal, *rsa.PublicKey, error) {
	if s.access == nil {
		return nil, nil, nil
	}
	k, ok, err := s.clientKeys.lookup(ctx, s, id)
	if err != nil || !ok {
		return nil, nil, err
	}
	if now := s.clock.Now(); now.Before(k.notBefore) || !now.Before(k.notAfter) {
		return nil, nil, Errorf(CodeInvalidAccessKeyID, "The client key %q is valid from %s to %s only.", id,
			k.notBefore.Format(clientKeyTimeLayout), k.notAfter.Format(clientKeyTimeLayout))
	}
	return k.principal, k.pub, nil
}

// clientKeyCache keeps every client key the store holds, with the
// principal each signs for, as one snapshot.
type clientKeyCache struct {
	mu     sync.Mutex
	keys   map[string]knownClientKey
	loaded time.Time // the last read of the store that answered
	tried  time.Time // the last read tried; zero: read at the next lookup
}

type knownClientKey struct {
	principal           *Principal
	pub                 *rsa.PublicKey
	notBefore, notAfter time.Time
}

// missReload is the least time between two reads of the store that
// requests cause.
const missReload = time.Second

// forget has the next lookup read the store: this instance changed it.
func (kc *clientKeyCache) forget() {
	kc.mu.Lock()
	kc.tried = time.Time{}
	kc.mu.Unlock()
}

func (kc *clientKeyCache) lookup(ctx context.Context, s *Service, id string) (knownClientKey, bool, error) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	now := s.clock.Now()
	k, ok := kc.keys[id]
	// Read again what this instance changed, and else at most once a
	// second, failed reads too: for an ID not known, or once what is
	// known is as old as grants may be. A caller who names IDs, known or
	// not, without a valid signature, makes no more reads than that.
	if kc.tried.IsZero() || now.Sub(kc.tried) >= missReload && (!ok || now.Sub(kc.loaded) >= s.accessTTL) {
		kc.tried = now
		keys, err := s.loadClientKeys(ctx)
		if err != nil {
			return knownClientKey{}, false, err
		}
		kc.keys, kc.loaded = keys, now
		k, ok = keys[id]
	}
	return k, ok, nil
}

// loadClientKeys reads the access configuration whole and compiles each
// AAP's policy once for all its client keys.
func (s *Service) loadClientKeys(ctx context.Context) (map[string]knownClientKey, error) {
	c := &call{s: s, ctx: ctx}
	keys, err := listAccess[IssuedClientKey](c, s.access, AccessClientKey)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	points, err := listAccess[ApplicationAccessPoint](c, s.access, AccessPoint)
	if err != nil {
		return nil, err
	}
	policies, err := listAccess[PermissionPolicy](c, s.access, AccessPolicy)
	if err != nil {
		return nil, err
	}
	rules, err := listAccess[NetworkRule](c, s.access, AccessNetworkRule)
	if err != nil {
		return nil, err
	}
	principals := map[string]*Principal{}
	for _, a := range points {
		pol, err := NewPolicy(s.accessStatements(a, policies, rules)...)
		if err != nil {
			return nil, internal("application access point %q: %w", a.Name, err)
		}
		principals[a.Name] = &Principal{Name: AccessPoint + "/" + a.Name, Policy: pol}
	}
	out := make(map[string]knownClientKey, len(keys))
	for _, k := range keys {
		p := principals[k.AapName]
		parsed, err := x509.ParsePKIXPublicKey(k.PublicKey)
		pub, ok := parsed.(*rsa.PublicKey)
		if p == nil || err != nil || !ok {
			continue // its AAP went with a change racing its making; it signs for no one
		}
		caller := *p
		caller.AccessKeyID = k.ID
		out[k.ID] = knownClientKey{principal: &caller, pub: pub, notBefore: k.NotBefore, notAfter: k.NotAfter}
	}
	return out, nil
}

// accessStatements is the policy an AAP's client keys sign under: for each
// of its policies, an Allow of its templates' actions on its resources,
// from the addresses of its network rules.
func (s *Service) accessStatements(a ApplicationAccessPoint, policies []PermissionPolicy, rules []NetworkRule) []Statement {
	var out []Statement
	for _, p := range policies {
		if !slices.Contains(a.Policies, p.Name) {
			continue
		}
		var from []Condition
		if len(p.NetworkRules) > 0 {
			var addrs []string
			for _, r := range rules {
				if slices.Contains(p.NetworkRules, r.Name) {
					addrs = append(addrs, r.SourcePrivateIP...)
				}
			}
			// A rule that went with a change racing the policy's leaves
			// its addresses out; none left, none may call.
			if len(addrs) == 0 {
				continue
			}
			from = []Condition{{Operator: "IpAddress", Key: "acs:SourceIp", Values: addrs}}
		}
		for _, perm := range p.Permissions {
			var resources []string
			for _, r := range p.Resources {
				kind, name, _ := strings.Cut(r, "/")
				if (kind == "key") == (perm == permissionKeyUser) {
					resources = append(resources, s.arnPrefix+kind+"/"+name)
				}
			}
			if perm == permissionKeyUser {
				// GenerateRandom names no key: a key user may draw bytes.
				out = append(out, Statement{Effect: "Allow", Action: []string{"kms:GenerateRandom"}, Resource: []string{s.CollectionARN("key")}, Condition: from})
			}
			if len(resources) > 0 {
				out = append(out, Statement{Effect: "Allow", Action: permissionActions[perm], Resource: resources, Condition: from})
			}
		}
	}
	if len(out) == 0 {
		// An AAP whose policies allow nothing: a statement that matches
		// no request keeps the policy valid.
		out = append(out, Statement{Effect: "Deny", Action: []string{"kms:*"}, Resource: []string{"*"}})
	}
	return out
}
