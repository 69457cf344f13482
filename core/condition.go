package core

import (
	"cmp"
	"fmt"
	"net/netip"
	"strings"
)

// Condition is one test of a statement's Condition block: Operator applied to
// the request's value(s) of Key against Values. Within a statement every
// condition must hold; within a condition one matching value suffices (for the
// negated operators: no value may match).
//
// Operators: StringEquals, StringNotEquals, StringLike, StringNotLike, Bool,
// IpAddress, NotIpAddress; the String ones also as ForAllValues:… and
// ForAnyValue:… for multi-valued keys. Keys: kms:EncryptionContext:<name>,
// kms:EncryptionContextKeys (multi-valued), kms:tag/<name>,
// kms:DataKeyPairSpec, kms:EncryptionAlgorithm, kms:SigningAlgorithm,
// kms:MacAlgorithm, kms:KeyAgreementAlgorithm, kms:KeySpec, kms:KeyUsage
// and acs:SourceIp.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Facts are what a request tells conditions: its encryption context, the tags
// and the kind (KeySpec and KeyUsage) of the key it uses (CreateKey's: the
// kind it asks for), the KeyPairSpec of a data key pair it asks for, the
// algorithm it asks for and the caller's IP address ("" when the request
// came another way than HTTP, such as a direct function invocation).
type Facts struct {
	Context EncryptionContext
	Tags    map[string]string
	// spec and usage are the key's kind by core's names, known when
	// hasKind; AWS's names are looked up only for a condition that reads
	// them (kind).
	spec, usage     string
	hasKind         bool
	Algorithm       *Algorithm
	DataKeyPairSpec string
	SourceIP        string
	// Grant is the grant a CreateGrant would make, which kms:GranteePrincipal,
	// kms:RetiringPrincipal, kms:GrantOperations and
	// kms:GrantIsForAWSResource read; nil on every other request.
	Grant *Grant
	// RequestAlias is the alias ("alias/…") by which the request named the
	// key being authorized, which kms:RequestAlias reads; "" when it named
	// the key by ID or ARN, or not at all (a ciphertext's key).
	RequestAlias string
	// aliases reads the aliases of the key being authorized (keyAliases),
	// which kms:ResourceAliases reads, once a condition asks; nil before a
	// key is read and on requests without one.
	aliases *call
}

// Algorithm is an algorithm a request asks for, in AWS's name, and the
// condition key of its kind, which reads it: kms:EncryptionAlgorithm
// (SYMMETRIC_DEFAULT for every request that seals or opens under a
// symmetric key, or an RSAES algorithm), kms:SigningAlgorithm,
// kms:MacAlgorithm or kms:KeyAgreementAlgorithm. A request's facts point
// into the tables of algorithms, so that naming one costs it nothing.
type Algorithm struct {
	key  keyKind
	name string
}

// symmetricDefault is the algorithm of the envelope operations.
var symmetricDefault = Algorithm{keyEncryptionAlgorithm, "SYMMETRIC_DEFAULT"}

// KeyKind is a KeySpec and KeyUsage that keys are made in, in AWS's names,
// as the condition keys kms:KeySpec and kms:KeyUsage read them.
type KeyKind struct{ Spec, Usage string }

// madeKind is a kind by core's names and AWS's.
type madeKind struct {
	spec, usage string
	aws         KeyKind
}

// keyKinds are the kinds keys are made in. A request's facts point into
// it, so that naming the kind of its key costs it nothing.
var keyKinds = func() []madeKind {
	var out []madeKind
	for _, spec := range KeySpecs() {
		for _, usage := range usagesOf(spec) {
			out = append(out, madeKind{spec, usage, KeyKind{AWSKeySpec(spec), AWSKeyUsage(usage)}})
		}
	}
	return out
}()

// Makes reports whether keys of kind, in AWS's names, are made here.
func Makes(kind KeyKind) bool {
	for i := range keyKinds {
		if keyKinds[i].aws == kind {
			return true
		}
	}
	return false
}

