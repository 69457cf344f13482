package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync/atomic"
	"time"
)

// Config wires a Service. Store and Root are required. Every other field may
// be left zero, which means what the field says: core holds no defaults of its
// own; infra/config sets them all.
type Config struct {
	Store      KeyStore
	Partitions PartitionStore // nil: no partition provisioning
	Secrets    SecretStore    // nil: no secrets
	Grants     GrantStore     // nil: no grants
	// Certificates keeps Alibaba's certificates; nil: none.
	Certificates CertificateStore
	// Usage keeps keys' last uses; nil: none are kept, and GetKeyLastUsage
	// is refused.
	Usage KeyUsageStore
	// Access keeps the KMS instance API's access configuration (network
	// rules, access policies, application access points, client keys);
	// nil: none, and its management actions are refused.
	Access AccessStore
	// CacheTTL is how long an instance keeps what the store said of a
	// grantee's grants, of a key's aliases (kms:ResourceAliases) and of the
	// access configuration, so that a grant revoked on another instance
	// still allows for up to that long; 0 reads the store on every request
	// a grant may allow or a condition on aliases decides.
	CacheTTL time.Duration
	Root     *RootKey
	// PreviousRoots are root keys that may still wrap stored versions during
	// a root rotation: they open versions but never wrap new ones.
	PreviousRoots []*RootKey
	Cache         MetadataCache // nil: every read goes to the store
	Limiter       Limiter       // nil: no throttling
	Nonces        NonceStore    // nil: nonces are not checked
	Clock         Clock         // nil: SystemClock
	Rand          io.Reader     // nil: crypto/rand

	Region    string
	AccountID string
	// QPS and Burst are the per-principal limits (a principal may override);
	// QPS 0 leaves a principal without its own limit unthrottled.
	QPS   int
	Burst int
	// NonceTTL is the least time a signature nonce is remembered. A nonce is kept until its request's timestamp leaves the
	// window (Request.NonceExpires), and at least this long.
	NonceTTL time.Duration
	// NonceWindow is the longest a signed request stays valid: twice the
	// clock skew, for a timestamp dated a skew ahead. A
	// principal admitted at its rate holds at most Burst + Rate × NonceWindow
	// live nonces, which bounds its nonce quota.
	NonceWindow time.Duration
	// NonceShare is the most live nonces one principal may hold in memory,
	// so that together they stay within the nonce memory's bound (0: only
	// the rate bounds them).
	NonceShare int
	// Destroyed, if set, hears of every key and secret destroyed past its
	// deletion date, whatever met it (a request, Purge, a seed), once the
	// store has destroyed it: the audit trail's record of the destruction.
	Destroyed func(context.Context, Destruction)
	// UseLost, if set, hears of each use of a key that Usage failed to
	// record: GetKeyLastUsage answers the use before it until the next one
	// recorded, a minute after at the soonest. The request stands.
	UseLost func(ctx context.Context, keyID string, err error)
}

// Destruction is a key or secret destroyed past its deletion date.
type Destruction struct {
	// Kind is DestroyedKey or DestroyedSecret.
	Kind string
	// ID is the key's ID or the secret's name.
	ID       string
	DeleteAt time.Time
}

// The kinds of Destruction.
const (
	DestroyedKey    = "key"
	DestroyedSecret = "secret"
)

// Service is the KMS: it admits, authorizes and runs requests.
type Service struct {
	store      KeyStore
	partitions PartitionStore
	root       *RootKey
	roots      *RootRing
	cache      MetadataCache
	limiter    Limiter
	nonces     NonceStore
	clock      Clock
	rand       io.Reader
	region     string
	account    string
	qps        int
	burst      int
	nonceTTL   time.Duration
	window     time.Duration
	share      atomic.Int64 // Config.NonceShare, or SetNonceShare's
	ring       *keyring
	// The store's getters as the cache's loaders, bound once: a method
	// value made at the call would be allocated on every request.
	getKey     func(context.Context, string) (Key, error)
	getAlias   func(context.Context, string) (Alias, error)
	getVersion func(context.Context, string, string) (KeyVersion, error)
	// arnPrefix is "acs:kms:<region>:<account>:".
	arnPrefix string
	secrets   SecretStore
	grants    GrantStore
	certs     CertificateStore
	usage     KeyUsageStore
	access    AccessStore
	// clientKeys keeps the client keys the access configuration made,
	// for the KMS instance API's requests; accessTTL is how long.
	clientKeys clientKeyCache
	accessTTL  time.Duration
	marks      useMarks
	grantCache *ttlCache[grantCacheKey, Grant]
	// aliasCache keeps the names of each key's aliases, by key ID.
	aliasCache *ttlCache[string, string]
	// keyPolicies and secretPolicies keep keys' and secrets' own
	// policies compiled.
	keyPolicies, secretPolicies policyCache
	destroyed                   func(context.Context, Destruction)
	useLost                     func(context.Context, string, error)
}

