package sign

import (
	"net/http"
	"net/textproto"
	"net/url"
	"time"

	"github.com/kmsless/kmsless/core"
)

// MaxNonceLen bounds a signature nonce. Nonces are remembered for the skew
// window, so an unbounded one would let a caller fill the nonce memory with a few
// large requests; the SDKs send 32 (hex) to 36 (UUID) characters.
const MaxNonceLen = 128

// Result is an authenticated request.
type Result struct {
	Principal *core.Principal
	// Nonce is the request's signature nonce, for core's replay check.
	Nonce string
	// Repeatable marks a SigV4 request that signs no invocation ID: one call
	// made twice within the second its date names is the same signed request
	// twice, so a repeat may be a caller's and not a replay.
	Repeatable bool
	// Action and Version are the ones the signature covers: the x-acs-action and
	// x-acs-version headers of an ACS3 request, the Action and Version parameters
	// of a SignatureVersion 1.0 one. Dispatch on these, not on unsigned copies.
	Action  string
	Version string
	// Time is the request's verified timestamp, and Expires the moment it
	// leaves the window (Time plus the skew): until then the same request
	// would verify again, so its nonce must be remembered that long.
	Time    time.Time
	Expires time.Time
}

// Verify authenticates a request signed with ACS3-HMAC-SHA256 (an Authorization
// header) or SignatureVersion 1.0 (HMAC-SHA1 or HMAC-SHA256 in SignatureMethod).
// params are all request parameters (query plus urlencoded form body), body the
// raw body bytes. now is the server's time and skew the allowed distance of the
// request's timestamp from it.
//
// It returns the principal and the request's nonce, or a *core.Error with code
// IncompleteSignature, SignatureDoesNotMatch, InvalidAccessKeyId.NotFound or
// IllegalTimestamp. Error messages never contain the secret, the expected
// signature or the string to sign: the string to sign carries every parameter,
// Encrypt's Plaintext included, and messages end up in logs.
func Verify(r *http.Request, params url.Values, body []byte, dir *core.Directory, now time.Time, skew time.Duration) (Result, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		return verifyACS3(r, auth, params, body, dir, now, skew)
	}
	if params.Has("Signature") || params.Has("AccessKeyId") || params.Has("SignatureVersion") {
		return verifyV1(r.Method, params, dir, now, skew)
	}
	return Result{}, incomplete("The request is not signed: it has neither an Authorization header nor a Signature parameter.")
}

// Forget drops what was derived from principals' secrets and kept
// (secretMACs, dayKeys), for after the principals are replaced
// (core.Directory.Replace): the entries of those replaced would otherwise
// stay in memory, keyed by principals no lookup finds any more. What is
// still used is derived again on its next request.
func Forget() {
	secretMACs.Clear()
	dayKeys.Clear()
}

func incomplete(format string, args ...any) error {
	return core.Errorf(core.CodeIncompleteSignature, format, args...)
}

var (
	errUnknownKey = core.Errorf(core.CodeInvalidAccessKeyID, "The AccessKeyId is not known to this service.")
	errMismatch   = core.Errorf(core.CodeSignatureDoesNotMatch,
		"The request signature does not match the one computed with the AccessKeySecret of its AccessKeyId; check the secret, the signing method and the signed parameters and headers.")
)

// checkTime parses a request timestamp and checks it is within skew of now.
func checkTime(name, v string, now time.Time, skew time.Duration) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, core.Errorf(core.CodeIllegalTimestamp, "The %s must be an ISO 8601 UTC time such as 2006-01-02T15:04:05Z.", name)
	}
	if d := now.Sub(t); d > skew || d < -skew {
		return time.Time{}, core.Errorf(core.CodeIllegalTimestamp, "The %s is more than %s away from the server's time (%s).", name, skew, now.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// checkNonce refuses a missing or oversized nonce.
func checkNonce(name, v string) error {
	switch {
	case v == "":
		return incomplete("The %s is required.", name)
	case len(v) > MaxNonceLen:
		return incomplete("The %s is longer than %d characters.", name, MaxNonceLen)
	}
	return nil
}

// appendPercent appends s encoded as RFC 3986 asks and Alibaba's signatures
// require: unreserved characters (letters, digits, "-", "_", ".", "~") as they
// are, every other byte as %XY with upper-case hex. keepSlash leaves "/" alone,
// for paths.
func appendPercent(b []byte, s string, keepSlash bool) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return b
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalKeys are the header map keys of the names signatures list, which
// arrive lower-case: looking a lower-case name up through http.Header would
// canonicalize it into a new string on every request.
var canonicalKeys = func() map[string]string {
	m := map[string]string{}
	for _, names := range [][]string{mustSign, sigV4MustSign, {"content-length", "content-md5", "x-amz-content-sha256", "x-amz-security-token", "x-amz-user-agent", "user-agent", "accept", sigV4InvocationID}} {
		for _, n := range names {
			m[n] = textproto.CanonicalMIMEHeaderKey(n)
		}
	}
	return m
}()

// headerValues returns the values of the header a signature names (lower-case).
func headerValues(r *http.Request, name string) []string {
	key, ok := canonicalKeys[name]
	if !ok {
		key = textproto.CanonicalMIMEHeaderKey(name)
	}
	return r.Header[key]
}
