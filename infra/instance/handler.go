package instance

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/edge"
)

// ContentType is the type of every request and response body: a protocol
// buffer message.
const ContentType = "application/x-protobuf"

// Options configure the handler. KMS and Principals are required.
type Options struct {
	KMS        *core.Service
	Principals *core.Directory
	// Edge is the instance's edge (default: one logging to Logger).
	Edge *edge.Edge
	// Action, when set, is the one core action served: a per-action
	// function's. An API that maps to another is refused.
	Action string
	// ClockSkew is how far a request's Date may be from the server's clock
	// (required).
	ClockSkew time.Duration
	// MaxBody bounds the request body in bytes (required).
	MaxBody int64
	// Logger is where the default Edge logs (default: discard).
	Logger *slog.Logger
	// Clock is the time signatures are checked against (default: the system
	// clock); give core.Service the same one.
	Clock core.Clock
}

type handler struct {
	kms        *core.Service
	principals *core.Directory
	edge       *edge.Edge
	only       string
	skew       time.Duration
	maxBody    int64
	clock      core.Clock
}

// New returns the HTTP handler of the KMS instance API. It panics if
// opts.KMS or opts.Principals is nil, or ClockSkew or MaxBody is not
// positive: that is a wiring mistake, not a runtime condition.
func New(opts Options) http.Handler {
	if opts.KMS == nil || opts.Principals == nil || opts.ClockSkew <= 0 || opts.MaxBody <= 0 {
		panic("instance: Options.KMS, Principals, ClockSkew and MaxBody are required")
	}
	h := &handler{kms: opts.KMS, principals: opts.Principals, edge: opts.Edge, only: opts.Action,
		skew: opts.ClockSkew, maxBody: opts.MaxBody, clock: opts.Clock}
	if h.edge == nil {
		h.edge = edge.New(opts.Logger)
	}
	if h.clock == nil {
		h.clock = core.SystemClock{}
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := h.edge.Begin(r.Context())
	x.Entry, x.UserAgent, x.SourceIP = "alibaba-kms-instance", r.UserAgent(), edge.SourceIP(r)
	out, ke := h.edge.Run(r.Context(), x, func() (any, error) {
		api, result, err := h.serve(w, r, x)
		if err != nil {
			return nil, err
		}
		return api.render(x.ID, x.Params, result)
	})
	// The result's plaintext is cleared whatever the answer, and so is the
	// body that carried it.
	defer core.Wipe(x.Result)
	if ke != nil {
		h.writeError(w, x, ke)
		return
	}
	body := out.([]byte)
	write(w, x, http.StatusOK, body)
	clear(body)
}

// serve runs the request up to core's result.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, x *edge.Exchange) (*api, any, error) {
	body, err := edge.ReadPost(w, r, h.maxBody, "KMS instance API")
	if err != nil {
		return nil, nil, err
	}
	defer clear(body) // a plaintext, in Encrypt's
	id, err := h.authenticate(r, body)
	if err != nil {
		return nil, nil, err
	}
	x.Principal, x.AccessKeyID = id.principal.Name, r.Header.Get(headerKeyID)
	a := apis[id.api]
	if a == nil {
		return nil, nil, core.Errorf(core.CodeInvalidParameter, "The API %q is not one this service answers.", core.ClipText(id.api))
	}
	x.Action = a.action
	if h.only != "" && a.action != h.only {
		return nil, nil, core.Errorf(core.CodeInvalidParameter, "This function serves the %s action only, not %s: invoke that action's own function or the api function.", h.only, id.api)
	}
	m, err := decode(body)
	if err != nil {
		return nil, nil, err
	}
	p, err := a.params(m)
	if err != nil {
		return nil, nil, err
	}
	x.Params = p
	req := &core.Request{ID: x.ID, Action: a.action, Params: p,
		Caller: id.principal, SourceIP: x.SourceIP}
	result, err := h.kms.Handle(r.Context(), req)
	x.Result, x.GrantID = result, req.GrantID
	return a, result, err
}

// writeError answers the API's Error message, with the HTTP status the
// Alibaba API gives the code; the SDK reads the code and message from it.
func (h *handler) writeError(w http.ResponseWriter, x *edge.Exchange, ke *core.Error) {
	status := alibaba.Status(ke.Code)
	if ke.Code == core.CodeThrottling {
		w.Header().Set("Retry-After", edge.RetryAfter(ke.RetryAfter))
	}
	var o out
	o.int32(1, int32(status))
	o.str(2, ke.Code)
	o.str(3, ke.Message)
	o.str(4, x.ID)
	write(w, x, status, o)
}

func write(w http.ResponseWriter, x *edge.Exchange, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("X-Kms-Request-Id", x.ID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