// New makes a Service from cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Root == nil {
		return nil, errors.New("core: a store and a root key are required")
	}
	s := &Service{
		store: cfg.Store, partitions: cfg.Partitions, secrets: cfg.Secrets, grants: cfg.Grants, certs: cfg.Certificates, usage: cfg.Usage, access: cfg.Access, root: cfg.Root, cache: cfg.Cache, limiter: cfg.Limiter, nonces: cfg.Nonces,
		clock: cfg.Clock, rand: cfg.Rand, region: cfg.Region, account: cfg.AccountID,
		qps: cfg.QPS, burst: cfg.Burst, nonceTTL: cfg.NonceTTL, window: cfg.NonceWindow, ring: newKeyring(4096),
		destroyed: cfg.Destroyed, useLost: cfg.UseLost,
	}
	s.share.Store(int64(cfg.NonceShare))
	if s.destroyed == nil {
		s.destroyed = func(context.Context, Destruction) {}
	}
	if s.useLost == nil {
		s.useLost = func(context.Context, string, error) {}
	}
	roots, err := NewRootRing(cfg.Root, cfg.PreviousRoots...)
	if err != nil {
		return nil, err
	}
	s.roots = roots
	if s.cache == nil {
		s.cache = noCache{}
	}
	s.getKey, s.getAlias, s.getVersion = s.store.GetKey, s.store.GetAlias, s.store.GetVersion
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	s.grantCache = newTTLCache[grantCacheKey, Grant](cfg.CacheTTL, s.clock, maxGrantCacheEntries, maxGrantCacheGrants)
	s.aliasCache = newTTLCache[string, string](cfg.CacheTTL, s.clock, maxAliasCacheKeys, maxAliasCacheNames)
	s.accessTTL = cfg.CacheTTL
	if s.rand == nil {
		s.rand = rand.Reader
	}
	// A NonceTTL beyond the window keeps nonces longer, and a principal's
	// quota must cover that too.
	s.window = max(s.window, s.nonceTTL)
	s.arnPrefix = "acs:kms:" + s.region + ":" + s.account + ":"
	return s, nil
}

// Region is the region the service reports in ARNs.
func (s *Service) Region() string { return s.region }

// AccountID is the account the service reports in ARNs.
func (s *Service) AccountID() string { return s.account }

// Store is the service's key store (for adapters that share its lifetime).
func (s *Service) Store() KeyStore { return s.store }

// Request is one call of an action by an authenticated caller.
type Request struct {
	// ID is the RequestId echoed in the response.
	ID     string
	Action string
	Params Params
	// Caller is the authenticated principal. Nil is refused.
	Caller *Principal
	// Nonce is the request's signature nonce ("" when the platform authenticated
	// the caller and there is none).
	Nonce string
	// NonceExpires is when the signature stops being accepted: its timestamp
	// plus the verifier's clock skew. The nonce is remembered until then (and
	// for at least Config.NonceTTL), so the request cannot be replayed while
	// it is valid.
	NonceExpires time.Time
	// SourceIP is the caller's IP address, for acs:SourceIp conditions; ""
	// when the request did not come over HTTP (a direct invocation), and then
	// a statement with an acs:SourceIp condition never allows and always
	// denies.
	SourceIP string
	// TagRules are the protocol's own rules for tags where they differ from
	// Alibaba's, which the zero value keeps.
	TagRules TagRules
	// KeysAfter, when set, pages ListKeys by position, as AWS's API does:
	// the page is the PageSize keys listed after it (the zero position:
	// from the first), and the result a KeyPage, which says whether more
	// follow without counting them. A key made or deleted between pages
	// then moves no other out of a walk. Nil pages by number, with a total,
	// as Alibaba's API does.
	KeysAfter *KeyPosition
	// AliasesAfter does the same for ListAliases and ListAliasesByKeyId:
	// the page is the PageSize aliases (all of them, or the key's) listed
	// after it, and the result an AliasPage. Nil pages by number, with a
	// total, as Alibaba's API does.
	AliasesAfter *AliasPosition
	// GrantID is set by Handle when a grant, and not the caller's policy,
	// allowed the request: the grant's ID (for a ReEncrypt allowed on both
	// keys by grants, both, comma-separated), for the audit trail.
	GrantID string
}

