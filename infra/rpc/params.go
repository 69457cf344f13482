package rpc

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/kmsless/kmsless/core"
)

// protocolParams are the parameters of the RPC protocol itself (signing, routing,
// response format). They are authenticated but are not an action's input.
var protocolParams = map[string]bool{
	"Action":           true,
	"Version":          true,
	"AccessKeyId":      true,
	"Signature":        true,
	"SignatureMethod":  true,
	"SignatureVersion": true,
	"SignatureNonce":   true,
	"SignatureType":    true,
	"SecurityToken":    true,
	"Timestamp":        true,
	"Format":           true,
	"RegionId":         true,
}

// parseParams gathers the parameters of the query string and, for a form body,
// of the body. A parameter given twice is refused: the signature covers both
// copies, and acting on one of them would be a guess.
func parseParams(r *http.Request, body []byte) (url.Values, error) {
	all, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, core.Errorf(core.CodeInvalidParameter, "The query string is not valid URL encoding.")
	}
	if len(body) > 0 {
		if !isForm(r.Header.Get("Content-Type")) {
			return nil, core.Errorf(core.CodeInvalidParameter, "The request body must be application/x-www-form-urlencoded.")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, core.Errorf(core.CodeInvalidParameter, "The form body is not valid URL encoding.")
		}
		for k, vs := range form {
			all[k] = append(all[k], vs...)
		}
	}
	for k, vs := range all {
		if len(vs) > 1 {
			return nil, core.Errorf(core.CodeInvalidParameter, "The parameter %s is given more than once.", core.ClipText(k))
		}
		if len(vs[0]) > core.MaxParamLen {
			return nil, core.Errorf(core.CodeInvalidParameter, "The parameter %s is longer than %d bytes.", core.ClipText(k), core.MaxParamLen)
		}
	}
	return all, nil
}

func isForm(contentType string) bool {
	const form = "application/x-www-form-urlencoded"
	return len(contentType) >= len(form) && strings.EqualFold(contentType[:len(form)], form) &&
		(len(contentType) == len(form) || contentType[len(form)] == ';' || contentType[len(form)] == ' ')
}

// actionParams is the action's input: every parameter but the protocol's own.
// Those are named one by one: an action's own may start as theirs do
// (CertificatePublicKeyVerify's SignatureValue).
func actionParams(all url.Values) core.Params {
	p := make(core.Params, len(all))
	for k, vs := range all {
		if protocolParams[k] {
			continue
		}
		p[k] = vs[0]
	}
	return p
}
