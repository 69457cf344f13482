package rpc

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/sign"
)

// APIVersion is the one Alibaba Cloud KMS API version this service speaks.
const APIVersion = "2016-01-20"

// Options configure the handler. KMS and Principals are required.
type Options struct {
	KMS        *core.Service
	Principals *core.Directory
	// Edge is the instance's edge (default: one logging to Logger).
	Edge *edge.Edge
	// Action, when set, is the one action served: a per-action function's.
	// A request signed for another is refused with InvalidParameter.
	Action string
	// ClockSkew is how far a signed request's timestamp may be from the
	// server's clock.
	ClockSkew time.Duration
	// MaxBody bounds the request body in bytes.
	MaxBody int64
	// Logger is where the default Edge logs (default: discard).
	Logger *slog.Logger
	// Authenticator replaces signature verification; nil means
	// SignatureAuthenticator(Principals, ClockSkew) on Clock.
	Authenticator Authenticator
	// Clock is the time signatures are checked against (default: the system
	// clock); give core.Service the same one.
	Clock core.Clock
}

// Authenticator identifies the caller of a request from the request, all its
// parameters (query and form body) and its raw body. It returns what the
// signature established: the principal, the action and version it covers and,
// for replay checks, the nonce ("" if none) and when the signature expires; or
// a *core.Error.
type Authenticator func(r *http.Request, params url.Values, body []byte) (sign.Result, error)

type handler struct {
	kms     *core.Service
	edge    *edge.Edge
	only    string
	auth    Authenticator
	maxBody int64
}

// New returns the HTTP handler of the RPC API. It panics if opts.KMS or
// opts.Principals is nil, or ClockSkew or MaxBody is not positive: that is a
// wiring mistake, not a runtime condition (infra/config sets them).
func New(opts Options) http.Handler {
	if opts.KMS == nil || opts.Principals == nil || opts.ClockSkew <= 0 || opts.MaxBody <= 0 {
		panic("rpc: Options.KMS, Principals, ClockSkew and MaxBody are required")
	}
	h := &handler{kms: opts.KMS, edge: opts.Edge, only: opts.Action, auth: opts.Authenticator, maxBody: opts.MaxBody}
	if h.auth == nil {
		h.auth = signatureAuthenticator(opts.Principals, opts.ClockSkew, opts.Clock)
	}
	if h.edge == nil {
		h.edge = edge.New(opts.Logger)
	}
	return h
}

// exchange is what one request has revealed so far, for the response.
type exchange struct {
	*edge.Exchange
	format format
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{Exchange: h.edge.Begin(r.Context()), format: formatAsked(r.URL.RawQuery)}
	x.Entry, x.UserAgent, x.SourceIP = "alibaba-rpc", r.UserAgent(), edge.SourceIP(r)
	// The answer is encoded before the edge writes the audit record, which
	// may withhold it: released either way.
	var buf *bytes.Buffer
	_, ke := h.edge.Run(r.Context(), x.Exchange, func() (any, error) {
		result, err := h.serve(w, r, x)
		if err != nil {
			return nil, err
		}
		resp, err := alibaba.Response(h.kms, x.ID, result)
		if err != nil {
			return nil, err
		}
		buf, err = encode(x.format, x.Action+"Response", resp)
		return buf, err
	})
	if buf != nil {
		defer release(buf)
	}
	if ke != nil {
		h.writeError(w, r, x, ke)
		return
	}
	write(w, x, http.StatusOK, buf.Bytes())
}

// serve runs the request up to core's result.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, x *exchange) (any, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return nil, core.Errorf(core.CodeInvalidParameter, "The HTTP method %s is not supported; use GET or POST.", core.ClipText(r.Method))
	}
	if r.URL.Path != "/" {
		return nil, core.Errorf(core.CodeInvalidParameter, "The path %q does not exist; send requests to /.", core.ClipText(r.URL.Path))
	}
	body, err := edge.ReadBody(w, r, h.maxBody)
	if err != nil {
		return nil, err
	}
	all, err := parseParams(r, body)
	if err != nil {
		return nil, err
	}
	if x.format, err = responseFormat(all); err != nil {
		return nil, err
	}
	id, err := h.auth(r, all, body)
	if err != nil {
		return nil, err
	}
	if id.Principal == nil {
		return nil, core.Errorf(core.CodeInvalidAccessKeyID, "The request does not name a known AccessKeyId.")
	}
	x.Principal, x.AccessKeyID, x.Action = id.Principal.Name, id.Principal.AccessKeyID, id.Action
	if err := h.checkAction(id); err != nil {
		return nil, err
	}
	x.Params = actionParams(all)
	req := &core.Request{ID: x.ID, Action: id.Action, Params: x.Params,
		Caller: id.Principal, Nonce: id.Nonce, NonceExpires: id.Expires, SourceIP: x.SourceIP}
	result, err := h.kms.Handle(r.Context(), req)
	x.Result, x.GrantID = result, req.GrantID
	return result, err
}

// checkAction checks the version the signature covers and, on a per-action
// function, the action.
func (h *handler) checkAction(id sign.Result) error {
	switch id.Version {
	case APIVersion:
	case "":
		return core.Errorf(core.CodeMissingParameter, "The parameter Version is required (x-acs-version header or Version parameter); it must be %s.", APIVersion)
	default:
		return core.Errorf(core.CodeInvalidParameter, "The parameter Version is invalid: this service speaks API version %s only.", APIVersion)
	}
	if h.only != "" && id.Action != h.only {
		return core.Errorf(core.CodeInvalidParameter, "This function serves the %s action only, not %s: invoke that action's own function or the api function.", h.only, core.ClipText(id.Action))
	}
	return nil
}