// Handle runs one request: throttling and replay checks, authorization, then the
// action. The result is one of core's typed results (see results.go); errors
// are *Error (see AsError).
func (s *Service) Handle(ctx context.Context, req *Request) (any, error) {
	req.GrantID = ""
	act, c, err := s.begin(ctx, req)
	var resp any
	if err == nil {
		resp, err = act.run(c)
	}
	if err != nil && c != nil && c.dry {
		err = dryRunError(err)
	}
	if err == nil {
		s.recordUses(ctx, c)
	}
	return resp, err
}

// begin is the entry every request passes, partition provisioning included:
// the action, the caller, admission (rate and replay), the parameters' bounds,
// and the early refusal of a caller who may not run the action on any resource
// (before any store read, so an unauthorized caller learns nothing about which
// keys exist). The call comes back with that refusal, for DryRun to answer.
func (s *Service) begin(ctx context.Context, req *Request) (action, *call, error) {
	act, ok := actionTable[req.Action]
	if !ok {
		if req.Action == "" {
			return act, nil, missingParam("Action")
		}
		return act, nil, Errorf(CodeInvalidParameter, "The Action %q is not supported by this service.", ClipText(req.Action))
	}
	if req.Caller == nil || req.Caller.Policy == nil {
		return act, nil, Errorf(CodeNoPermission, "The request has no authenticated caller.")
	}
	if err := s.admit(ctx, req); err != nil {
		return act, nil, err
	}
	if err := req.Params.check(); err != nil {
		return act, nil, err
	}
	c := &call{s: s, ctx: ctx, req: req, p: req.Params, act: act.id, facts: Facts{SourceIP: req.SourceIP, Algorithm: act.algorithm}}
	if act.dryRun {
		dry, err := c.bool("DryRun", false)
		if err != nil {
			return act, nil, err
		}
		c.dry = dry
	}
	// A key's or secret's policy or a grant may still allow an action on
	// one; its caller is denied alike whether or not it exists
	// (authorizeKey, missingAlias, loadSecret).
	if !req.Caller.Policy.mayAllow(c.act) && !onResource[c.act] {
		return act, c, c.denied()
	}
	return act, c, nil
}

// dryRunError maps a DryRun outcome to the three codes DryRun answers with.
func dryRunError(err error) error {
	var ke *Error
	if !errors.As(err, &ke) {
		return err
	}
	switch ke.Code {
	case CodeInvalidParameter, CodeMissingParameter, CodeInvalidCiphertext:
		return &Error{Code: CodeValidation, Message: ke.Message}
	case CodeNoPermission:
		return &Error{Code: CodeAccessDenied, Message: ke.Message}
	}
	return err
}

var errDryRunOK = &Error{Code: CodeDryRunOperation, Message: "The request would have succeeded, but the DryRun parameter is set."}

