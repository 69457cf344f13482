package awsjson

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/sign"
	"github.com/kmsless/kmsless/internal/strictjson"
)

// TargetPrefix starts the X-Amz-Target of every AWS KMS operation.
const TargetPrefix = "TrentService."

// ContentType is the AWS JSON protocol version KMS speaks.
const ContentType = "application/x-amz-json-1.1"

// Options configure the handler. KMS and Principals are required.
type Options struct {
	KMS        *core.Service
	Principals *core.Directory
	// Edge is the instance's edge (default: one logging to Logger).
	Edge *edge.Edge
	// Action, when set, is the one core action served: a per-action
	// function's. An operation that maps to another is refused.
	Action string
	// MaxBody bounds the request body in bytes (required).
	MaxBody int64
	// Logger is where the default Edge logs (default: discard).
	Logger *slog.Logger
	// Clock is the time signatures are checked against (default: the system
	// clock); give core.Service the same one.
	Clock core.Clock
	// AllowRepeats accepts a request that signs no invocation ID again while
	// its date is valid, as AWS does (KMS_SIGV4_REPEATS=allow). By default
	// it is accepted once, like every other signed request.
	AllowRepeats bool
}

type handler struct {
	kms     *core.Service
	dir     *core.Directory
	edge    *edge.Edge
	only    string
	maxBody int64
	clock   core.Clock
	arns    arns
	repeats bool
}

// New returns the HTTP handler of the AWS KMS API. It panics if opts.KMS or
// opts.Principals is nil: that is a wiring mistake, not a runtime condition.
func New(opts Options) http.Handler {
	if opts.KMS == nil || opts.Principals == nil {
		panic("awsjson: Options.KMS and Options.Principals are required")
	}
	h := &handler{kms: opts.KMS, dir: opts.Principals, edge: opts.Edge, only: opts.Action, maxBody: opts.MaxBody,
		clock: opts.Clock, arns: newARNs(opts.KMS), repeats: opts.AllowRepeats}
	if h.maxBody <= 0 {
		panic("awsjson: Options.MaxBody is required")
	}
	if h.edge == nil {
		h.edge = edge.New(opts.Logger)
	}
	if h.clock == nil {
		h.clock = core.SystemClock{}
	}
	return h
}

// IsAWS reports whether r is an AWS KMS request: the one test that splits the
// listener between the two protocols.
func IsAWS(r *http.Request) bool { return r.Header.Get("X-Amz-Target") != "" }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := h.edge.Begin(r.Context())
	x.Entry, x.UserAgent, x.SourceIP = "aws-json", r.UserAgent(), edge.SourceIP(r)
	out, ke := h.edge.Run(r.Context(), x, func() (any, error) {
		op, result, err := h.serve(w, r, x)
		if err != nil {
			return nil, err
		}
		return op.render(h, x.Params, result)
	})
	// The result's plaintext is cleared whatever the answer: a result that
	// fails to render, or that the edge withholds for want of an audit
	// record, holds it too.
	defer core.Wipe(x.Result)
	if ke != nil {
		h.writeError(w, x, ke)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		h.writeError(w, x, core.Internal(err))
		return
	}
	write(w, x, http.StatusOK, body)
	// The body carries the result's plaintext, if any, in base64: it goes
	// too. The copy in encoding/json's pooled buffer is beyond reach.
	clear(body)
}

// serve runs the request up to core's result.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, x *edge.Exchange) (*operation, any, error) {
	body, err := edge.ReadPost(w, r, h.maxBody, "AWS KMS")
	if err != nil {
		return nil, nil, err
	}
	id, err := sign.VerifySigV4(r, body, h.dir, h.kms.Region(), h.clock.Now())
	if err != nil {
		return nil, nil, err
	}
	x.Principal, x.AccessKeyID = id.Principal.Name, id.Principal.AccessKeyID
	if id.Repeatable && h.repeats {
		id.Nonce = ""
	}
	name, ok := strings.CutPrefix(id.Action, TargetPrefix)
	op := operations[name]
	if !ok || op == nil {
		return nil, nil, core.Errorf(codeUnknownOperation, "The operation %q is not one this service answers.", core.ClipText(id.Action))
	}
	x.Action = op.action
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, ContentType) {
		return nil, nil, core.Errorf(codeSerialization, "The Content-Type must be %s.", ContentType)
	}
	// Members match by the exact names AWS gives them, and a member named
	// twice (a context key too) or invalid UTF-8 refuses the body
	// (strictjson), as the Alibaba protocol refuses a parameter given twice.
	var in input
	if len(bytes.TrimSpace(body)) > 0 {
		if err := strictjson.Unmarshal(body, &in); err != nil {
			clear(in.Plaintext)
			return nil, nil, core.Errorf(codeSerialization, "The request body is not a JSON object of %s's parameters with the right types, each named once, in valid UTF-8.", name)
		}
	}
	op = op.variant(&in)
	x.Action = op.action
	if h.only != "" && op.action != h.only {
		return nil, nil, core.Errorf(core.CodeInvalidParameter, "This function serves the %s action only, not %s: invoke that action's own function or the api function.", h.only, name)
	}
	p, err := op.params(h, &in)
	clear(in.Plaintext)
	if err != nil {
		return nil, nil, err
	}
	x.Params = p
	req := &core.Request{ID: x.ID, Action: op.action, Params: p,
		Caller: id.Principal, Nonce: id.Nonce, NonceExpires: id.Expires, SourceIP: x.SourceIP, TagRules: awsTagRules}
	// AWS's ListKeys and ListAliases page by position: the marker names
	// the last key or alias of the page before.
	switch op.action {
	case "ListKeys":
		req.KeysAfter = keysAfter(p)
	case "ListAliases", "ListAliasesByKeyId":
		req.AliasesAfter = aliasesAfter(p)
	}
	result, err := h.kms.Handle(r.Context(), req)
	x.Result, x.GrantID = result, req.GrantID
	return op, result, err
}

// repeatedSignature is the message of a signature already accepted: a
// request has no SignatureNonce here to name.
const repeatedSignature = "This signed request has already been accepted; sign it again to send it again (signatures are dated to the second)."

// errorBody is AWS's JSON error shape; the SDKs read __type.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (h *handler) writeError(w http.ResponseWriter, x *edge.Exchange, ke *core.Error) {
	e := exceptionOf(ke)
	msg, wait := ke.Message, ke.RetryAfter
	if ke.Code == core.CodeSignatureNonceUsed {
		// Signed again, the request differs only once X-Amz-Date has moved
		// to a later second.
		msg, wait = repeatedSignature, time.Second
	}
	if e.Type == "ThrottlingException" {
		// Retry-After in seconds for HTTP clients; x-amz-retry-after in
		// milliseconds, which the AWS SDKs' newer retry strategies wait for
		// (botocore's with AWS_NEW_RETRIES_2026=true).
		w.Header().Set("Retry-After", edge.RetryAfter(wait))
		w.Header().Set("X-Amz-Retry-After", strconv.FormatInt(int64((wait+time.Millisecond-1)/time.Millisecond), 10))
	}
	body, _ := json.Marshal(errorBody{Type: e.Type, Message: msg}) // strings only
	write(w, x, e.Status, body)
}

func write(w http.ResponseWriter, x *edge.Exchange, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("X-Amzn-Requestid", x.ID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
