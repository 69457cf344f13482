package core

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kmsless/kmsless/internal/strictjson"
)

// DefaultPolicyName is the name of a key's one policy.
const DefaultPolicyName = "default"

// MaxKeyPolicySize is the longest key policy document, in bytes: AWS's
// bound.
const MaxKeyPolicySize = 32768

// A key's policy decides, with the caller's own policy (the principals
// file's), who may do what with the key, as AWS's key policies do:
//
//   - An explicit Deny in either, for the caller, beats everything.
//   - An Allow to the caller by name, or to every principal ("*"), allows
//     by itself.
//   - An Allow to the account (AWS's arn:aws:iam::<account>:root, RAM's
//     acs:ram::<account>:*) leaves it to the caller's own policy: this is
//     the default policy, every action to the account, which a key without
//     a policy of its own has, so that for it the caller's policy alone
//     decides.
//   - A grant may allow what neither does (see grants.go).
//
// A document is in AWS's language (Version "2012-10-17", actions as AWS
// names them: kms:Sign, kms:PutKeyPolicy, kms:ReEncryptFrom) or RAM's
// (Version "1", actions as the principals file names them). Resource is
// "*", the key itself. Principals of other accounts, roles and services
// are accepted and match no caller, since none can call here.
//
// A secret's policy is read, kept and decides alike, on the actions on the
// secret (authorizeSecret), without grants.

// policyDocument is a key policy as its JSON spells it.
type policyDocument struct {
	Version   string           `json:"Version"`
	ID        string           `json:"Id"`
	Statement policyStatements `json:"Statement"`
}

// policyStatements is one statement or a list of them.
type policyStatements []policyStatement

func (s *policyStatements) UnmarshalJSON(b []byte) error {
	if t := strings.TrimSpace(string(b)); t != "" && t[0] == '{' {
		var one policyStatement
		if err := strictjson.UnmarshalKnown(b, &one); err != nil {
			return err
		}
		*s = policyStatements{one}
		return nil
	}
	var many []policyStatement
	if err := strictjson.UnmarshalKnown(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

type policyStatement struct {
	Sid       string                             `json:"Sid"`
	Effect    string                             `json:"Effect"`
	Principal *policyPrincipal                   `json:"Principal"`
	Action    PolicyList                         `json:"Action"`
	Resource  PolicyList                         `json:"Resource"`
	Condition map[string]map[string]PolicyValues `json:"Condition"`
}

// policyPrincipal is a statement's Principal: "*", or the principals of
// each kind.
type policyPrincipal struct {
	Any               bool
	AWS, RAM, Service PolicyList
}

func (p *policyPrincipal) UnmarshalJSON(b []byte) error {
	var star string
	if json.Unmarshal(b, &star) == nil {
		if star != "*" {
			return errors.New(`a Principal is "*" or an object of principals by kind (AWS, RAM, Service)`)
		}
		p.Any = true
		return nil
	}
	var kinds struct {
		AWS     PolicyList `json:"AWS"`
		RAM     PolicyList `json:"RAM"`
		Service PolicyList `json:"Service"`
	}
	if err := strictjson.UnmarshalKnown(b, &kinds); err != nil {
		return err
	}
	p.AWS, p.RAM, p.Service = kinds.AWS, kinds.RAM, kinds.Service
	return nil
}

// PolicyList is a policy element that is one string or a list of them
// (Action, Resource, a kind of Principal).
type PolicyList []string

func (l *PolicyList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = PolicyList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be a string or a list of strings")
	}
	*l = many
	return nil
}

// PolicyValues are a condition's values: one or a list of strings,
// booleans or numbers. Conditions compare text, so each value is kept as
// the text the document writes it in ("010", "1.0"), not as the number
// JSON would make of it; a boolean is "true" or "false", as Bool
// conditions take it.
type PolicyValues []string

func (v *PolicyValues) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber() // a number's text, as written
	var one any
	if err := dec.Decode(&one); err != nil {
		return err
	}
	list, ok := one.([]any)
	if !ok {
		list = []any{one}
	}
	*v = make(PolicyValues, 0, len(list))
	for _, e := range list {
		switch e := e.(type) {
		case string:
			*v = append(*v, e)
		case json.Number:
			*v = append(*v, string(e))
		case bool:
			*v = append(*v, strconv.FormatBool(e))
		default:
			return ErrConditionValue
		}
	}
	return nil
}