func (s *Service) admit(ctx context.Context, req *Request) error {
	p := req.Caller
	limit := PerSecond(s.qps, s.burst)
	if p.QPS > 0 {
		limit = PerSecond(p.QPS, p.Burst)
	}
	var (
		res   = LimitResult{Allowed: true}
		fresh = true
		err   error
	)
	nonceKey, ttl, quota := "", time.Duration(0), 0
	if req.Nonce != "" {
		nonceKey = p.AccessKeyID + ":" + req.Nonce
		ttl = max(req.NonceExpires.Sub(s.clock.Now()), s.nonceTTL)
		if ttl <= 0 {
			// A nonce nobody would remember guards nothing: the entry that
			// passed it must say how long its signature stays valid.
			return internal("nonce %q of %s comes with no time to remember it", req.Nonce, p.Name)
		}
		quota = s.nonceQuota(limit)
	}
	switch nl, ok := s.limiter.(NonceLimiter); {
	case ok && nonceKey != "":
		res, fresh, err = nl.AllowAndUse(ctx, p.AccessKeyID, limit, nonceKey, ttl, quota)
	default:
		if s.limiter != nil {
			res, err = s.limiter.Allow(ctx, p.AccessKeyID, limit)
		}
		if err == nil && nonceKey != "" && s.nonces != nil && res.Allowed {
			fresh, err = s.nonces.Use(ctx, nonceKey, ttl, quota)
			if r, ok := s.limiter.(Refunder); ok && err == nil && !fresh {
				r.Refund(p.AccessKeyID, limit)
			}
		}
	}
	if err != nil {
		return admissionErr(err)
	}
	if !res.Allowed {
		return throttled(res.RetryAfter)
	}
	if !fresh {
		return Errorf(CodeSignatureNonceUsed, "The SignatureNonce has already been used by a request whose timestamp is still valid.")
	}
	return nil
}

// spend takes one request from a bucket of the limiter other than the
// caller's request rate, for work that costs far more than a request: the
// caller is throttled as admission throttles it.
func (s *Service) spend(ctx context.Context, key string, l Limit) error {
	if s.limiter == nil {
		return nil
	}
	res, err := s.limiter.Allow(ctx, key, l)
	if err != nil {
		return admissionErr(err)
	}
	if !res.Allowed {
		return throttled(res.RetryAfter)
	}
	return nil
}

// throttled is the answer to a caller over one of its limits.
func throttled(retryAfter time.Duration) *Error {
	return &Error{Code: CodeThrottling, Message: "QPS Limit Exceeded", RetryAfter: retryAfter}
}

// admissionErr is the answer to a failed admission: the caller is throttled
// when it holds its quota of nonces; otherwise the backend failed. Apart from
// admit so that the error's variable escapes only on this path.
func admissionErr(err error) error {
	var qe *NonceQuotaError
	if errors.As(err, &qe) {
		return throttled(qe.RetryAfter)
	}
	return storeErr(fmt.Errorf("admission: %w", err))
}

// nonceQuota is the most live nonces a principal with limit l may hold: what
// its rate admits over the longest validity window, and no more than its share
// of the nonce memory.
func (s *Service) nonceQuota(l Limit) int {
	share := int(s.share.Load())
	if l.Rate <= 0 || l.Period <= 0 {
		return share
	}
	q := max(l.Burst, 1) + int(float64(l.Rate)*float64(s.window)/float64(l.Period))
	if share > 0 && q > share {
		q = share
	}
	return q
}

// SetNonceShare sets Config.NonceShare anew, for when the principals who
// share the nonce memory change: a principal already holding more live
// nonces is refused new ones until enough expire.
func (s *Service) SetNonceShare(n int) { s.share.Store(int64(n)) }

// call is the state of one running action.
type call struct {
	s   *Service
	ctx context.Context
	req *Request
	p   Params
	act actionID // ramActions[act] is its name in policies
	dry bool
	// changes is set by actions that change the key they resolve: a key past
	// its deletion date that they meet is purged there (loadKey).
	changes bool
	// destination is set while a ReEncrypt authorizes its destination key,
	// which a grant, or a key policy in AWS's language, allows by
	// ReEncryptTo where the source takes ReEncryptFrom.
	destination bool
	// used are the keys the request uses, which Handle records as used
	// when it succeeds (markUsed).
	used [2]string
	// facts are what policy conditions see: the action sets the encryption
	// context it uses before resolving a key, and resolving sets the key's
	// tags.
	facts Facts
	// aliasKey is the key whose aliases kms:ResourceAliases reads (facts'
	// aliases is this call), and aliases their names once read (nil
	// before), so that a request no condition asks of pays one field;
	// aliasErr is the store's failure to list them.
	aliasKey string
	aliases  *[]string
	aliasErr error
}

