package trigger

import (
	"net/http"
	"net/url"

	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/sign"
)

// OnlyAction wraps an RPC authenticator so that a per-action function refuses,
// before any signature check, an HTTP request for another action (named by the
// x-acs-action header or the Action parameter) with InvalidParameter. The RPC
// handler writes the refusal in Alibaba's error shape like any other error.
func OnlyAction(action string, next rpc.Authenticator) rpc.Authenticator {
	return func(r *http.Request, params url.Values, body []byte) (sign.Result, error) {
		for _, named := range []string{r.Header.Get("x-acs-action"), params.Get("Action")} {
			if named != "" && named != action {
				return sign.Result{}, wrongAction(action, named)
			}
		}
		return next(r, params, body)
	}
}