// setKind records the kind of the key a request uses or asks for.
func (f *Facts) setKind(spec, usage string) { f.spec, f.usage, f.hasKind = spec, usage, true }

// kind is the kind of the request's key in AWS's names, nil when it is not
// known or not made here.
func (f *Facts) kind() *KeyKind {
	if !f.hasKind {
		return nil
	}
	return kindOf(f.spec, f.usage)
}

// kindOf is the kind of a key of spec and usage, nil for a kind not made
// here.
func kindOf(spec, usage string) *KeyKind {
	spec, usage = cmp.Or(spec, SpecAES), cmp.Or(usage, UsageEncrypt) // as keys read before either was recorded
	for i := range keyKinds {
		if k := &keyKinds[i]; k.spec == spec && k.usage == usage {
			return &k.aws
		}
	}
	return nil
}

// AWSKeySpec is AWS's name of a KeySpec: SYMMETRIC_DEFAULT for a symmetric
// encryption key, the same name for any other.
func AWSKeySpec(spec string) string {
	if spec == SpecAES || spec == "" {
		return "SYMMETRIC_DEFAULT"
	}
	return spec
}

// AWSKeyUsage is AWS's name of a KeyUsage: ENCRYPT_DECRYPT, SIGN_VERIFY,
// GENERATE_VERIFY_MAC or KEY_AGREEMENT, which core spells as AWS does.
func AWSKeyUsage(usage string) string {
	switch usage {
	case UsageEncrypt, "":
		return "ENCRYPT_DECRYPT"
	case UsageSign:
		return "SIGN_VERIFY"
	case UsageMAC:
		return "GENERATE_VERIFY_MAC"
	}
	return usage
}

type opKind uint8

const (
	opStringEquals opKind = iota
	opStringLike
	opBool
	opIP
)

type setKind uint8

const (
	single setKind = iota
	forAll
	forAny
)

type keyKind uint8

const (
	keyContext keyKind = iota
	keyContextKeys
	keyTag
	keyDataKeyPairSpec
	keyMacAlgorithm
	keySigningAlgorithm
	keyEncryptionAlgorithm
	keyKeyAgreementAlgorithm
	keyKeySpec
	keyKeyUsage
	keySourceIP
	keyGranteePrincipal
	keyRetiringPrincipal
	keyGrantOperations
	keyGrantIsForAWSResource
	keyRequestAlias
	keyResourceAliases
)

// condition is a Condition compiled: operator and key resolved once.
type condition struct {
	op     opKind
	negate bool
	set    setKind
	key    keyKind
	name   string // the context key or tag name
	values []string
	nets   []netip.Prefix
}