// keyAliases reads the names of aliasKey's aliases, once a key, through
// the instance's cache: what kms:ResourceAliases reads. A store that fails
// leaves them unknown, and is asked no more for the key.
func (c *call) keyAliases() ([]string, bool) {
	if c.aliases == nil {
		if c.aliasErr != nil {
			return nil, false
		}
		names, err := cached(c.s.aliasCache, c.aliasKey, false, c.listAliasNames)
		if err != nil {
			c.aliasErr = err
			return nil, false
		}
		c.aliases = &names
	}
	return *c.aliases, true
}

// listAliasNames reads the names of aliasKey's aliases from the store.
func (c *call) listAliasNames() ([]string, error) {
	as, _, err := c.s.store.ListAliases(c.ctx, c.aliasKey, c.s.clock.Now(), Page{})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(as))
	for i := range as {
		names[i] = as[i].Name
	}
	return names, nil
}

func (c *call) denied() *Error { return c.deniedTo(c.act) }

func (c *call) deniedTo(act actionID) *Error {
	if c.aliasErr != nil {
		// The refusal may be the store's doing: one that answers again may
		// allow the request, so the caller is told to retry.
		return AsError(storeErr(c.aliasErr))
	}
	name := ramActions[act]
	if aws := awsActionName(act, c.destination); aws != name {
		// A key policy in AWS's language names it so.
		name += " (" + aws + " in AWS's policy language)"
	}
	return Errorf(CodeNoPermission, "The caller %q is not authorized to perform %s on the requested resource.", c.req.Caller.Name, name)
}

// authorize checks the caller's policy for this action on resources, with
// the facts known so far.
func (c *call) authorize(resources ...string) error {
	if c.req.Caller.Policy.allows(c.act, &c.facts, resources...) {
		return nil
	}
	return c.denied()
}

// authorizeAlso checks the caller's policy for another action on resources,
// where this action does that one's work too.
func (c *call) authorizeAlso(action string, resources ...string) error {
	act := idOf(action)
	if c.req.Caller.Policy.allows(act, &c.facts, resources...) {
		return nil
	}
	return c.deniedTo(act)
}

// authorizeKey authorizes the action on key id, and on alias when the key was
// reached through one, and loads the key into k: the caller's own policy,
// then the key's (keypolicy.go), then the caller's grants. A caller its own
// policy could never allow is denied alike whether or not the key exists.
// On an error k is left zero.
func (c *call) authorizeKey(k *Key, id, alias string) error {
	// A failure to list an earlier key's aliases decided that key alone.
	c.aliasErr = nil
	c.facts.RequestAlias = alias
	pol := c.req.Caller.Policy
	// A policy that covers every resource for the action reads none of
	// their ARNs, so they are built only for one that may.
	var resources []string
	if pol.readsResources(c.act) {
		resources = make([]string, 0, 2)
		if alias != "" {
			resources = append(resources, c.s.AliasARN(alias))
		}
		resources = append(resources, c.s.KeyARN(id))
	}
	// Without conditions the facts change nothing, so the caller's own
	// verdict is known before the key is read; with them, whether it
	// could be.
	var own bool
	if pol.conditional {
		own = pol.mayAllowOn(c.act, resources...)
	} else {
		own = pol.allows(c.act, &c.facts, resources...)
	}
	if err := c.loadKey(k, id); err != nil {
		if !own && AsError(err).Code == CodeKeyNotFound {
			return c.denied()
		}
		return err
	}
	if own && pol.conditional {
		c.keyFacts(k)
		own = pol.allows(c.act, &c.facts, resources...)
	}
	if err := c.underKeyPolicy(k, own, resources); err != nil {
		return err
	}
	c.markUsed(k.ID)
	return nil
}