// ErrConditionValue refuses a condition value of another kind.
var ErrConditionValue = errors.New("a condition value must be a string, a boolean, a number or a list of them")

// NewStatement is a statement with its conditions as a policy document
// writes them, operator → condition key → values, read in a fixed order.
func NewStatement[V ~[]string](effect string, action, resource []string, conds map[string]map[string]V) Statement {
	st := Statement{Effect: effect, Action: action, Resource: resource}
	for _, op := range slices.Sorted(maps.Keys(conds)) {
		for _, key := range slices.Sorted(maps.Keys(conds[op])) {
			st.Condition = append(st.Condition, Condition{Operator: op, Key: key, Values: []string(conds[op][key])})
		}
	}
	return st
}

// keyPolicy is a key policy document compiled: the statements as a Policy,
// whom each names, and which statements name each action in the
// document's language.
type keyPolicy struct {
	p   *Policy
	who []principalSet
	// naming holds, per action (by actionID), the statements whose Action
	// matches its name in the document's language; reTo those naming the
	// destination side of a ReEncrypt (AWS's kms:ReEncryptTo).
	naming [][]int
	reTo   []int
}

// principalSet is whom a statement names.
type principalSet struct {
	everyone, account bool
	users             []string
}

// reach is how a statement reaches a caller: not at all, through the
// account (the caller's own policy decides), or by name.
type reach uint8

const (
	reachNone reach = iota
	reachAccount
	reachDirect
)

// none reports whether the set names no caller there can be here.
func (ps *principalSet) none() bool { return !ps.everyone && !ps.account && len(ps.users) == 0 }

// errNeverHolds is staticConditions' answer for conditions that hold for no
// request here.
var errNeverHolds = errors.New("the conditions hold for no request")

// staticConditions settles the conditions on what is the same for every
// request here, and returns the others. kms:CallerAccount is always the
// service's account, in either spelling (KMS_ACCOUNT_ID or its AWS 12
// digits); kms:ViaService is never set, since no AWS service calls here.
// A condition that holds is dropped; one that fails makes the statement
// apply to no request (errNeverHolds).
func (s *Service) staticConditions(conds map[string]map[string]PolicyValues) (map[string]map[string]PolicyValues, error) {
	var rest map[string]map[string]PolicyValues
	never := false
	// In a fixed order, and every one read, so that a document is refused
	// or taken the same way each time.
	for _, op := range slices.Sorted(maps.Keys(conds)) {
		for _, key := range slices.Sorted(maps.Keys(conds[op])) {
			var facts []string
			switch strings.ToLower(key) {
			case "kms:calleraccount":
				facts = []string{s.account, AWSAccount(s.account)}
			case "kms:viaservice":
			default:
				if rest == nil {
					rest = make(map[string]map[string]PolicyValues)
				}
				if rest[op] == nil {
					rest[op] = make(map[string]PolicyValues)
				}
				rest[op][key] = conds[op][key]
				continue
			}
			holds, err := staticCondition(op, conds[op][key], facts)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", ClipText(op), key, err)
			}
			never = never || !holds
		}
	}
	if never {
		return nil, errNeverHolds
	}
	return rest, nil
}

