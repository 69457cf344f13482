package sign

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
)

// acs3 is the one V3 signature algorithm accepted. The SDKs also offer
// ACS3-HMAC-SM3 and ACS3-RSA-SHA256; neither is configured by default.
const acs3 = "ACS3-HMAC-SHA256"

// mustSign are the headers an ACS3 signature has to cover. The action and
// version choose what runs, the date and nonce defend against replay, the
// content hash binds the body, and host binds the endpoint: each left unsigned
// could be changed in flight without breaking the signature.
var mustSign = []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}

// authorization is a parsed "ALG Credential=…,SignedHeaders=…,Signature=…"
// header.
type authorization struct {
	Algorithm     string
	Credential    string
	SignedHeaders string
	Signature     string
}

func (a authorization) String() string {
	return a.Algorithm + " Credential=" + a.Credential + ",SignedHeaders=" + a.SignedHeaders + ",Signature=" + a.Signature
}

// MaxSignedHeaders bounds the names SignedHeaders may list. The SDKs sign six
// to nine headers; the bound keeps the work of checking an unauthenticated
// request's headers against the list small whatever the list holds.
const MaxSignedHeaders = 64

// MaxAuthorizationLen bounds the Authorization header. A header the SDKs send
// is about 250 bytes; 4 KiB leaves room for MaxSignedHeaders names of
// generous length and refuses anything larger before it is split.
const MaxAuthorizationLen = 4 << 10

var errAuthFormat = incomplete("The Authorization header must read ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<headers>,Signature=<hex>.")

// parseAuthorization splits an Authorization header into its parts. It checks
// the grammar only: each of the three fields exactly once, none empty, the
// whole at most MaxAuthorizationLen bytes.
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	if len(h) > MaxAuthorizationLen {
		return a, incomplete("The Authorization header is longer than %d bytes.", MaxAuthorizationLen)
	}
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg == "" {
		return a, errAuthFormat
	}
	a.Algorithm = alg
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return authorization{}, errAuthFormat
		}
		var dst *string
		switch k {
		case "Credential":
			dst = &a.Credential
		case "SignedHeaders":
			dst = &a.SignedHeaders
		case "Signature":
			dst = &a.Signature
		default:
			return authorization{}, errAuthFormat
		}
		if *dst != "" {
			return authorization{}, errAuthFormat
		}
		*dst = v
	}
	if a.Credential == "" || a.SignedHeaders == "" || a.Signature == "" {
		return authorization{}, errAuthFormat
	}
	return a, nil
}