// underKeyPolicy finishes authorizing the action on key k, loaded, which
// the caller's own policy allows (own) or does not: an explicit Deny in
// either policy refuses it, an Allow of the key's policy to the caller
// allows it, one to the account leaves it to own, and where none allows,
// a grant may. On an error k is left zero.
func (c *call) underKeyPolicy(k *Key, own bool, resources []string) error {
	kp, err := c.policyOf(&c.s.keyPolicies, "key", k.ID, k.Policy)
	if err != nil {
		*k = Key{}
		return err
	}
	c.keyFacts(k)
	switch c.underPolicy(c.act, c.destination, kp, own, resources) {
	case keyAllows:
		return nil
	case keyDenies:
		*k = Key{}
		return c.denied()
	}
	return c.byGrant(k)
}

// keyFacts adds what conditions read of key k to the request's facts: its
// tags, its kind and, read only if a condition asks, its aliases.
func (c *call) keyFacts(k *Key) {
	c.facts.Tags = k.Tags
	c.facts.setKind(k.KeySpec, k.KeyUsage)
	if c.aliasKey != k.ID {
		c.aliasKey, c.aliases = k.ID, nil
	}
	c.facts.aliases = c
}

// KeyARN is the ARN of a key.
func (s *Service) KeyARN(id string) string { return s.arnPrefix + "key/" + id }

// AliasARN is the ARN of an alias ("alias/…").
func (s *Service) AliasARN(name string) string { return s.arnPrefix + name }

// SecretARN is the ARN of a secret.
func (s *Service) SecretARN(name string) string { return s.arnPrefix + "secret/" + name }

// PartitionARN is the ARN of a partition record.
func (s *Service) PartitionARN(id string) string { return s.arnPrefix + "partition/" + id }

// target is a key found from a KeyId parameter.
type target struct {
	key Key
}

// keyRef is what a KeyId parameter names: a key ID, or an alias ("alias/…").
type keyRef struct {
	keyID, alias string
}

// parseRef reads a KeyId parameter: a key ID, "alias/…", or the ARN of either in
// this region and account. Each spelling has one reading: "key/" in an ARN is
// followed by a key ID, never by an alias.
func (c *call) parseRef(param string) (keyRef, error) {
	ref, err := c.required(param)
	if err != nil {
		return keyRef{}, err
	}
	return c.parseRefValue(param, ref)
}

// parseRefValue reads ref, the value of param, as parseRef does.
func (c *call) parseRefValue(param, ref string) (keyRef, error) {
	s := c.s
	if strings.HasPrefix(ref, "acs:kms:") {
		rest, ok := strings.CutPrefix(ref, s.arnPrefix)
		if !ok {
			return keyRef{}, Errorf(CodeKeyNotFound, "The key %q is not in this region and account.", ClipText(ref))
		}
		if id, ok := strings.CutPrefix(rest, "key/"); ok {
			if !validKeyID(id) {
				return keyRef{}, invalidParam(param, "the key ARN does not end in a key ID")
			}
			return keyRef{keyID: id}, nil
		}
		if !strings.HasPrefix(rest, "alias/") {
			return keyRef{}, invalidParam(param, "it is not a key or alias ARN")
		}
		ref = rest
	}
	if strings.HasPrefix(ref, "alias/") {
		if err := validAliasName(param, ref); err != nil {
			return keyRef{}, err
		}
		return keyRef{alias: ref}, nil
	}
	if !validKeyID(ref) {
		return keyRef{}, invalidParam(param, "it is not a key ID, alias or ARN")
	}
	return keyRef{keyID: ref}, nil
}

// resolve finds the key a KeyId parameter names and authorizes the action on it,
// and on the alias used, if any: a Deny on either refuses, an Allow on either
// admits (see the README's policy section).
func (c *call) resolve(param string) (target, error) {
	var t target
	err := c.resolveKey(&t.key, param)
	return t, err
}

// resolveKey is resolve into k, for the paths that pass the key on by
// pointer (see loadKey). On an error k is left zero.
func (c *call) resolveKey(k *Key, param string) error {
	ref, err := c.parseRef(param)
	if err != nil {
		return err
	}
	return c.resolveRef(k, ref)
}

