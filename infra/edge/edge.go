// Package edge is where every request enters and leaves the service, whatever
// carried it (a signed HTTP request, a direct invocation, an event): it names
// the request, guards against panics, logs the cause of a failure that is the
// service's fault, once, writes the request's audit record and counts it.
package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/metrics"
)

// Edge is shared by an instance's entries.
type Edge struct {
	log     *slog.Logger
	audit   *audit.Log
	arns    audit.ARNs
	metrics *metrics.Set
	// unrecorded counts the destructions whose records were not written.
	unrecorded atomic.Int64
}

// Record makes the edge write every request's record to l, naming resources
// with arns, and count requests in m (either may be nil). It is set once, at
// wiring, before any request.
func (e *Edge) Record(l *audit.Log, arns audit.ARNs, m *metrics.Set) {
	e.audit, e.arns, e.metrics = l, arns, m
}

// New returns the edge of an instance logging to log (nil: discard).
func New(log *slog.Logger) *Edge {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Edge{log: log}
}

// Exchange is what a request has revealed on its way through: its ID, where
// it came from, and the action, caller and parameters once they are known.
// Entries fill in what they learn; nothing secret goes in (Params are the
// action's input as core reads it, which may hold plaintext: whatever reads
// them for a record keeps only the fields that are safe to keep).
type Exchange struct {
	ID string
	// Entry names what carried the request: "alibaba-rpc", "aws-json",
	// "alibaba-kms-instance", "direct", "event".
	Entry       string
	SourceIP    string
	UserAgent   string
	Action      string
	Principal   string
	AccessKeyID string
	// MessageID is the ID of the event message a partition came in.
	MessageID string
	Params    core.Params
	// Result is core's result when the request succeeded.
	Result any
	// GrantID names the grant that allowed the request (core.Request's).
	GrantID string
	start   time.Time
}

// Begin names a request: the platform's request ID when ctx carries one
// (Lambda, Function Compute), so the caller, the platform's logs and ours
// agree; a new one otherwise.
func (e *Edge) Begin(ctx context.Context) *Exchange {
	return &Exchange{ID: RequestID(ctx), start: time.Now()}
}

// RequestID is the platform's request ID carried by ctx, or a new one.
func RequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	if fcc, ok := fccontext.FromContext(ctx); ok && fcc.RequestID != "" {
		return fcc.RequestID
	}
	return core.NewRequestID()
}

// Run runs fn for the request x under Guard. Any error comes back as the
// *core.Error the caller is to see; a server fault's cause is logged here, once,
// and every request leaves one debug line, one audit record and its count.
//
// The record is written after fn, so it holds the outcome, and before Run
// returns, so before the caller's answer leaves. When the sink fails, a
// request that used or changed a key is answered ServiceUnavailableTemporary
// instead of its result: no key is used without a record. A change it made
// has then taken effect all the same (the store committed before the record
// could be written); the error says so, and the service's log keeps the
// request's ID, action and caller. Refusals and metadata reads keep their
// answer: they used nothing and changed nothing, and failing them would only
// hide the caller's own mistake behind an outage.
func (e *Edge) Run(ctx context.Context, x *Exchange, fn func() (any, error)) (any, *core.Error) {
	result, err := e.Guard(ctx, x, fn)
	var ke *core.Error
	if err != nil {
		ke = core.AsError(err)
		if ke.ServerFault() && !errors.Is(err, errPanicked) {
			e.logCause(ctx, x, ke)
		}
		result = nil
	}
	if e.audit != nil {
		if werr := e.audit.Write(e.record(x, ke)); werr != nil {
			e.metrics.AuditLost()
			e.log.LogAttrs(ctx, slog.LevelError, "audit record not written",
				slog.String("requestId", x.ID), slog.String("action", x.Action), slog.String("principal", x.Principal),
				slog.String("accessKeyId", x.AccessKeyID), slog.Bool("withheld", audit.MustRecord(x.Action, ke != nil)),
				slog.String("cause", werr.Error()))
			if audit.MustRecord(x.Action, ke != nil) {
				result, ke = nil, errUnrecorded
			}
		}
	}
	outcome := metrics.OK
	if ke != nil {
		outcome = ke.Code
	}
	e.metrics.Request(x.Action, outcome, time.Since(x.start))
	e.logRequest(ctx, x, ke)
	return result, ke
}

// Destroyed writes the record of a key or secret core destroyed past its
// deletion date (core.Config.Destroyed). The destruction has happened: a
// record that cannot be written is logged and counted, as a request's is.
func (e *Edge) Destroyed(ctx context.Context, d core.Destruction) {
	if e.audit != nil {
		e.writeOwn(ctx, audit.Destruction(d, core.NewRequestID(), time.Now(), e.arns), slog.String(d.Kind, d.ID))
	}
}

// PrincipalsChanged writes the record of each principal that a server
// following its principals file found added, removed or changed. The
// change has happened: a record that cannot be written is logged and
// counted, as a request's is.
func (e *Edge) PrincipalsChanged(ctx context.Context, changes []core.PrincipalChange) {
	if e.audit == nil {
		return
	}
	now := time.Now()
	for _, c := range changes {
		e.writeOwn(ctx, audit.PrincipalChange(c, core.NewRequestID(), now, e.arns), slog.String("principal", c.Name))
	}
}

