package rpc

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/kmsless/kmsless/core"
)

// AccessKeyAuthenticator identifies the caller by the AccessKeyId a request
// names (the Credential of an ACS3 Authorization header, or the AccessKeyId
// parameter) without checking its signature.
func AccessKeyAuthenticator(dir *core.Directory) Authenticator {
	return func(r *http.Request, params url.Values, _ []byte) (*core.Principal, string, error) {
		id, nonce := params.Get("AccessKeyId"), params.Get("SignatureNonce")
		if auth := r.Header.Get("Authorization"); auth != "" {
			id, nonce = credential(auth), r.Header.Get("x-acs-signature-nonce")
		}
		if id == "" {
			return nil, "", core.Errorf(core.CodeIncompleteSignature, "The request names no AccessKeyId.")
		}
		p := dir.Lookup(id)
		if p == nil {
			return nil, "", core.Errorf(core.CodeInvalidAccessKeyID, "The AccessKeyId is not known to this service.")
		}
		return p, nonce, nil
	}
}

// credential extracts the AccessKeyId from "ACS3-HMAC-SHA256 Credential=ID,
// SignedHeaders=…,Signature=…".
func credential(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ",")
	return strings.TrimSpace(id)
}