// resolveRef is resolveKey for a reference already read.
func (c *call) resolveRef(k *Key, ref keyRef) error {
	s := c.s
	keyID := ref.keyID
	if ref.alias != "" {
		a, err := s.cache.Alias(c.ctx, ref.alias, s.getAlias)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return c.missingAlias(ref.alias)
			}
			return storeErr(err)
		}
		keyID = a.KeyID
	}
	err := c.authorizeKey(k, keyID, ref.alias)
	if ref.alias != "" && err != nil && AsError(err).Code == CodeKeyNotFound {
		// The alias went with its key (past its deletion date, purged or
		// not).
		return c.missingAlias(ref.alias)
	}
	return err
}

// missingAlias is the answer for an alias that does not exist. Only a caller
// allowed on the alias learns that; to anyone else a missing alias looks like
// one they may not use, so aliases cannot be probed.
func (c *call) missingAlias(name string) error {
	if !c.req.Caller.Policy.mayAllowOn(c.act, c.s.AliasARN(name)) {
		return c.denied()
	}
	return Errorf(CodeAliasNotFound, "The alias %q does not exist.", name)
}

// loadKey reads a key through the cache into k (a key is some 300 bytes:
// the data-key path fills the caller's copy rather than return one through
// every level). A key whose deletion date has passed is gone to every caller,
// but reading it never deletes it: reads and DryRuns write nothing. An action
// that changes the key purges it here (storedKey). On an error k is left
// zero.
func (c *call) loadKey(k *Key, id string) error {
	var err error
	if *k, err = c.s.cache.Key(c.ctx, id, c.s.getKey); err == nil && c.s.deleted(k) {
		err = fmt.Errorf("key %s is past its deletion date: %w", id, ErrNotFound)
		if c.changes {
			*k, err = c.s.storedKey(c.ctx, id)
		}
	}
	if err != nil {
		*k = Key{}
		return keyErr(id, err)
	}
	k.State = c.s.stateOf(k)
	return nil
}

// deleted reports whether k's deletion window has ended. A key with no
// deletion date, nearly every key a request uses, costs no clock read.
func (s *Service) deleted(k *Key) bool {
	return !k.DeleteAt.IsZero() && k.PastDeletion(s.clock.Now())
}

// scanBatch is how many records a walk over a whole listing (keys, secrets)
// reads from the store at a time.
const scanBatch = 500