// writeOwn writes the record of something the service did of itself,
// which about names; one that cannot be written is logged and counted.
func (e *Edge) writeOwn(ctx context.Context, rec audit.Record, about slog.Attr) {
	if err := e.audit.Write(rec); err != nil {
		e.unrecorded.Add(1)
		e.metrics.AuditLost()
		e.log.LogAttrs(ctx, slog.LevelError, "audit record not written",
			slog.String("requestId", rec.RequestID), slog.String("action", rec.EventName), about,
			slog.String("cause", err.Error()))
	}
}

// UseLost logs a key's use that the store could not record
// (core.Config.UseLost): GetKeyLastUsage answers an older use until a later
// one is recorded. The request it belongs to stands, and its audit record
// holds the use.
func (e *Edge) UseLost(ctx context.Context, keyID string, err error) {
	e.log.LogAttrs(ctx, slog.LevelWarn, "key use not recorded", slog.String("keyId", keyID), slog.String("cause", err.Error()))
}

// UnrecordedDestructions is how many records of the service's own doings
// (Destroyed, PrincipalsChanged) could not be written since the edge was
// made: for a command, whose exit status must tell.
func (e *Edge) UnrecordedDestructions() int64 { return e.unrecorded.Load() }

// errUnrecorded answers a request whose audit record could not be written.
var errUnrecorded = core.Errorf(core.CodeServiceUnavailableTemporary,
	"The audit trail could not be written, so the result was withheld; a change this request made may have taken effect. Retry later.")

func (e *Edge) record(x *Exchange, ke *core.Error) audit.Record {
	return audit.Build(audit.Request{
		Time: x.start, ID: x.ID, Entry: x.Entry, MessageID: x.MessageID, Action: x.Action,
		Principal: x.Principal, AccessKeyID: x.AccessKeyID, SourceIP: x.SourceIP, UserAgent: x.UserAgent,
		Params: x.Params, Result: x.Result, GrantID: x.GrantID, Err: ke,
	}, e.arns)
}

// errPanicked is the cause of the InternalFailure a panic becomes; the panic
// itself was logged.
var errPanicked = errors.New("panicked")

// Guard is the one panic guard: it runs fn, and a panic becomes InternalFailure
// with nothing of its value sent back or logged (only a runtime error's text).
// The platform's invocation loop wraps everything in it; the entries that name
// a request use Run.
func (e *Edge) Guard(ctx context.Context, x *Exchange, fn func() (any, error)) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			e.logPanic(ctx, x, v)
			result, err = nil, core.Internal(errPanicked)
		}
	}()
	return fn()
}

func (e *Edge) logRequest(ctx context.Context, x *Exchange, ke *core.Error) {
	if !e.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	code := "OK"
	if ke != nil {
		code = ke.Code
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "request",
		slog.String("requestId", x.ID), slog.String("action", x.Action), slog.String("principal", x.Principal),
		slog.String("code", code), slog.Duration("duration", time.Since(x.start)))
}

// logCause records why a request failed on the service side. Causes come from
// core and the stores, which keep key material and parameter values out of them.
func (e *Edge) logCause(ctx context.Context, x *Exchange, ke *core.Error) {
	attrs := []slog.Attr{slog.String("requestId", x.ID), slog.String("action", x.Action), slog.String("code", ke.Code)}
	if cause := ke.Unwrap(); cause != nil {
		attrs = append(attrs, slog.String("cause", cause.Error()))
	}
	e.log.LogAttrs(ctx, slog.LevelError, "request failed", attrs...)
}

// logPanic records a recovered panic. Only a runtime error's text is logged:
// it is the runtime's own (an index, a nil pointer), whereas any other panic
// value could carry data from the request.
func (e *Edge) logPanic(ctx context.Context, x *Exchange, v any) {
	what := fmt.Sprintf("panic of type %T", v)
	if re, ok := v.(runtime.Error); ok {
		what = re.Error()
	}
	e.log.LogAttrs(ctx, slog.LevelError, "panic while serving a request",
		slog.String("requestId", x.ID), slog.String("action", x.Action), slog.String("principal", x.Principal),
		slog.String("panic", what), slog.String("stack", string(debug.Stack())))
}

// SourceIP is the address of an HTTP request's peer, for acs:SourceIp
// conditions. Forwarding headers are not read: any caller can set them, so
// trusting them would let a caller choose the address its policy sees. Behind
// a proxy the peer is the proxy.
func SourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// RetryAfter renders a wait as the Retry-After header takes it: whole
// seconds, rounded up, and at least 1.
func RetryAfter(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}

// ReadPost reads the body of a POST to /, the one request the AWS and
// instance protocols take (protocol names them in the refusal of another
// method), as ReadBody reads it.
func ReadPost(w http.ResponseWriter, r *http.Request, max int64, protocol string) ([]byte, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return nil, core.Errorf(core.CodeInvalidParameter, "The HTTP method %s is not supported; %s requests are POST.", core.ClipText(r.Method), protocol)
	}
	if r.URL.Path != "/" {
		return nil, core.Errorf(core.CodeInvalidParameter, "The path %q does not exist; send requests to /.", core.ClipText(r.URL.Path))
	}
	return ReadBody(w, r, max)
}

// ReadBody reads a request's whole body, refusing one larger than max bytes
// before reading it when its length is declared, and as soon as it passes max
// otherwise: the work spent on a request before its caller is known stays
// bounded by its size.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, nil
	}
	tooLarge := core.Errorf(core.CodeInvalidParameter, "The request body is larger than %d bytes.", max)
	if r.ContentLength > max {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return nil, tooLarge
		}
		return nil, core.Errorf(core.CodeInvalidParameter, "The request body could not be read completely.")
	}
	return body, nil
}
