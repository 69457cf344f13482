package rpc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/sign"
)

// APIVersion is the one Alibaba Cloud KMS API version this service speaks.
const APIVersion = "2016-01-20"

// Defaults for Options fields left zero.
const (
	DefaultClockSkew = 15 * time.Minute
	DefaultMaxBody   = 1 << 20
)

// Options configure the handler. KMS and Principals are required.
type Options struct {
	KMS        *core.Service
	Principals *core.Directory
	// ClockSkew is how far a signed request's timestamp may be from the
	// server's clock (default 15 minutes).
	ClockSkew time.Duration
	// MaxBody bounds the request body in bytes (default 1 MiB).
	MaxBody int64
	// Logger receives one debug line per request and the causes of internal
	// failures (default: discard).
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
// signature established: the principal and, for replay checks, the nonce ("" if
// none) and when the signature expires; or a *core.Error.
type Authenticator func(r *http.Request, params url.Values, body []byte) (sign.Result, error)

type handler struct {
	kms     *core.Service
	auth    Authenticator
	maxBody int64
	log     *slog.Logger
}

// New returns the HTTP handler of the RPC API. It panics if opts.KMS or
// opts.Principals is nil: that is a wiring mistake, not a runtime condition.
func New(opts Options) http.Handler {
	if opts.KMS == nil || opts.Principals == nil {
		panic("rpc: Options.KMS and Options.Principals are required")
	}
	h := &handler{kms: opts.KMS, auth: opts.Authenticator, maxBody: opts.MaxBody, log: opts.Logger}
	if opts.ClockSkew <= 0 {
		opts.ClockSkew = DefaultClockSkew
	}
	if h.auth == nil {
		h.auth = signatureAuthenticator(opts.Principals, opts.ClockSkew, opts.Clock)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// exchange is what one request has revealed so far, for the response and the
// log line.
type exchange struct {
	id        string
	action    string
	principal string
	format    format
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := exchange{id: core.NewRequestID()}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.logPanic(r.Context(), &x, v)
			h.writeError(w, r, &x, &core.Error{Code: core.CodeInternalFailure, Message: "The request failed because of an internal error."})
			h.logRequest(r.Context(), &x, core.CodeInternalFailure, start)
		}
	}()
	resp, err := h.serve(w, r, &x)
	if err != nil {
		ke := core.AsError(err)
		if ke.ServerFault() {
			h.logCause(r.Context(), &x, ke)
		}
		h.writeError(w, r, &x, ke)
		h.logRequest(r.Context(), &x, ke.Code, start)
		return
	}
	h.writeResponse(w, &x, resp)
	h.logRequest(r.Context(), &x, "OK", start)
}

// serve runs the request up to the response value.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, x *exchange) (any, error) {
	x.format = formatAsked(r.URL.RawQuery)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return nil, core.Errorf(core.CodeInvalidParameter, "The HTTP method %s is not supported; use GET or POST.", r.Method)
	}
	if r.URL.Path != "/" {
		return nil, core.Errorf(core.CodeInvalidParameter, "The path %q does not exist; send requests to /.", r.URL.Path)
	}
	body, err := h.readBody(w, r)
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
	caller := id.Principal
	if caller == nil {
		return nil, core.Errorf(core.CodeInvalidAccessKeyID, "The request does not name a known AccessKeyId.")
	}
	x.principal = caller.Name
	action, err := actionOf(r, all)
	x.action = action
	if err != nil {
		return nil, err
	}
	return h.kms.Handle(r.Context(), &core.Request{ID: x.id, Action: action, Params: actionParams(all), Caller: caller, Nonce: id.Nonce, NonceExpires: id.Expires, SourceIP: sourceIP(r)})
}

// readBody reads the whole body, refusing one larger than MaxBody.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, nil
	}
	tooLarge := core.Errorf(core.CodeInvalidParameter, "The request body is larger than %d bytes.", h.maxBody)
	if r.ContentLength > h.maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return nil, tooLarge
		}
		return nil, core.Errorf(core.CodeInvalidParameter, "The request body could not be read completely.")
	}
	return body, nil
}

func (h *handler) logRequest(ctx context.Context, x *exchange, code string, start time.Time) {
	if !h.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	h.log.LogAttrs(ctx, slog.LevelDebug, "request",
		slog.String("requestId", x.id), slog.String("action", x.action), slog.String("principal", x.principal),
		slog.String("code", code), slog.Duration("duration", time.Since(start)))
}

// logCause records why a request failed on the service side. Causes come from
// core and the stores, which keep key material and parameter values out of them.
func (h *handler) logCause(ctx context.Context, x *exchange, ke *core.Error) {
	attrs := []slog.Attr{slog.String("requestId", x.id), slog.String("action", x.action), slog.String("code", ke.Code)}
	if cause := ke.Unwrap(); cause != nil {
		attrs = append(attrs, slog.String("cause", cause.Error()))
	}
	h.log.LogAttrs(ctx, slog.LevelError, "request failed", attrs...)
}

// logPanic records a recovered panic. Only a runtime error's text is logged:
// it is the runtime's own (an index, a nil pointer), whereas any other panic
// value could carry data from the request.
func (h *handler) logPanic(ctx context.Context, x *exchange, v any) {
	what := fmt.Sprintf("panic of type %T", v)
	if re, ok := v.(runtime.Error); ok {
		what = re.Error()
	}
	h.log.LogAttrs(ctx, slog.LevelError, "panic while serving a request",
		slog.String("requestId", x.id), slog.String("action", x.action), slog.String("principal", x.principal),
		slog.String("panic", what), slog.String("stack", string(debug.Stack())))
}