// compileCondition checks a condition and compiles it. An operator or key it
// does not know is an error: ignoring a condition would widen an Allow.
func compileCondition(c Condition) (condition, error) {
	var cc condition
	op := c.Operator
	if rest, ok := strings.CutPrefix(op, "ForAllValues:"); ok {
		cc.set, op = forAll, rest
	} else if rest, ok := strings.CutPrefix(op, "ForAnyValue:"); ok {
		cc.set, op = forAny, rest
	}
	switch op {
	case "StringEquals":
		cc.op = opStringEquals
	case "StringNotEquals":
		cc.op, cc.negate = opStringEquals, true
	case "StringLike":
		cc.op = opStringLike
	case "StringNotLike":
		cc.op, cc.negate = opStringLike, true
	case "Bool":
		cc.op = opBool
	case "IpAddress":
		cc.op = opIP
	case "NotIpAddress":
		cc.op, cc.negate = opIP, true
	default:
		return condition{}, fmt.Errorf("condition operator %q is not supported", ClipText(c.Operator))
	}
	lk := strings.ToLower(c.Key)
	switch {
	case strings.HasPrefix(lk, "kms:encryptioncontext:") && len(c.Key) > len("kms:EncryptionContext:"):
		cc.key, cc.name = keyContext, c.Key[len("kms:EncryptionContext:"):]
	case lk == "kms:encryptioncontextkeys":
		cc.key = keyContextKeys
	case strings.HasPrefix(lk, "kms:tag/") && len(c.Key) > len("kms:tag/"):
		cc.key, cc.name = keyTag, c.Key[len("kms:tag/"):]
	case strings.HasPrefix(lk, "aws:resourcetag/") && len(c.Key) > len("aws:ResourceTag/"):
		// AWS's name for the same.
		cc.key, cc.name = keyTag, c.Key[len("aws:ResourceTag/"):]
	case lk == "kms:datakeypairspec":
		cc.key = keyDataKeyPairSpec
	case lk == "kms:macalgorithm":
		cc.key = keyMacAlgorithm
	case lk == "kms:signingalgorithm":
		cc.key = keySigningAlgorithm
	case lk == "kms:encryptionalgorithm":
		cc.key = keyEncryptionAlgorithm
	case lk == "kms:keyagreementalgorithm":
		cc.key = keyKeyAgreementAlgorithm
	case lk == "kms:keyspec":
		cc.key = keyKeySpec
	case lk == "kms:keyusage":
		cc.key = keyKeyUsage
	case lk == "acs:sourceip" || lk == "aws:sourceip":
		cc.key = keySourceIP
	case lk == "kms:granteeprincipal":
		cc.key = keyGranteePrincipal
	case lk == "kms:retiringprincipal":
		cc.key = keyRetiringPrincipal
	case lk == "kms:grantoperations":
		cc.key = keyGrantOperations
	case lk == "kms:grantisforawsresource":
		cc.key = keyGrantIsForAWSResource
	case lk == "kms:requestalias":
		cc.key = keyRequestAlias
	case lk == "kms:resourcealiases":
		cc.key = keyResourceAliases
	default:
		return condition{}, fmt.Errorf("condition key %q is not supported", ClipText(c.Key))
	}
	multi := cc.key == keyContextKeys || cc.key == keyGrantOperations || cc.key == keyResourceAliases
	switch {
	case multi && cc.set == single:
		return condition{}, fmt.Errorf("condition key %q has many values: use ForAllValues:%s or ForAnyValue:%s", ClipText(c.Key), op, op)
	case !multi && cc.set != single:
		return condition{}, fmt.Errorf("condition key %q has one value: %s applies only to multi-valued keys", ClipText(c.Key), ClipText(c.Operator))
	case (cc.op == opIP) != (cc.key == keySourceIP):
		return condition{}, fmt.Errorf("%s does not apply to condition key %q", op, ClipText(c.Key))
	case len(c.Values) == 0:
		return condition{}, fmt.Errorf("condition %s on %q has no values", ClipText(c.Operator), ClipText(c.Key))
	}
	cc.values = c.Values
	for _, v := range c.Values {
		switch cc.op {
		case opBool:
			if v != "true" && v != "false" {
				return condition{}, fmt.Errorf("Bool condition on %q: value %q is not true or false", ClipText(c.Key), ClipText(v))
			}
		case opIP:
			p, err := parsePrefix(v)
			if err != nil {
				return condition{}, fmt.Errorf("%s condition: %q is not an IP address or CIDR block", op, ClipText(v))
			}
			cc.nets = append(cc.nets, p)
		}
	}
	return cc, nil
}