// staticCondition evaluates a string condition on a key whose value is one
// of facts, or absent when there are none.
func staticCondition(op string, values, facts []string) (bool, error) {
	negate, like := false, false
	switch op {
	case "StringEquals":
	case "StringNotEquals":
		negate = true
	case "StringLike":
		like = true
	case "StringNotLike":
		negate, like = true, true
	default:
		return false, errors.New("it takes StringEquals, StringNotEquals, StringLike or StringNotLike")
	}
	hit := false
	for _, v := range values {
		for _, f := range facts {
			hit = hit || v == f || like && Match(v, f)
		}
	}
	return hit != negate, nil
}

func (ps *principalSet) reach(name string) reach {
	switch {
	case ps.everyone || slices.Contains(ps.users, name):
		return reachDirect
	case ps.account:
		return reachAccount
	}
	return reachNone
}

// awsActionNames are the names AWS's policies give actions whose names
// here are Alibaba's; the others are the same in both languages.
var awsActionNames = map[string]string{
	"AsymmetricSign":    "kms:Sign",
	"AsymmetricVerify":  "kms:Verify",
	"AsymmetricEncrypt": "kms:Encrypt",
	"AsymmetricDecrypt": "kms:Decrypt",
	"DeleteKeyMaterial": "kms:DeleteImportedKeyMaterial",
	"SetKeyPolicy":      "kms:PutKeyPolicy",
	"ReEncrypt":         "kms:ReEncryptFrom",
}

// reEncryptTo is AWS's name for the destination side of a ReEncrypt.
const reEncryptTo = "kms:ReEncryptTo"

// awsActionName is action id's name in AWS's policy language, on the
// destination side of a ReEncrypt when to.
func awsActionName(id actionID, to bool) string {
	name := ramActions[id]
	if n, ok := awsActionNames[name[len("kms:"):]]; ok {
		name = n
	}
	if to && name == "kms:ReEncryptFrom" {
		name = reEncryptTo
	}
	return name
}

// errMalformed refuses a key's or a secret's (what) policy document.
func errMalformed(what, format string, args ...any) *Error {
	return Errorf(CodeMalformedPolicy, "The "+what+" policy is malformed: "+format, args...)
}

// compileDocument reads and checks a key's or a secret's (what) policy
// document: both are read alike.
func (s *Service) compileDocument(what, doc string) (*keyPolicy, error) {
	if len(doc) > MaxKeyPolicySize {
		return nil, errMalformed(what, "it is longer than %d bytes.", MaxKeyPolicySize)
	}
	var d policyDocument
	if err := strictjson.UnmarshalKnown([]byte(doc), &d); err != nil {
		return nil, errMalformed(what, "%v.", strictjson.Redact(err))
	}
	if len(d.Statement) == 0 {
		return nil, errMalformed(what, "it holds no Statement.")
	}
	aws := true
	switch d.Version {
	case "", "2012-10-17", "2008-10-17":
	case "1":
		aws = false
	default:
		return nil, errMalformed(what, "Version is %q; it must be 2012-10-17 (AWS's language) or 1 (RAM's).", ClipText(d.Version))
	}
	sts := make([]Statement, len(d.Statement))
	who := make([]principalSet, len(d.Statement))
	for i, st := range d.Statement {
		if st.Principal == nil {
			return nil, errMalformed(what, "statement %d names no Principal.", i)
		}
		var err error
		if who[i], err = s.principalsOf(st.Principal); err != nil {
			return nil, errMalformed(what, "statement %d: %v.", i, err)
		}
		for _, a := range st.Action {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "kms:") {
				return nil, errMalformed(what, "statement %d: the action %q is not one of KMS's (kms:…).", i, ClipText(a))
			}
		}
		if len(st.Resource) == 0 || slices.ContainsFunc(st.Resource, func(r string) bool { return r != "*" }) {
			return nil, errMalformed(what, `statement %d: a %s policy's Resource is "*", the %s it is on.`, i, what, what)
		}
		conds := st.Condition
		if who[i].none() {
			// No caller here is one it names: its conditions never
			// decide, whatever keys they read (a service's ArnLike on
			// aws:SourceArn, say), and are kept only in the document.
			conds = nil
		} else if conds, err = s.staticConditions(conds); errors.Is(err, errNeverHolds) {
			who[i], conds = principalSet{}, nil
		} else if err != nil {
			return nil, errMalformed(what, "statement %d: %v.", i, err)
		}
		sts[i] = NewStatement(st.Effect, st.Action, st.Resource, conds)
	}
	p, err := compileStatements(sts)
	if err != nil {
		return nil, errMalformed(what, "%v.", err)
	}
	kp := &keyPolicy{p: p, who: who, naming: make([][]int, len(ramActions))}
	for id, name := range ramActions {
		if aws {
			name = awsActionName(actionID(id), false)
		}
		kp.naming[id] = p.statementsNaming(name)
	}
	kp.reTo = kp.naming[idOf("kms:ReEncrypt")]
	if aws {
		kp.reTo = p.statementsNaming(reEncryptTo)
	}
	return kp, nil
}

