package instance

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/kmsless/kmsless/core"
)

// The headers of a signed request, as the SDK names them (lower-case on the
// wire; Go's server canonicalizes them). The access key header's spelling,
// three c's, is the SDK's.
const (
	headerAPIName   = "X-Kms-Apiname"
	headerVersion   = "X-Kms-Apiversion"
	headerMethod    = "X-Kms-Signaturemethod"
	headerKeyID     = "X-Kms-Acccesskeyid"
	headerBodyHash  = "Content-Sha256"
	signedPrefix    = "x-kms-"
	apiVersion      = "dkms-gcs-0.2"
	signatureMethod = "RSA_PKCS1_SHA_256"
	bearer          = "Bearer "
)

// IsInstanceAPI reports whether r is a request of the KMS instance API: it
// names its API in a header no other protocol sends.
func IsInstanceAPI(r *http.Request) bool { return r.Header.Get(headerAPIName) != "" }

// caller is what a verified signature established.
type caller struct {
	principal *core.Principal
	api       string
}

var errMismatch = core.Errorf(core.CodeSignatureDoesNotMatch,
	"The request signature does not verify under the public key of its client key; check the private key and the signed headers.")

// authenticate verifies a request's signature: RSASSA-PKCS1-v1_5 with
// SHA-256, by the client key the request names, over its method, the
// SHA-256 of its body, its content type, its date, its x-kms- headers and
// its path (see stringToSign). Before the principal is known its work is bounded by the body,
// which the handler has bounded, and by one RSA verification; an unknown
// client key costs none, beyond a read of the store at most once a second
// (core.Service.ClientKeyCaller).
func (h *handler) authenticate(r *http.Request, body []byte) (caller, error) {
	switch {
	case r.Header.Get(headerVersion) != apiVersion:
		return caller{}, core.Errorf(core.CodeInvalidParameter, "The header x-kms-apiversion must be %s.", apiVersion)
	case r.Header.Get(headerMethod) != signatureMethod:
		return caller{}, core.Errorf(core.CodeInvalidParameter, "The header x-kms-signaturemethod must be %s.", signatureMethod)
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, bearer) {
		return caller{}, core.Errorf(core.CodeIncompleteSignature, "The request is not signed: its Authorization header is not \"Bearer\" and a signature.")
	}
	sig, err := base64.StdEncoding.DecodeString(auth[len(bearer):])
	if err != nil {
		return caller{}, core.Errorf(core.CodeIncompleteSignature, "The signature in the Authorization header is not base64.")
	}
	id := r.Header.Get(headerKeyID)
	p, pub := h.principals.LookupClientKey(id)
	if p == nil {
		// A client key CreateClientKey made: the instance keeps them all,
		// and reads the store for an ID it does not know at most once a
		// second.
		if p, pub, err = h.kms.ClientKeyCaller(r.Context(), id); err != nil {
			return caller{}, err
		}
	}
	if p == nil {
		return caller{}, core.Errorf(core.CodeInvalidAccessKeyID, "The client key named in x-kms-acccesskeyid is not known to this service.")
	}
	at, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return caller{}, core.Errorf(core.CodeIllegalTimestamp, "The Date header must be an HTTP date such as Mon, 02 Jan 2006 15:04:05 GMT.")
	}
	if d := h.clock.Now().Sub(at); d > h.skew || d < -h.skew {
		return caller{}, core.Errorf(core.CodeIllegalTimestamp, "The Date header is more than %s away from the server's time.", h.skew)
	}
	sum := sha256.Sum256(body)
	if !strings.EqualFold(r.Header.Get(headerBodyHash), hex.EncodeToString(sum[:])) {
		return caller{}, core.Errorf(core.CodeSignatureDoesNotMatch, "The Content-Sha256 header is not the SHA-256 of the body.")
	}
	sts, err := stringToSign(r)
	if err != nil {
		return caller{}, err
	}
	digest := sha256.Sum256([]byte(sts))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return caller{}, errMismatch
	}
	// The protocol signs no nonce, and RSASSA-PKCS1-v1_5 signs the same
	// request alike: one call made twice within the second its Date names
	// (two readers of one secret, say) is the same signed request twice.
	// So a request is accepted again while its Date is within the skew, as
	// AWS accepts a SigV4 request without an invocation ID; TLS, which the
	// SDK uses by default, keeps it from being captured.
	return caller{principal: p, api: r.Header.Get(headerAPIName)}, nil
}

// stringToSign is the text the client key signs: the method, the body's
// hash, the content type and the date, each on a line; every x-kms- header,
// by lower-case name in order, as "name:value" on a line; and the path,
// which is "/".
func stringToSign(r *http.Request) (string, error) {
	var b strings.Builder
	for _, v := range []string{r.Method, r.Header.Get(headerBodyHash), r.Header.Get("Content-Type"), r.Header.Get("Date")} {
		b.WriteString(v)
		b.WriteByte('\n')
	}
	var names []string
	for name, vs := range r.Header {
		if lower := strings.ToLower(name); strings.HasPrefix(lower, signedPrefix) {
			if len(vs) != 1 {
				return "", core.Errorf(core.CodeIncompleteSignature, "The header %s is given %d times; a signed header is given once.", core.ClipText(lower), len(vs))
			}
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, name := range names {
		b.WriteString(strings.ToLower(name))
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(r.Header[name][0]))
		b.WriteByte('\n')
	}
	b.WriteByte('/')
	return b.String(), nil
}