func parsePrefix(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// verdict is what a condition says: it holds, it does not, or it cannot be
// told (the fact it needs is unknown to this request).
type verdict uint8

const (
	holds verdict = iota
	fails
	unknown
)

// eval tests the condition against f. A missing single value is an empty set:
// the positive operators fail on it and the negated ones hold, ForAllValues
// holds and ForAnyValue fails, as RAM and IAM evaluate them. The source IP is
// the exception: a request with none (a direct invocation) cannot be told, so
// an Allow that needs it does not apply and a Deny that names it does.
func (cc *condition) eval(f *Facts) verdict {
	if f == nil {
		return unknown
	}
	// A single value sits in one, so that the common case allocates nothing.
	var one [1]string
	var vals []string
	switch cc.key {
	case keyContext:
		if v, ok := f.Context[cc.name]; ok {
			one[0] = v
			vals = one[:]
		}
	case keyContextKeys:
		vals = make([]string, 0, len(f.Context))
		for k := range f.Context {
			vals = append(vals, k)
		}
	case keyTag:
		if v, ok := f.Tags[cc.name]; ok {
			one[0] = v
			vals = one[:]
		}
	case keyDataKeyPairSpec:
		if f.DataKeyPairSpec != "" {
			one[0] = f.DataKeyPairSpec
			vals = one[:]
		}
	case keyMacAlgorithm, keySigningAlgorithm, keyEncryptionAlgorithm, keyKeyAgreementAlgorithm:
		if f.Algorithm != nil && f.Algorithm.key == cc.key {
			one[0] = f.Algorithm.name
			vals = one[:]
		}
	case keyKeySpec:
		if k := f.kind(); k != nil {
			one[0] = k.Spec
			vals = one[:]
		}
	case keyKeyUsage:
		if k := f.kind(); k != nil {
			one[0] = k.Usage
			vals = one[:]
		}
	case keySourceIP:
		if _, err := netip.ParseAddr(f.SourceIP); err != nil {
			return unknown
		}
		one[0] = f.SourceIP
		vals = one[:]
	case keyGranteePrincipal:
		if f.Grant != nil {
			one[0] = f.Grant.Grantee
			vals = one[:]
		}
	case keyRetiringPrincipal:
		if f.Grant != nil && f.Grant.Retiring != "" {
			one[0] = f.Grant.Retiring
			vals = one[:]
		}
	case keyGrantIsForAWSResource:
		if f.Grant != nil {
			// No grant here is for an AWS service's resource.
			one[0] = "false"
			vals = one[:]
		}
	case keyGrantOperations:
		if f.Grant != nil {
			vals = f.Grant.Operations
		}
	case keyRequestAlias:
		if f.RequestAlias != "" {
			one[0] = f.RequestAlias
			vals = one[:]
		}
	case keyResourceAliases:
		if f.aliases != nil {
			var ok bool
			if vals, ok = f.aliases.keyAliases(); !ok {
				// The store did not answer: an Allow that needs them does
				// not apply and a Deny that names them does.
				return unknown
			}
		}
	}
	var ok bool
	switch cc.set {
	case forAll:
		ok = true
		for _, v := range vals {
			if !cc.test(v) {
				ok = false
				break
			}
		}
	case forAny:
		for _, v := range vals {
			if cc.test(v) {
				ok = true
				break
			}
		}
	default:
		ok = len(vals) == 0 && cc.negate || len(vals) == 1 && cc.test(vals[0])
	}
	if ok {
		return holds
	}
	return fails
}

// test applies the operator to one request value: for a negated operator,
// true when no condition value matches.
func (cc *condition) test(v string) bool {
	match := false
	switch cc.op {
	case opStringEquals:
		for _, w := range cc.values {
			if v == w {
				match = true
				break
			}
		}
	case opStringLike:
		match = matchAny(cc.values, v, false)
	case opBool:
		for _, w := range cc.values {
			if strings.EqualFold(v, w) {
				match = true
				break
			}
		}
	case opIP:
		a, _ := netip.ParseAddr(v) // eval parsed it already
		a = a.Unmap()
		for _, n := range cc.nets {
			if n.Contains(a) {
				match = true
				break
			}
		}
	}
	return match != cc.negate
}

// evalAll combines a statement's conditions: all must hold; an unknown one
// makes the whole unknown unless another fails.
func evalAll(cs []condition, f *Facts) verdict {
	out := holds
	for i := range cs {
		switch cs[i].eval(f) {
		case fails:
			return fails
		case unknown:
			out = unknown
		}
	}
	return out
}