// eachKey calls fn with every key the store lists at asOf (zero: every
// stored key, past its deletion date or not), oldest first, reading the
// listing scanBatch keys at a time. It stops at fn's first error and returns
// it; a store error comes back wrapped as "list keys".
func (s *Service) eachKey(ctx context.Context, asOf time.Time, fn func(*Key) error) error {
	for k, err := range s.keysAfter(ctx, asOf, KeyPosition{}, scanBatch) {
		if err == nil {
			err = fn(k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// keysAfter yields the keys the store lists at asOf after the position
// after, in the store's order, reading batch keys at a time until the
// caller stops. Each read resumes after the last key of the one before, so
// a key that lasts the whole walk comes exactly once, whatever keys are
// made or deleted meanwhile, and a walk costs what it reads. A store error
// is yielded once, wrapped as "list keys", and ends the walk.
func (s *Service) keysAfter(ctx context.Context, asOf time.Time, after KeyPosition, batch int) iter.Seq2[*Key, error] {
	return func(yield func(*Key, error) bool) {
		for {
			keys, err := s.store.ListKeysAfter(ctx, asOf, after, batch)
			if err != nil {
				yield(nil, fmt.Errorf("list keys: %w", err))
				return
			}
			for i := range keys {
				if !yield(&keys[i], nil) {
					return
				}
			}
			if len(keys) == 0 || len(keys) < batch {
				return
			}
			after = keys[len(keys)-1].Position()
		}
	}
}

func storeErr(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return &Error{Code: CodeServiceUnavailableTemporary, Message: "The key store is temporarily unavailable; retry later.", cause: err}
	}
	return internal("store: %w", err)
}

// usable checks that a key may be used for cryptographic operations.
func usable(k *Key) error {
	switch k.State {
	case KeyEnabled:
		return nil
	case KeyDisabled:
		return Errorf(CodeDisabled, "The key %q is disabled.", k.ID)
	case KeyPendingDeletion:
		return Errorf(CodePendingDeletion, "The key %q is pending deletion.", k.ID)
	case KeyPendingImport:
		return Errorf(CodePendingImport, "The key %q has no key material; import it first.", k.ID)
	}
	return internal("key %s has unknown state %q", k.ID, k.State)
}

// version returns the envelope of one version of key k, unwrapping it once
// per instance. Only a key that encrypts has one.
func (s *Service) version(ctx context.Context, k *Key, versionID string) (*Envelope, error) {
	if err := encrypts(k); err != nil {
		return nil, err
	}
	e, err := s.unwrapped(ctx, k, versionID, func(material []byte) (any, error) {
		return envelope(k.KeySpec, KeyVersion{KeyID: k.ID, VersionID: versionID}, material)
	})
	if err != nil {
		return nil, err
	}
	env, ok := e.(*Envelope)
	if !ok {
		return nil, internal("key %s version %s holds no envelope", k.ID, versionID)
	}
	return env, nil
}

// unwrapped returns what build makes of one version of key k's material,
// made once per instance (the keyring) from the material, which is cleared
// after.
func (s *Service) unwrapped(ctx context.Context, k *Key, versionID string, build func([]byte) (any, error)) (any, error) {
	ref := VersionOf(k, versionID)
	if e, ok := s.ring.get(ref); ok {
		return e, nil
	}
	material, err := s.material(ctx, k, versionID)
	if err != nil {
		return nil, err
	}
	defer clear(material)
	e, err := build(material)
	if err != nil {
		return nil, internal("key %s version %s: %w", k.ID, versionID, err)
	}
	s.ring.put(ref, e)
	return e, nil
}

// material returns one version of key k's material, unwrapped; the caller
// clears it. A version missing from the store is ErrNotFound, and so is
// one that holds no material while its key is usable: an EXTERNAL key's
// material withdrawn before its rotation, which a blob may still name.
func (s *Service) material(ctx context.Context, k *Key, versionID string) ([]byte, error) {
	v, err := s.cache.Version(ctx, VersionOf(k, versionID), s.getVersion)
	if err != nil {
		return nil, err
	}
	m, err := s.roots.open(v)
	if err != nil {
		// A cache may still hold the version as it was before a root
		// rotation re-wrapped it under the current key, or before its
		// material was imported again.
		switch fresh, ferr := s.store.GetVersion(ctx, k.ID, versionID); {
		case ferr == nil && len(fresh.Wrapped) == 0:
			return nil, fmt.Errorf("key %s version %s holds no material: %w", k.ID, versionID, ErrNotFound)
		case ferr == nil && !bytes.Equal(fresh.Wrapped, v.Wrapped):
			m, err = s.roots.open(fresh)
		}
	}
	if err != nil {
		return nil, internal("key %s version %s: %w", k.ID, versionID, err)
	}
	return m, nil
}

// primary returns the key's primary version ID and envelope, rotating first
// when automatic rotation is due.
func (s *Service) primary(ctx context.Context, k *Key) (string, *Envelope, error) {
	if next := k.NextRotation(); !next.IsZero() && !s.clock.Now().Before(next) {
		rotated, err := s.rotate(ctx, *k, true, false)
		if err != nil {
			return "", nil, err
		}
		k = &rotated
	}
	e, err := s.version(ctx, k, k.PrimaryVersionID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", nil, internal("key %s has no primary version %s", k.ID, k.PrimaryVersionID)
		}
		return "", nil, storeErr(err)
	}
	return k.PrimaryVersionID, e, nil
}

type noCache struct{}

func (noCache) Key(ctx context.Context, id string, load func(context.Context, string) (Key, error)) (Key, error) {
	return load(ctx, id)
}
func (noCache) Alias(ctx context.Context, name string, load func(context.Context, string) (Alias, error)) (Alias, error) {
	return load(ctx, name)
}
func (noCache) Version(ctx context.Context, ref VersionRef, load func(context.Context, string, string) (KeyVersion, error)) (KeyVersion, error) {
	return load(ctx, ref.KeyID, ref.VersionID)
}
func (noCache) InvalidateKey(context.Context, string)   {}
func (noCache) InvalidateAlias(context.Context, string) {}
