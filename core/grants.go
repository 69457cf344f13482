package core

import (
	"cmp"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Grants, as AWS KMS has them: a key's owner lets another principal, the
// grantee, use the key for some operations, without writing that into the
// grantee's policy. The caller's own policy decides first; a grant is read
// only when it does not allow, and an explicit Deny in it beats any grant.

const (
	// maxGrantsPerGrantee bounds the grants one principal holds on one key,
	// which every request that a grant allows reads: AWS's quota.
	maxGrantsPerGrantee = 500
	// maxConstraintPairs and maxConstraintValue are AWS's bounds on a grant
	// constraint.
	maxConstraintPairs = 8
	maxConstraintValue = 384
	grantIDLength      = 64
)

// Grant operations, in AWS's names.
const (
	opDecrypt       = "Decrypt"
	opEncrypt       = "Encrypt"
	opReEncryptFrom = "ReEncryptFrom"
	opReEncryptTo   = "ReEncryptTo"
	opCreateGrant   = "CreateGrant"
	opRetireGrant   = "RetireGrant"
	opDescribeKey   = "DescribeKey"
	opGetPublicKey  = "GetPublicKey"
)

// grantOps lists the operations a grant may give on a key of each usage;
// DescribeKey, CreateGrant and RetireGrant are on every key. A symmetric
// key's operations are those whose requests carry an encryption context, to
// which constraints apply.
var grantOps = map[string][]string{
	UsageEncrypt:      {opDecrypt, opEncrypt, opReEncryptFrom, opReEncryptTo, "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"},
	"asymmetric":      {opDecrypt, opEncrypt, opReEncryptFrom, opReEncryptTo, opGetPublicKey},
	UsageSign:         {"Sign", "Verify", opGetPublicKey},
	UsageMAC:          {"GenerateMac", "VerifyMac"},
	UsageKeyAgreement: {"DeriveSharedSecret", opGetPublicKey},
	UsageEncapsulate:  {opGetPublicKey},
}

// grantOpsOf is the operations a grant may give on k.
func grantOpsOf(k *Key) []string {
	usage := cmp.Or(k.KeyUsage, UsageEncrypt)
	if usage == UsageEncrypt && !symmetricEncryption(k) {
		usage = "asymmetric"
	}
	return append([]string{opDescribeKey, opCreateGrant, opRetireGrant}, grantOps[usage]...)
}

// everyGrantOp is every operation a grant may name.
var everyGrantOp = func() []string {
	all := []string{opDescribeKey, opCreateGrant, opRetireGrant}
	for _, ops := range grantOps {
		all = append(all, ops...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}()

// grantOperation is the grant operation that allows the running action, ""
// when no grant can.
func (c *call) grantOperation() string {
	if c.destination {
		return opReEncryptTo
	}
	return grantOpOf[c.act]
}

// grantOpOf maps actions to the grant operations that allow them, by ID.
var grantOpOf map[actionID]string

// actionGrantOps names, by action, the grant operation that allows it. The
// asymmetric actions are AWS's Encrypt, Decrypt, Sign and Verify.
var actionGrantOps = map[string]string{
	"DescribeKey":                         opDescribeKey,
	"Encrypt":                             opEncrypt,
	"AsymmetricEncrypt":                   opEncrypt,
	"Decrypt":                             opDecrypt,
	"AsymmetricDecrypt":                   opDecrypt,
	"ReEncrypt":                           opReEncryptFrom,
	"GenerateDataKey":                     "GenerateDataKey",
	"GenerateDataKeyWithoutPlaintext":     "GenerateDataKeyWithoutPlaintext",
	"GenerateDataKeyPair":                 "GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext": "GenerateDataKeyPairWithoutPlaintext",
	"GenerateMac":                         "GenerateMac",
	"VerifyMac":                           "VerifyMac",
	"GetPublicKey":                        opGetPublicKey,
	"AsymmetricSign":                      "Sign",
	"AsymmetricVerify":                    "Verify",
	"DeriveSharedSecret":                  "DeriveSharedSecret",
	"CreateGrant":                         opCreateGrant,
	"RetireGrant":                         opRetireGrant,
}

// withTokens reports whether the request names grant tokens: it reads the
// store rather than what this instance keeps of it.
func (c *call) withTokens() bool { return c.str("GrantTokens") != "" }

// byGrant is the last chance of a request on key k, loaded, that neither
// the caller's policy nor the key's allows: a grant to the caller on the
// key, for the request's operation, whose constraints the request meets.
// On success k is kept; otherwise the caller is denied and k is left zero.
func (c *call) byGrant(k *Key) error {
	if op := c.grantOperation(); op != "" && c.s.grants != nil {
		held, err := c.s.grantsFor(c.ctx, k.ID, c.req.Caller.Name, c.withTokens())
		if err != nil {
			*k = Key{}
			return storeErr(err)
		}
		for i := range held {
			if g := &held[i]; g.Of(k) && slices.Contains(g.Operations, op) && c.meets(g, k, op) {
				if c.req.GrantID != "" {
					c.req.GrantID += ","
				}
				c.req.GrantID += g.ID
				return nil
			}
		}
	}
	*k = Key{}
	return c.denied()
}

// meets reports whether the request meets grant g's terms for operation op
// on key k: its constraints, on the operations that carry an encryption
// context, and for a CreateGrant, that the grant it makes asks no more than
// g gives.
func (c *call) meets(g *Grant, k *Key, op string) bool {
	if c.facts.Grant != nil && !covers(g, c.facts.Grant) {
		return false
	}
	if !constrained(k, op) {
		return true
	}
	return g.Constraints.match(c.facts.Context)
}

// constrained reports whether grant constraints apply to op on k: to the
// operations of a symmetric encryption key that take an encryption
// context, and not to DescribeKey, CreateGrant and RetireGrant, nor to any
// operation of another key.
func constrained(k *Key, op string) bool {
	return slices.Contains(grantOps[UsageEncrypt], op) && symmetricEncryption(k)
}

func symmetricEncryption(k *Key) bool {
	return asymmetricSpecs[k.KeySpec] == nil && (k.KeyUsage == "" || k.KeyUsage == UsageEncrypt)
}

// match reports whether a request's encryption context meets the
// constraints: keys compare without regard to case, values exactly.
func (gc GrantConstraints) match(ctx EncryptionContext) bool {
	if gc.Equals != nil && (len(ctx) != len(gc.Equals) || !containsPairs(ctx, gc.Equals)) {
		return false
	}
	return gc.Subset == nil || containsPairs(ctx, gc.Subset)
}

// containsPairs reports whether ctx has every pair of want, keys folded. A
// constraint has at most eight pairs, so this is linear in the context.
func containsPairs(ctx, want EncryptionContext) bool {
	for wk, wv := range want {
		found := false
		for k, v := range ctx {
			if v == wv && strings.EqualFold(k, wk) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// covers reports whether a grant made by the holder of parent, through its
// CreateGrant operation, stays within it: no operation parent lacks, and
// constraints at least as strict as parent's.
func covers(parent, child *Grant) bool {
	for _, op := range child.Operations {
		if !slices.Contains(parent.Operations, op) {
			return false
		}
	}
	p, ch := parent.Constraints, child.Constraints
	if p.Equals != nil && (ch.Equals == nil || len(ch.Equals) != len(p.Equals) || !containsPairs(ch.Equals, p.Equals)) {
		return false
	}
	if p.Subset != nil && !(ch.Equals != nil && containsPairs(ch.Equals, p.Subset)) && !(ch.Subset != nil && containsPairs(ch.Subset, p.Subset)) {
		return false
	}
	return true
}

// PrincipalARN is the ARN of the service's principal name, as grants name
// principals: acs:ram::<account>:user/<name>. The AWS protocol reads and
// writes it in its own spelling.
func (s *Service) PrincipalARN(name string) string { return s.principalPrefix() + name }

func (s *Service) principalPrefix() string { return "acs:ram::" + s.account + ":user/" }

// principalName reads a principal's ARN (PrincipalARN) for its name.
func (s *Service) principalName(param, arn string) (string, error) {
	name, ok := strings.CutPrefix(arn, s.principalPrefix())
	if !ok || name == "" || len(arn) > 256 || !validText(name) {
		return "", invalidParam(param, "it must name a principal of this account as %s<name>", s.principalPrefix())
	}
	return name, nil
}

// validText reports whether s is valid UTF-8 without control characters.
func validText(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// grantTerms reads CreateGrant's parameters into a grant, all but its key.
func (c *call) grantTerms() (Grant, error) {
	var g Grant
	var err error
	if g.Grantee, err = c.required("GranteePrincipal"); err != nil {
		return g, err
	}
	if g.GranteeName, err = c.s.principalName("GranteePrincipal", g.Grantee); err != nil {
		return g, err
	}
	if g.Retiring = c.str("RetiringPrincipal"); g.Retiring != "" {
		if g.RetiringName, err = c.s.principalName("RetiringPrincipal", g.Retiring); err != nil {
			return g, err
		}
	}
	if g.Operations, err = c.grantOperations(); err != nil {
		return g, err
	}
	for _, param := range []string{"EncryptionContextEquals", "EncryptionContextSubset"} {
		ctx, err := c.context(param)
		if err != nil {
			return g, err
		}
		if len(ctx) > maxConstraintPairs {
			return g, invalidParam(param, "a constraint has at most %d pairs", maxConstraintPairs)
		}
		for _, v := range ctx {
			if utf8.RuneCountInString(v) > maxConstraintValue {
				return g, invalidParam(param, "a constraint's value has at most %d characters", maxConstraintValue)
			}
		}
		if c.str(param) == "" {
			ctx = nil
		} else if ctx == nil {
			ctx = EncryptionContext{}
		}
		if param == "EncryptionContextEquals" {
			g.Constraints.Equals = ctx
		} else {
			g.Constraints.Subset = ctx
		}
	}
	g.Name = c.str("Name")
	if len(g.Name) > 256 || !grantName(g.Name) {
		return g, invalidParam("Name", "it must be 1 to 256 letters, digits and the marks :/_-")
	}
	g.Issuer = c.req.Caller.Name
	return g, nil
}

// grantName reports whether name is made of the characters AWS allows in a
// grant's name; "" is no name.
func grantName(name string) bool {
	for i := 0; i < len(name); i++ {
		switch ch := name[i]; {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == ':', ch == '/', ch == '_', ch == '-':
		default:
			return false
		}
	}
	return true
}

// grantOperations reads Operations, a JSON list of grant operations, sorted
// and each kept once.
func (c *call) grantOperations() ([]string, error) {
	text, err := c.required("Operations")
	if err != nil {
		return nil, err
	}
	var ops []string
	if err := json.Unmarshal([]byte(text), &ops); err != nil || len(ops) == 0 {
		return nil, invalidParam("Operations", `it must be a JSON list of grant operations like ["Decrypt","Encrypt"]`)
	}
	for _, op := range ops {
		if _, ok := slices.BinarySearch(everyGrantOp, op); !ok {
			return nil, invalidParam("Operations", "%q is not a grant operation; they are %v", ClipText(op), everyGrantOp)
		}
	}
	slices.Sort(ops)
	return slices.Compact(ops), nil
}

// sameTerms reports whether two grants give the same thing to the same
// principals, as a CreateGrant repeated under one name must to return the
// first grant.
func sameTerms(a, b *Grant) bool {
	return a.Name == b.Name && a.Grantee == b.Grantee && a.Retiring == b.Retiring &&
		slices.Equal(a.Operations, b.Operations) &&
		(a.Constraints.Equals == nil) == (b.Constraints.Equals == nil) && maps.Equal(a.Constraints.Equals, b.Constraints.Equals) &&
		(a.Constraints.Subset == nil) == (b.Constraints.Subset == nil) && maps.Equal(a.Constraints.Subset, b.Constraints.Subset)
}

func (c *call) grantStore() (GrantStore, error) {
	if c.s.grants == nil {
		return nil, Errorf(CodeInvalidParameter, "This service keeps no grants: its store does not.")
	}
	return c.s.grants, nil
}

// createGrant makes a grant on the key named by KeyId. The caller's policy
// allows it with kms:CreateGrant, or a grant the caller holds that gives
// CreateGrant, and then the new grant asks no more than that one gives.
func (c *call) createGrant() (any, error) {
	store, err := c.grantStore()
	if err != nil {
		return nil, err
	}
	g, err := c.grantTerms()
	if err != nil {
		return nil, err
	}
	c.facts.Grant = &g
	var k Key
	if err := c.resolveKey(&k, "KeyId"); err != nil {
		return nil, err
	}
	if k.State == KeyPendingDeletion {
		return nil, usable(&k)
	}
	valid := grantOpsOf(&k)
	for _, op := range g.Operations {
		if !slices.Contains(valid, op) {
			return nil, invalidParam("Operations", "a grant on a %s key gives only %v", kindName(&k), valid)
		}
	}
	if (g.Constraints.Equals != nil || g.Constraints.Subset != nil) && !symmetricEncryption(&k) {
		return nil, invalidParam("Constraints", "only grants on a symmetric encryption key take encryption context constraints")
	}
	if c.dry {
		return nil, errDryRunOK
	}
	g.KeyID, g.KeyCreated, g.CreatedAt = k.ID, k.CreatedAt.Unix(), c.s.clock.Now().UTC()
	held, err := store.GrantsFor(c.ctx, k.ID, g.GranteeName)
	if err != nil {
		return nil, storeErr(err)
	}
	held = slices.DeleteFunc(held, func(h Grant) bool { return !h.Of(&k) })
	if g.Name != "" {
		for i := range held {
			if sameTerms(&held[i], &g) {
				return c.grantMade(&held[i])
			}
		}
	}
	if len(held) >= maxGrantsPerGrantee {
		return nil, Errorf(CodeLimitExceeded, "The principal already holds %d grants on the key %q, the most it may.", maxGrantsPerGrantee, k.ID)
	}
	var id [grantIDLength / 2]byte
	if _, err := io.ReadFull(c.s.rand, id[:]); err != nil {
		return nil, internal("random: %w", err)
	}
	g.ID = hex.EncodeToString(id[:])
	if err := store.CreateGrant(c.ctx, g); err != nil {
		return nil, storeErr(err)
	}
	c.s.grantCache.forget(grantCacheKey{g.KeyID, g.GranteeName})
	return c.grantMade(&g)
}

// kindName is the name of k's kind in errors: its spec and usage, as AWS
// names them.
func kindName(k *Key) string {
	if kind := kindOf(k.KeySpec, k.KeyUsage); kind != nil {
		return kind.Spec + " " + kind.Usage
	}
	return k.KeySpec
}

// grantMade is CreateGrant's answer: the grant's ID and a token naming it.
// Each answer's token is new, as AWS's are; any of them names the grant.
func (c *call) grantMade(g *Grant) (any, error) {
	var nonce [12]byte
	if _, err := io.ReadFull(c.s.rand, nonce[:]); err != nil {
		return nil, internal("random: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString([]byte(grantTokenPrefix + g.KeyID + "/" + g.ID + "/" + hex.EncodeToString(nonce[:])))
	return GrantCreated{KeyID: g.KeyID, GrantID: g.ID, Token: token}, nil
}

// grantTokenPrefix leads the text of every grant token, so that a later
// form can be told apart.
const grantTokenPrefix = "kmsless-grant-1/"

// parseGrantToken reads a token grantMade made, for the key and grant it
// names. A token names a grant; it gives nothing by itself. One whose parts
// are not a key ID and a grant ID was not made here, whatever it names.
func parseGrantToken(token string) (keyID, grantID string, err error) {
	bad := Errorf(CodeInvalidGrantToken, "The grant token is not one this service issued.")
	if len(token) > 8192 {
		return "", "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", "", bad
	}
	parts := strings.Split(strings.TrimPrefix(string(b), grantTokenPrefix), "/")
	if !strings.HasPrefix(string(b), grantTokenPrefix) || len(parts) != 3 || !validKeyID(parts[0]) || !ValidGrantID(parts[1]) {
		return "", "", bad
	}
	return parts[0], parts[1], nil
}

// CheckGrantToken refuses a grant token this service did not issue
// (InvalidGrantToken), as AWS refuses one it did not: a made-up token is
// a mistake to tell the caller of, not a value to pass over.
func CheckGrantToken(token string) error {
	_, _, err := parseGrantToken(token)
	return err
}

// ValidGrantID reports whether id is a grant ID: 64 lowercase hexadecimal digits.
func ValidGrantID(id string) bool {
	if len(id) != grantIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if ch := id[i]; !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f') {
			return false
		}
	}
	return true
}

// grantIDParam reads a GrantId parameter.
func (c *call) grantIDParam(required bool) (string, error) {
	id := c.str("GrantId")
	if id == "" && required {
		return "", missingParam("GrantId")
	}
	if id != "" && !ValidGrantID(id) {
		return "", invalidParam("GrantId", "it must be 64 hexadecimal digits")
	}
	return id, nil
}

// liveGrant reads grant id of key k: ErrNotFound, as a missing grant, for
// one made on an earlier key of the same ID.
func (c *call) liveGrant(store GrantStore, k *Key, id string) (Grant, error) {
	g, err := store.GetGrant(c.ctx, k.ID, id)
	if err == nil && !g.Of(k) {
		err = ErrNotFound
	}
	if errors.Is(err, ErrNotFound) {
		return g, noGrant(k.ID, id)
	}
	if err != nil {
		return g, storeErr(err)
	}
	return g, nil
}

func noGrant(keyID, id string) error {
	return Errorf(CodeResourceNotFound, "The key %q has no grant %q.", ClipText(keyID), id)
}

// revokeGrant deletes a grant of the key named by KeyId, as kms:RevokeGrant
// on the key allows.
func (c *call) revokeGrant() (any, error) {
	store, err := c.grantStore()
	if err != nil {
		return nil, err
	}
	id, err := c.grantIDParam(true)
	if err != nil {
		return nil, err
	}
	var k Key
	if err := c.resolveKey(&k, "KeyId"); err != nil {
		return nil, err
	}
	g, err := c.liveGrant(store, &k, id)
	if err != nil {
		return nil, err
	}
	if c.dry {
		return nil, errDryRunOK
	}
	return nil, c.deleteGrant(store, &g)
}

func (c *call) deleteGrant(store GrantStore, g *Grant) error {
	err := store.DeleteGrant(c.ctx, g.KeyID, g.ID)
	c.s.grantCache.forget(grantCacheKey{g.KeyID, g.GranteeName})
	if errors.Is(err, ErrNotFound) {
		return noGrant(g.KeyID, g.ID)
	}
	if err != nil {
		return storeErr(err)
	}
	return nil
}

// retireGrant deletes a grant named by its token, or by KeyId and GrantId.
// Its retiring principal may, its grantee when the grant gives RetireGrant,
// and a caller whose policy allows kms:RetireGrant on the key; an explicit
// Deny of kms:RetireGrant in the caller's policy beats the first two.
func (c *call) retireGrant() (any, error) {
	store, err := c.grantStore()
	if err != nil {
		return nil, err
	}
	keyID, id, err := c.retiredGrant()
	if err != nil {
		return nil, err
	}
	// The grant is read before its key, and a missing key is a missing
	// grant: a caller who may retire nothing, naming keys in forged tokens,
	// learns nothing of which exist.
	g, err := store.GetGrant(c.ctx, keyID, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, storeErr(err)
	}
	var k Key
	if err == nil {
		if err := c.loadKey(&k, keyID); err != nil && AsError(err).Code != CodeKeyNotFound {
			return nil, err
		}
	}
	if k.ID == "" || !g.Of(&k) {
		return nil, noGrant(keyID, id)
	}
	caller := c.req.Caller.Name
	resources := []string{c.s.KeyARN(k.ID)}
	c.keyFacts(&k)
	pol := c.req.Caller.Policy
	allowed := pol.allows(c.act, &c.facts, resources...) ||
		!pol.denies(c.act, &c.facts, resources) &&
			(eq(caller, g.RetiringName) || eq(caller, g.GranteeName) && slices.Contains(g.Operations, opRetireGrant))
	if !allowed {
		return nil, c.denied()
	}
	if c.dry {
		return nil, errDryRunOK
	}
	return nil, c.deleteGrant(store, &g)
}

func eq(a, b string) bool { return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// retiredGrant reads which grant RetireGrant names: by GrantToken, or by
// KeyId (a key's ID or ARN) and GrantId; when both are given they must
// agree.
func (c *call) retiredGrant() (keyID, id string, err error) {
	if id, err = c.grantIDParam(false); err != nil {
		return "", "", err
	}
	if ref := c.str("KeyId"); ref != "" {
		r, err := c.parseRef("KeyId")
		if err != nil {
			return "", "", err
		}
		if r.alias != "" {
			return "", "", invalidParam("KeyId", "name the grant's key by its ID or ARN")
		}
		keyID = r.keyID
	}
	token := c.str("GrantToken")
	if token == "" {
		if keyID == "" || id == "" {
			return "", "", missingParam(map[bool]string{true: "KeyId", false: "GrantId"}[keyID == ""])
		}
		return keyID, id, nil
	}
	tokenKey, tokenID, err := parseGrantToken(token)
	if err != nil {
		return "", "", err
	}
	if keyID != "" && keyID != tokenKey || id != "" && id != tokenID {
		return "", "", invalidParam("GrantToken", "it names another grant than KeyId and GrantId do")
	}
	return tokenKey, tokenID, nil
}

// grantLimit reads PageSize, 1 to 100 grants a page, 50 by default (AWS's
// Limit).
func (c *call) grantLimit() (int, error) {
	n, ok, err := c.int("PageSize", 1, 100)
	if !ok {
		n = 50
	}
	return n, err
}

// listGrants pages through a key's grants, in order of their IDs; Marker is
// the ID of the last one listed. GrantId or GranteePrincipal narrow the
// listing; GranteeServicePrincipal (AWS's, for grants to AWS services)
// narrows it to nothing, as no grant here is to a service.
func (c *call) listGrants() (any, error) {
	store, err := c.grantStore()
	if err != nil {
		return nil, err
	}
	limit, err := c.grantLimit()
	if err != nil {
		return nil, err
	}
	after := c.str("Marker")
	if after != "" && !ValidGrantID(after) {
		return nil, invalidParam("Marker", "it is not a marker this listing gave")
	}
	id, err := c.grantIDParam(false)
	if err != nil {
		return nil, err
	}
	grantee := ""
	if arn := c.str("GranteePrincipal"); arn != "" {
		if grantee, err = c.s.principalName("GranteePrincipal", arn); err != nil {
			return nil, err
		}
	}
	var k Key
	if err := c.resolveKey(&k, "KeyId"); err != nil {
		return nil, err
	}
	var found []Grant
	switch {
	case c.str("GranteeServicePrincipal") != "":
		// None: no grant here is to an AWS service principal.
	case id != "":
		g, err := c.liveGrant(store, &k, id)
		if err == nil && (grantee == "" || g.GranteeName == grantee) && id > after {
			found = []Grant{g}
		} else if err != nil && AsError(err).Code != CodeResourceNotFound {
			return nil, err
		}
	case grantee != "":
		found, err = store.GrantsFor(c.ctx, k.ID, grantee)
		found = slices.DeleteFunc(found, func(g Grant) bool { return g.ID <= after })
	default:
		found, err = store.ListGrants(c.ctx, k.ID, after, limit+1)
	}
	if err != nil {
		return nil, storeErr(err)
	}
	found = slices.DeleteFunc(found, func(g Grant) bool { return !g.Of(&k) })
	return grantPage(found, limit, func(g *Grant) string { return g.ID }), nil
}

// grantPage is the first limit of found, and when more follow, the marker
// of the last of them.
func grantPage(found []Grant, limit int, marker func(*Grant) string) GrantPage {
	if len(found) > limit {
		return GrantPage{Items: found[:limit], Next: marker(&found[limit-1])}
	}
	return GrantPage{Items: found}
}

// listRetirableGrants pages through the grants a principal may retire, in
// order of key and grant ID, on every key. It is on the key collection, as
// ListKeys is.
func (c *call) listRetirableGrants() (any, error) {
	store, err := c.grantStore()
	if err != nil {
		return nil, err
	}
	limit, err := c.grantLimit()
	if err != nil {
		return nil, err
	}
	arn, err := c.required("RetiringPrincipal")
	if err != nil {
		return nil, err
	}
	retiring, err := c.s.principalName("RetiringPrincipal", arn)
	if err != nil {
		return nil, err
	}
	var after GrantPosition
	if m := c.str("Marker"); m != "" {
		var ok bool
		if after, ok = ParseGrantPosition(m); !ok {
			return nil, invalidParam("Marker", "it is not a marker this listing gave")
		}
	}
	if err := c.authorize(c.s.CollectionARN("key")); err != nil {
		return nil, err
	}
	var page []Grant
	// Grants left by keys purged past their deletion date are skipped; a
	// page of them is read past rather than answered empty.
	for len(page) <= limit {
		found, err := store.ListRetirable(c.ctx, retiring, after, limit+1)
		if err != nil {
			return nil, storeErr(err)
		}
		for _, g := range found {
			k, err := c.s.cache.Key(c.ctx, g.KeyID, c.s.getKey)
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				return nil, storeErr(err)
			case g.Of(&k) && !c.s.deleted(&k):
				page = append(page, g)
			}
		}
		if len(found) <= limit {
			break
		}
		after = GrantPosition{KeyID: found[len(found)-1].KeyID, GrantID: found[len(found)-1].ID}
	}
	return grantPage(page, limit, func(g *Grant) string { return g.Position().Token() }), nil
}

// Token is the position as a listing's marker: the key ID and the grant ID.
func (p GrantPosition) Token() string { return p.KeyID + ":" + p.GrantID }

// Position is where a listing of retirable grants that ends at g resumes.
func (g *Grant) Position() GrantPosition { return GrantPosition{KeyID: g.KeyID, GrantID: g.ID} }

// ParseGrantPosition reads a marker Token made.
func ParseGrantPosition(token string) (GrantPosition, bool) {
	i := strings.LastIndexByte(token, ':')
	if i <= 0 || !ValidGrantID(token[i+1:]) || !validText(token[:i]) {
		return GrantPosition{}, false
	}
	return GrantPosition{KeyID: token[:i], GrantID: token[i+1:]}, true
}
