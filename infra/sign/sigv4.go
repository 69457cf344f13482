package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
)

// sigV4 is the one AWS signature algorithm accepted; SigV4a (ECDSA, for
// multi-region access points) is not used by KMS clients.
const sigV4 = "AWS4-HMAC-SHA256"

// SigV4Skew is how far an AWS request's X-Amz-Date may be from the server's
// clock: AWS's own five minutes.
const SigV4Skew = 5 * time.Minute

// sigV4Service is the service name in the credential scope.
const sigV4Service = "kms"

// sigV4InvocationID is the header in which the AWS SDKs send a fresh ID for
// each call; the SDKs for Go and JavaScript sign it, botocore does not.
const sigV4InvocationID = "amz-sdk-invocation-id"

// sigV4MustSign are the headers a SigV4 signature has to cover: host binds the
// endpoint, x-amz-date the time, x-amz-target the operation, and content-type
// how the body is read. Each left unsigned could be changed in flight.
var sigV4MustSign = []string{"content-type", "host", "x-amz-date", "x-amz-target"}

const amzDateFormat = "20060102T150405Z"

// VerifySigV4 authenticates an AWS request signed with SigV4 in an
// Authorization header, for service kms in region. body is the raw body: its
// SHA-256 is the payload hash the signature covers, so a changed body fails
// (an X-Amz-Content-Sha256 header, if any, must say the same). now is the
// server's time; the request's X-Amz-Date must be within SigV4Skew of it.
//
// The work before the caller is known is linear in the size of the headers and
// bounded by MaxAuthorizationLen and MaxSignedHeaders; the body is hashed only
// once the access key is known and the date is in the window.
//
// The Result's Action is the X-Amz-Target header (signed), and its Nonce the
// signature itself, in lower-case hex: SigV4 carries no nonce, and the
// signature is what makes a request unique when it signs an invocation ID
// (Repeatable says it does not). The hex is read in either case, so
// the nonce is written in one: otherwise each re-casing of a captured
// signature would be a fresh nonce for the same request. Errors are *core.Error with code IncompleteSignature,
// SignatureDoesNotMatch, InvalidAccessKeyId.NotFound or IllegalTimestamp, and
// never carry the secret, the expected signature or the string to sign.
func VerifySigV4(r *http.Request, body []byte, dir *core.Directory, region string, now time.Time) (Result, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return Result{}, incomplete("The request is not signed: it has no Authorization header.")
	}
	if len(header) > MaxAuthorizationLen {
		return Result{}, incomplete("The Authorization header is longer than %d bytes.", MaxAuthorizationLen)
	}
	a, err := parseAuthorization(header)
	if err != nil {
		return Result{}, incomplete("The Authorization header must read AWS4-HMAC-SHA256 Credential=<AccessKeyId>/<date>/<region>/kms/aws4_request, SignedHeaders=<headers>, Signature=<hex>.")
	}
	if a.Algorithm != sigV4 {
		return Result{}, incomplete("The signature algorithm %q is not supported; sign with AWS4-HMAC-SHA256.", core.ClipText(a.Algorithm))
	}
	keyID, scope, ok := strings.Cut(a.Credential, "/")
	if !ok || keyID == "" {
		return Result{}, incomplete("The Credential must read <AccessKeyId>/<date>/<region>/kms/aws4_request.")
	}
	parts := strings.Split(scope, "/")
	if len(parts) != 4 || parts[3] != "aws4_request" {
		return Result{}, incomplete("The Credential must read <AccessKeyId>/<date>/<region>/kms/aws4_request.")
	}
	signed, err := splitSignedHeaders(a.SignedHeaders)
	if err != nil {
		return Result{}, err
	}
	sig, err := signatureBytes(a.Signature)
	if err != nil {
		return Result{}, err
	}
	for _, n := range sigV4MustSign {
		if _, ok := slices.BinarySearch(signed, n); !ok {
			return Result{}, incomplete("SignedHeaders must include %s.", n)
		}
	}
	var one [2]string
	for i, name := range [...]string{"x-amz-date", "x-amz-target"} {
		if one[i], err = single(r, name); err != nil {
			return Result{}, err
		}
	}
	date, target := one[0], one[1]
	if r.Header.Get("X-Amz-Security-Token") != "" {
		// Every principal here holds a long-term key; a session token names
		// a temporary credential this service never issued.
		return Result{}, core.Errorf(core.CodeInvalidAccessKeyID, "The security token included in the request is invalid: this service issues no temporary credentials.")
	}
	p := dir.Lookup(keyID)
	if p == nil {
		return Result{}, errUnknownKey
	}
	at, err := time.Parse(amzDateFormat, date)
	if err != nil {
		return Result{}, incomplete("The X-Amz-Date header must be a UTC time such as 20060102T150405Z.")
	}
	if d := now.Sub(at); d > SigV4Skew || d < -SigV4Skew {
		return Result{}, core.Errorf(core.CodeIllegalTimestamp, "Signature expired: %s is more than %s away from the server's time (%s).", date, SigV4Skew, now.UTC().Format(amzDateFormat))
	}
	switch {
	case parts[0] != date[:8]:
		return Result{}, core.Errorf(core.CodeSignatureDoesNotMatch, "The Credential's date %q is not the date of X-Amz-Date.", core.ClipText(parts[0]))
	case parts[1] != region:
		return Result{}, core.Errorf(core.CodeSignatureDoesNotMatch, "Credential should be scoped to a valid region: this service is in %s, not %q.", region, core.ClipText(parts[1]))
	case parts[2] != sigV4Service:
		return Result{}, core.Errorf(core.CodeSignatureDoesNotMatch, "Credential should be scoped to the correct service: kms, not %q.", core.ClipText(parts[2]))
	}
	sum := sha256.Sum256(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && !hashMatches(h, sum) {
		return Result{}, core.Errorf(core.CodeSignatureDoesNotMatch, "The X-Amz-Content-Sha256 header is not the SHA-256 of the request body.")
	}
	creq, err := canonicalRequestV4(r, signed, sum)
	if err != nil {
		return Result{}, err
	}
	creqSum := sha256.Sum256(creq)
	sts := make([]byte, 0, len(sigV4)+len(date)+len(scope)+3+2*sha256.Size)
	sts = append(sts, sigV4+"\n"...)
	sts = append(sts, date...)
	sts = append(sts, '\n')
	sts = append(sts, scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, creqSum[:])
	k := daySigningKey(p, parts[0], region)
	mac := hmac.New(sha256.New, k[:])
	clear(k[:]) // a copy, on the heap: the HMAC keeps its own states
	mac.Write(sts)
	var got [sha256.Size]byte
	if !hmac.Equal(mac.Sum(got[:0]), sig[:]) {
		return Result{}, core.Errorf(core.CodeSignatureDoesNotMatch,
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return Result{Principal: p, Nonce: hex.EncodeToString(sig[:]), Repeatable: !signsInvocationID(r, signed),
		Action: target, Time: at, Expires: at.Add(SigV4Skew)}, nil
}

// signsInvocationID reports whether r's signature covers an invocation ID
// that is not blank, read as the signature reads it: only then can two calls
// with the same body, signed within one second, be told apart.
func signsInvocationID(r *http.Request, signed []string) bool {
	if _, ok := slices.BinarySearch(signed, sigV4InvocationID); !ok {
		return false
	}
	for _, v := range headerValues(r, sigV4InvocationID) {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// dayKey is a principal's SigV4 key for one day and region.
type dayKey struct {
	day, region string
	key         [sha256.Size]byte
}

// dayKeys holds each principal's latest day key: deriving one costs four
// HMACs, a third of verifying a request, and it changes once a day. One entry
// per principal loaded, so the map is bounded by the principals files read.
var dayKeys sync.Map // *core.Principal → *dayKey

func daySigningKey(p *core.Principal, day, region string) [sha256.Size]byte {
	if v, ok := dayKeys.Load(p); ok {
		if dk := v.(*dayKey); dk.day == day && dk.region == region {
			return dk.key
		}
	}
	dk := &dayKey{day: day, region: region, key: signingKey(p.Secret, day, region)}
	dayKeys.Store(p, dk)
	return dk.key
}

// signingKey derives the day's SigV4 key for kms in region from secret.
func signingKey(secret core.Secret, day, region string) [sha256.Size]byte {
	var k [sha256.Size]byte
	defer clear(k[:]) // on the heap, where each step's key was; the result is a copy
	h := secret.MAC(sha256.New, "AWS4", "")
	for _, part := range [...]string{day, region, sigV4Service, "aws4_request"} {
		h.Write([]byte(part))
		h.Sum(k[:0])
		h = hmac.New(sha256.New, k[:])
	}
	return k
}

// canonicalRequestV4 is SigV4's canonical request. Services other than S3
// sign the path as sent (EscapedPath), percent-encoded once more.
func canonicalRequestV4(r *http.Request, signed []string, payload [sha256.Size]byte) ([]byte, error) {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b := make([]byte, 0, 512+len(r.URL.RawQuery)*3/2)
	return appendCanonical(b, r, path, signed, sigV4Values, hex.EncodeToString(payload[:]))
}

// appendHeaderValueV4 appends a header's SigV4 value: each value trimmed with
// runs of spaces made one, several joined by "," in the order received.
func appendHeaderValueV4(b []byte, r *http.Request, name string) []byte {
	if name == "host" {
		host := r.Host
		if host == "" {
			host = r.Header.Get("Host")
		}
		return appendCollapsed(b, host)
	}
	if name == "content-length" && r.Header.Get("Content-Length") == "" && r.ContentLength >= 0 {
		// Some servers and triggers keep the length out of the header map.
		return strconv.AppendInt(b, r.ContentLength, 10)
	}
	for i, v := range headerValues(r, name) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCollapsed(b, v)
	}
	return b
}

func appendCollapsed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, c)
	}
	return b
}