// splitSignedHeaders reads SignedHeaders: lower-case names separated by ";" in
// ascending order, as the canonical form requires, so no name can appear twice;
// at most MaxSignedHeaders of them.
func splitSignedHeaders(s string) ([]string, error) {
	if n := strings.Count(s, ";") + 1; n > MaxSignedHeaders {
		return nil, incomplete("SignedHeaders lists %d names; at most %d are accepted.", n, MaxSignedHeaders)
	}
	names := strings.Split(s, ";")
	for i, n := range names {
		if n == "" || hasUpper(n) || i > 0 && names[i-1] >= n {
			return nil, incomplete("SignedHeaders must list distinct lower-case header names separated by \";\" in ascending order.")
		}
	}
	return names, nil
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func verifyACS3(r *http.Request, header string, params url.Values, body []byte, dir *core.Directory, now time.Time, skew time.Duration) (Result, error) {
	a, err := parseAuthorization(header)
	if err != nil {
		return Result{}, err
	}
	if a.Algorithm != acs3 {
		return Result{}, incomplete("The signature algorithm %q is not supported; sign with ACS3-HMAC-SHA256 or SignatureVersion 1.0.", core.ClipText(a.Algorithm))
	}
	signed, err := splitSignedHeaders(a.SignedHeaders)
	if err != nil {
		return Result{}, err
	}
	sig, err := signatureBytes(a.Signature)
	if err != nil {
		return Result{}, err
	}
	if err := checkSigned(r, signed, len(body) > 0); err != nil {
		return Result{}, err
	}
	var one [5]string
	for i, name := range [...]string{"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-action", "x-acs-version"} {
		if one[i], err = single(r, name); err != nil {
			return Result{}, err
		}
	}
	date, nonce, content, action, version := one[0], one[1], one[2], one[3], one[4]
	if err := checkNonce("x-acs-signature-nonce", nonce); err != nil {
		return Result{}, err
	}
	p := dir.Lookup(a.Credential)
	if p == nil {
		return Result{}, errUnknownKey
	}
	at, err := checkTime("x-acs-date", date, now, skew)
	if err != nil {
		return Result{}, err
	}
	if !hashMatches(content, sha256.Sum256(body)) {
		return Result{}, core.Errorf(core.CodeSignatureDoesNotMatch, "The x-acs-content-sha256 header is not the SHA-256 of the request body.")
	}
	// Most canonical requests fit this buffer, which stays on the stack.
	var buf [1024]byte
	creq, err := canonicalRequest(buf[:0], r, signed, content)
	if err != nil {
		return Result{}, err
	}
	creqSum := sha256.Sum256(creq)
	var sts [len(acs3) + 1 + 2*sha256.Size]byte
	copy(sts[:], acs3+"\n")
	hex.Encode(sts[len(acs3)+1:], creqSum[:])
	mac := secretMAC(p)
	mac.Write(sts[:])
	var got [sha256.Size]byte
	if !hmac.Equal(mac.Sum(got[:0]), sig[:]) {
		return Result{}, errMismatch
	}
	// The query is signed too; an Action or Version parameter beside the
	// headers must say the same, or which one the request means is a guess.
	for _, pair := range [][3]string{{"Action", action, "x-acs-action"}, {"Version", version, "x-acs-version"}} {
		if v := params.Get(pair[0]); v != "" && v != pair[1] {
			return Result{}, core.Errorf(core.CodeInvalidParameter, "The %s header and the %s parameter disagree.", pair[2], pair[0])
		}
	}
	return Result{Principal: p, Nonce: nonce, Action: action, Version: version, Time: at, Expires: at.Add(skew)}, nil
}

// secretMACs holds each principal's HMAC-SHA256 keyed with its secret and
// reset once, so that it holds the hash states after the padded key: a clone
// of it skips hashing those two blocks and the key setup on every request.
// The prepared states are as secret as the key and stay in process memory,
// as it does. One entry per principal loaded, like dayKeys.
var secretMACs sync.Map // *core.Principal → hash.Hash, never written to

// secretMAC returns a fresh HMAC-SHA256 under p's secret.
func secretMAC(p *core.Principal) hash.Hash {
	v, ok := secretMACs.Load(p)
	if !ok {
		mac := p.Secret.MAC(sha256.New, "", "")
		mac.Reset()
		v, _ = secretMACs.LoadOrStore(p, mac)
	}
	if c, err := v.(hash.Cloner).Clone(); err == nil {
		return c.(hash.Hash)
	}
	return p.Secret.MAC(sha256.New, "", "")
}

// signatureBytes reads the Signature of an Authorization header: an
// HMAC-SHA256 in 64 hexadecimal digits.
func signatureBytes(h string) ([sha256.Size]byte, error) {
	var sig [sha256.Size]byte
	if len(h) != hex.EncodedLen(sha256.Size) {
		return sig, errSignatureFormat
	}
	if _, err := hex.Decode(sig[:], []byte(h)); err != nil {
		return sig, errSignatureFormat
	}
	return sig, nil
}

var errSignatureFormat = incomplete("The Signature of the Authorization header must be 64 hexadecimal digits.")

// hashMatches reports whether the hex text h (either case) encodes sum.
func hashMatches(h string, sum [sha256.Size]byte) bool {
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], sum[:])
	if len(h) != len(want) {
		return false
	}
	for i := range want {
		c := h[i]
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// checkSigned refuses a signature that leaves a header unsigned whose change
// would alter the request: those in mustSign, every other x-acs-* header, and
// Content-Type when there is a body, since it decides how the body is read.
// signed is sorted and lower-case, so each header is a binary search: the work
// is linear in the number of headers, which the caller chooses before it is
// authenticated.
func checkSigned(r *http.Request, signed []string, hasBody bool) error {
	for _, n := range mustSign {
		if _, ok := slices.BinarySearch(signed, n); !ok {
			return incomplete("SignedHeaders must include %s.", n)
		}
	}
	for k := range r.Header {
		isACS := len(k) > 6 && strings.EqualFold(k[:6], "x-acs-")
		if !isACS && !(hasBody && strings.EqualFold(k, "content-type")) {
			continue
		}
		if _, ok := slices.BinarySearchFunc(signed, k, compareLower); !ok {
			return incomplete("SignedHeaders must include %s.", core.ClipText(strings.ToLower(k)))
		}
	}
	return nil
}

// compareLower compares a lower-case name with a header key as if the key were
// lower-case too (ASCII only, as header names are), without allocating.
func compareLower(name, key string) int {
	for i := 0; i < len(name) && i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if name[i] != c {
			return cmp.Compare(name[i], c)
		}
	}
	return cmp.Compare(len(name), len(key))
}

