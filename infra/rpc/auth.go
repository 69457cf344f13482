package rpc

import (
	"net/http"
	"net/url"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/sign"
)

// SignatureAuthenticator verifies a request's ACS3-HMAC-SHA256 or SignatureVersion
// 1.0 signature against the principals' secrets, allowing skew between the
// request's timestamp and the server's clock.
func SignatureAuthenticator(dir *core.Directory, skew time.Duration) Authenticator {
	return func(r *http.Request, params url.Values, body []byte) (*core.Principal, string, error) {
		res, err := sign.Verify(r, params, body, dir, time.Now(), skew)
		if err != nil {
			return nil, "", err
		}
		return res.Principal, res.Nonce, nil
	}
}