// principalsOf reads whom a Principal names. Principals of other accounts,
// roles and services are accepted and reach no caller; what is no
// principal at all is refused.
func (s *Service) principalsOf(p *policyPrincipal) (principalSet, error) {
	var ps principalSet
	if p.Any {
		ps.everyone = true
		return ps, nil
	}
	if len(p.AWS)+len(p.RAM)+len(p.Service) == 0 {
		return ps, errors.New("the Principal names no one")
	}
	account := AWSAccount(s.account)
	for _, v := range p.AWS {
		rest, isARN := strings.CutPrefix(v, "arn:aws:iam::")
		switch {
		case v == "*":
			ps.everyone = true
		case v == account || v == "arn:aws:iam::"+account+":root":
			ps.account = true
		case strings.HasPrefix(v, "arn:aws:iam::"+account+":user/"):
			// The name is all that follows, as grants read it.
			ps.users = append(ps.users, v[len("arn:aws:iam::"+account+":user/"):])
		case isARN && len(rest) > 13 && allDigits(rest[:12]) && rest[12] == ':', strings.HasPrefix(v, "arn:aws:sts::"), len(v) == 12 && allDigits(v):
			// Another account, a role or a session: no caller here.
		default:
			return ps, fmt.Errorf("%q is no AWS principal (an account, or an IAM ARN)", ClipText(v))
		}
	}
	for _, v := range p.RAM {
		switch {
		case v == "*":
			ps.everyone = true
		case v == "acs:ram::"+s.account+":*" || v == "acs:ram::"+s.account+":root":
			ps.account = true
		case strings.HasPrefix(v, s.principalPrefix()):
			ps.users = append(ps.users, v[len(s.principalPrefix()):])
		case strings.HasPrefix(v, "acs:ram::"):
			// Another account, or a role: no caller here.
		default:
			return ps, fmt.Errorf("%q is no RAM principal (acs:ram::…)", ClipText(v))
		}
	}
	for _, v := range p.Service {
		if v == "" {
			return ps, errors.New("a Service principal is empty")
		}
	}
	for _, u := range ps.users {
		if u == "" || !validText(u) {
			return ps, errors.New("a user principal has no name")
		}
	}
	return ps, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// AWSAccount is the 12-digit AWS account of an account ID (KMS_ACCOUNT_ID):
// the ID itself when it is 12 digits; its last 12 digits when it is longer
// and all digits (Alibaba's 16-digit account IDs); otherwise 12 digits
// derived from its SHA-256, so that any ID gives a stable, valid account.
func AWSAccount(id string) string {
	switch {
	case allDigits(id) && len(id) == 12:
		return id
	case allDigits(id) && len(id) > 12:
		return id[len(id)-12:]
	}
	sum := sha256.Sum256([]byte(id))
	n := binary.BigEndian.Uint64(sum[:8]) % 1_000_000_000_000
	return fmt.Sprintf("%012d", n)
}

// keyVerdict is what a key policy says of a request.
type keyVerdict uint8

const (
	keySilent    keyVerdict = iota // no statement reaches the caller for the action
	keyDelegates                   // an Allow to the account: the caller's policy decides
	keyAllows                      // an Allow to the caller by name or to all
	keyDenies                      // a Deny reaches the caller
)

// decide is what kp says of the caller name running action id (the
// destination side of a ReEncrypt when to) with facts f. A condition that
// cannot be told counts against an Allow and for a Deny.
func (kp *keyPolicy) decide(id actionID, to bool, name string, f *Facts) keyVerdict {
	stmts := kp.naming[id]
	if to {
		stmts = kp.reTo
	}
	v := keySilent
	for _, j := range stmts {
		r := kp.who[j].reach(name)
		if r == reachNone || !kp.p.applies(j, f, false, nil) {
			continue
		}
		if kp.p.statements[j].Effect == "Deny" {
			return keyDenies
		}
		if r == reachDirect {
			v = keyAllows
		} else {
			v = max(v, keyDelegates)
		}
	}
	return v
}

// policyCache keeps policies compiled, by key ID or secret name, for as
// long as the document is the same. Bounded in entries and in the
// documents' bytes (a compiled policy is a few times its document): when
// either is full it starts over.
type policyCache struct {
	mu sync.RWMutex
	m  map[string]compiledPolicy
	// bytes counts the documents the entries hold.
	bytes int
}

type compiledPolicy struct {
	doc string
	kp  *keyPolicy
}

const (
	maxKeyPolicies    = 4096
	maxKeyPolicyBytes = 256 << 10
)

// KeyPolicyLimit bounds how often one caller has a key or secret policy
// compiled: putting one, or using a key or secret whose policy its instance
// does not keep compiled. A document compiles in about 60 µs at 1 KB and
// 2–3 ms at the largest, 32 KB; 50 a second hold a caller to an eighth of a
// core, and the burst covers a new instance's first request on each of
// many keys.
var KeyPolicyLimit = PerSecond(50, 200)

// compilePolicy compiles a key's or secret's (what) policy document on
// the caller's budget.
func (c *call) compilePolicy(what, doc string) (*keyPolicy, error) {
	if err := c.s.spend(c.ctx, "key-policy:"+c.req.Caller.AccessKeyID, KeyPolicyLimit); err != nil {
		return nil, err
	}
	return c.s.compileDocument(what, doc)
}

// policyOf is the policy doc of the key or secret (what) id compiled and
// kept in pc, nil for the default policy (""). A stored document that no
// longer compiles denies rather than allows.
func (c *call) policyOf(pc *policyCache, what, id, doc string) (*keyPolicy, error) {
	if doc == "" {
		return nil, nil
	}
	if kp := pc.get(id, doc); kp != nil {
		return kp, nil
	}
	kp, err := c.compilePolicy(what, doc)
	if e := AsError(err); e != nil && e.Code == CodeMalformedPolicy {
		return nil, internal("the policy stored for %s %s does not compile: %s", what, id, e.Message)
	} else if err != nil {
		return nil, err
	}
	pc.put(id, doc, kp)
	return kp, nil
}

// get is id's policy compiled, if kept for doc.
func (pc *policyCache) get(id, doc string) *keyPolicy {
	pc.mu.RLock()
	e, ok := pc.m[id]
	pc.mu.RUnlock()
	if ok && e.doc == doc {
		return e.kp
	}
	return nil
}

// put keeps kp, id's policy doc compiled.
func (pc *policyCache) put(id, doc string, kp *keyPolicy) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.m == nil || len(pc.m) >= maxKeyPolicies || pc.bytes+len(doc) > maxKeyPolicyBytes {
		pc.m, pc.bytes = make(map[string]compiledPolicy), 0
	}
	pc.bytes += len(doc) - len(pc.m[id].doc)
	pc.m[id] = compiledPolicy{doc: doc, kp: kp}
}