// single returns the one value of a header, refusing a missing or repeated one:
// a repeated header is signed as "a,b" but read as "a" by most code.
func single(r *http.Request, name string) (string, error) {
	vs := headerValues(r, name)
	switch {
	case len(vs) == 0 || strings.TrimSpace(vs[0]) == "":
		return "", incomplete("The %s header is required.", name)
	case len(vs) > 1:
		return "", incomplete("The %s header appears more than once.", name)
	}
	return strings.TrimSpace(vs[0]), nil
}

// canonicalRequest appends to b the V3 canonical request: method, path, sorted
// query, the signed headers with their values, their names, and the payload
// hash.
func canonicalRequest(b []byte, r *http.Request, signed []string, payloadHash string) ([]byte, error) {
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	return appendCanonical(b, r, path, signed, acs3Values, payloadHash)
}

// valueStyle is how a scheme renders a signed header's values.
type valueStyle uint8

const (
	acs3Values  valueStyle = iota // appendHeaderValue
	sigV4Values                   // appendHeaderValueV4
)

// appendCanonical appends the canonical request both signature schemes share:
// method, path (percent-encoded once more), sorted query, the signed headers
// with their values rendered in the scheme's style, their names, and the
// payload hash. (A style rather than a function value keeps the caller's
// buffer on its stack: a call through a function value moves it to the heap.)
func appendCanonical(b []byte, r *http.Request, path string, signed []string, style valueStyle, payloadHash string) ([]byte, error) {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendPercent(b, path, true)
	b = append(b, '\n')
	b, err := appendCanonicalQuery(b, r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	for _, n := range signed {
		b = append(b, n...)
		b = append(b, ':')
		if style == sigV4Values {
			b = appendHeaderValueV4(b, r, n)
		} else {
			b = appendHeaderValue(b, r, n)
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, n := range signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, n...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...), nil
}

// appendHeaderValue appends a header's canonical value: each value trimmed,
// several sorted and joined by ",". Go's server moves Host out of the header
// map.
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	if name == "host" {
		host := r.Host
		if host == "" {
			host = r.Header.Get("Host")
		}
		return append(b, strings.TrimSpace(host)...)
	}
	vs := headerValues(r, name)
	if len(vs) == 1 {
		return append(b, strings.TrimSpace(vs[0])...)
	}
	trimmed := make([]string, len(vs))
	for i, v := range vs {
		trimmed[i] = strings.TrimSpace(v)
	}
	slices.Sort(trimmed)
	return append(b, strings.Join(trimmed, ",")...)
}

type pair struct{ k, v string }

// appendCanonicalQuery appends the query's parameters sorted by name (then
// value), names and values percent-encoded per RFC 3986, whatever encoding the
// client used on the wire.
func appendCanonicalQuery(b []byte, raw string) ([]byte, error) {
	if raw == "" {
		return b, nil
	}
	pairs := make([]pair, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		uk, err1 := url.QueryUnescape(k)
		uv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, incomplete("The query string is not validly percent-encoded.")
		}
		pairs = append(pairs, pair{uk, uv})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendPercent(b, p.k, false)
		b = append(b, '=')
		b = appendPercent(b, p.v, false)
	}
	return b, nil
}
