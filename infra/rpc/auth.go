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
	return signatureAuthenticator(dir, skew, nil)
}

// signatureAuthenticator is SignatureAuthenticator on clock (nil: the system
// clock).
func signatureAuthenticator(dir *core.Directory, skew time.Duration, clock core.Clock) Authenticator {
	if clock == nil {
		clock = core.SystemClock{}
	}
	return func(r *http.Request, params url.Values, body []byte) (sign.Result, error) {
		return sign.Verify(r, params, body, dir, clock.Now(), skew)
	}
}