// underPolicy is the verdict on action act (the destination side of a
// ReEncrypt when to) for a caller whose own policy allows it on resources
// (own) or does not, under the policy kp of a key or secret, nil for the
// default (every action to the account): an explicit Deny in either
// refuses, an Allow of kp to the caller allows, one to the account leaves
// it to own. keySilent is no Allow, which a grant may still give. The facts
// hold the key's or secret's.
func (c *call) underPolicy(act actionID, to bool, kp *keyPolicy, own bool, resources []string) keyVerdict {
	if kp == nil && own {
		return keyAllows
	}
	if !own && c.req.Caller.Policy.denies(act, &c.facts, resources) {
		return keyDenies
	}
	if kp != nil {
		switch v := kp.decide(act, to, c.req.Caller.Name, &c.facts); v {
		case keyDenies, keyAllows:
			return v
		case keyDelegates:
			if own {
				return keyAllows
			}
		}
	}
	return keySilent
}

// getKeyPolicy answers for a key's policy: the document put on it, or, for
// the default policy, none (each protocol writes that out in its own
// language).
func (c *call) getKeyPolicy() (any, error) {
	if err := c.policyName("key"); err != nil {
		return nil, err
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return KeyPolicy{KeyID: t.key.ID, Name: DefaultPolicyName, Document: t.key.Policy}, nil
}

// policyName checks the PolicyName parameter: a key or a secret (what) has
// one policy, "default", and no other is found.
func (c *call) policyName(what string) error {
	if name := c.str("PolicyName"); name != "" && name != DefaultPolicyName {
		return Errorf(CodeResourceNotFound, "A %s has no policy %q; its one policy is %q.", what, ClipText(name), DefaultPolicyName)
	}
	return nil
}

func (c *call) listKeyPolicies() (any, error) {
	t, err := c.resolve("KeyId")
	if err != nil {
		return nil, err
	}
	return Listing[KeyPolicy]{Items: []KeyPolicy{{KeyID: t.key.ID, Name: DefaultPolicyName}}, Total: 1, PageNumber: 1, PageSize: 1}, nil
}

// setKeyPolicy puts a policy document on a key (AWS's PutKeyPolicy,
// Alibaba's SetKeyPolicy).
func (c *call) setKeyPolicy() (any, error) {
	p, err := c.policyPut("key")
	if err != nil {
		return nil, err
	}
	r, err := c.changeKey(func(k *Key) error {
		if k.State == KeyPendingDeletion {
			return Errorf(CodePendingDeletion, "The key %q is pending deletion.", k.ID)
		}
		c.keyFacts(k)
		if err := c.applyPolicy(p, c.s.KeyARN(k.ID), k.Policy); err != nil {
			return err
		}
		k.Policy = p.doc
		return nil
	})
	if err == nil {
		c.s.keyPolicies.put(r.(Changed).Key.ID, p.doc, p.kp)
	}
	return r, err
}

// policyPut is a policy document being put on a key or a secret (what):
// compiled once the caller may put it (applyPolicy), and kept for the
// requests that follow.
type policyPut struct {
	what, doc string
	kp        *keyPolicy
}

// policyPut reads what SetKeyPolicy and SetSecretPolicy put: PolicyName
// and Policy.
func (c *call) policyPut(what string) (*policyPut, error) {
	if err := c.policyName(what); err != nil {
		return nil, err
	}
	doc, err := c.required("Policy")
	if err != nil {
		return nil, err
	}
	return &policyPut{what: what, doc: doc}, nil
}

// applyPolicy checks p for the key or secret at arn, whose facts the call
// holds and whose document is stored ("" for one being made): p compiled
// (once, whatever a change's tries), the lockout check, and errUnchanged
// for the document already there. CreateKey, CreateSecret,
// SetKeyPolicy and SetSecretPolicy all put a policy through it.
func (c *call) applyPolicy(p *policyPut, arn, stored string) error {
	if p.kp == nil {
		kp, err := c.compilePolicy(p.what, p.doc)
		if err != nil {
			return err
		}
		p.kp = kp
	}
	if err := c.lockout(p.kp, p.what, arn); err != nil {
		return err
	}
	if stored == p.doc {
		return errUnchanged
	}
	return nil
}

// lockout refuses a policy kp for the key or secret (what) arn, whose
// facts the call holds, that would not let the caller put another, unless
// the request says BypassPolicyLockoutSafetyCheck: AWS's check against a
// key no one can manage.
func (c *call) lockout(kp *keyPolicy, what, arn string) error {
	bypass, err := c.bool("BypassPolicyLockoutSafetyCheck", false)
	if err != nil || bypass {
		return err
	}
	set := idOf(setPolicyAction[what])
	own := c.req.Caller.Policy.allows(set, &c.facts, arn)
	if c.underPolicy(set, false, kp, own, []string{arn}) == keyAllows {
		return nil
	}
	return Errorf(CodeMalformedPolicy, "The new %s policy will not allow you to update the %s policy in the future.", what, what)
}

// setPolicyAction is the action that puts a key's or a secret's policy.
var setPolicyAction = map[string]string{"key": "kms:SetKeyPolicy", "secret": "kms:SetSecretPolicy"}

// onResource marks, by actionID, the actions on a key or a secret that its
// policy or a grant may allow a caller whose own policy allows them
// nowhere.
var onResource []bool

// resourceActions is onResource: the actions of actionGrantOps and these.
func resourceActions() []bool {
	on := make([]bool, len(ramActions))
	for _, name := range append(slices.Collect(maps.Keys(actionGrantOps)),
		"EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion",
		"UpdateKeyDescription", "UpdateRotationPolicy", "CreateKeyVersion", "ListKeyVersions",
		"DescribeKeyVersion", "EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus",
		"RotateKeyOnDemand", "ListKeyRotations", "GetKeyPolicy", "ListKeyPolicies", "SetKeyPolicy",
		"GetKeyLastUsage", "GetParametersForImport", "ImportKeyMaterial", "DeleteKeyMaterial", "TagResource",
		"UntagResource", "ListResourceTags", "SetDeletionProtection", "ListGrants", "RevokeGrant",
		"GetSecretValue", "PutSecretValue", "DescribeSecret", "UpdateSecret", "DeleteSecret",
		"RestoreSecret", "ListSecretVersionIds", "UpdateSecretVersionStage", "GetSecretPolicy",
		"SetSecretPolicy", "ReplicateKey", "UpdatePrimaryRegion", "RotateSecret", "UpdateSecretRotationPolicy") {
		on[idOf("kms:"+name)] = true
	}
	return on
}

// generateRandom returns NumberOfBytes (1–1024) random bytes. It is on no key:
// policies grant it on the key collection, like CreateKey and ListKeys.
func (c *call) generateRandom() (any, error) {
	n, ok, err := c.int("NumberOfBytes", 1, 1024)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missingParam("NumberOfBytes")
	}
	if err := c.authorize(c.s.CollectionARN("key")); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.s.rand, b); err != nil {
		return nil, internal("random: %w", err)
	}
	return Random{Bytes: b}, nil
}

// expectKey checks that the key the caller named in param, if any, is the
// one that made a blob (keyID): naming a key is a promise about the blob, and
// a broken promise is refused rather than ignored.
func (c *call) expectKey(param, keyID string) error {
	if c.str(param) == "" {
		return nil
	}
	t, err := c.resolve(param)
	if err != nil {
		return err
	}
	if t.key.ID != keyID {
		return Errorf(CodeIncorrectKey, "The ciphertext was not made under the key named by %s.", param)
	}
	return nil
}
