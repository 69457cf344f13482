package fcemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the runtime API version in every path.
const APIVersion = "2020-11-11"

// Function types in the x-fc-function-type header, as fc-runtime-go-sdk reads them.
const (
	typeHandle  = "0"
	typePreStop = "2"
)

// maxPayload bounds what the function may post back, like the platform's own
// response limit.
const maxPayload = 32 << 20

// Options describe the emulated function.
type Options struct {
	// FunctionName, Handler, Region and AccountID go to the function in x-fc-*
	// headers. FunctionName defaults to "function".
	FunctionName string
	Handler      string
	Region       string
	AccountID    string
	// MemoryMB defaults to 512.
	MemoryMB int
	// Timeout is each invocation's deadline (default 60s); FC expresses it in
	// whole seconds, so it is rounded up to one.
	Timeout time.Duration
}

// Server is the runtime API of one function instance. Its zero value is not
// usable: make one with New.
type Server struct {
	opts    Options
	queue   chan *invocation
	mu      sync.Mutex
	running map[string]*invocation
	ready   chan struct{}
	once    sync.Once
}

// invocation is one event on its way through the function.
type invocation struct {
	id       string
	kind     string
	event    []byte
	deadline time.Time
	done     chan Result
	finish   sync.Once
}

// Result is how an invocation ended.
type Result struct {
	RequestID string
	// Payload is the function's response when Error is nil.
	Payload []byte
	// Error is set when the function reported an error, timed out or could not
	// be reached.
	Error *FunctionError
	// Duration runs from the invocation's delivery to its answer.
	Duration time.Duration
}

// FunctionError is the error shape fc-runtime-go-sdk posts, plus whether the
// function reported it (handled) or the emulator did (a timeout).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	Handled bool   `json:"-"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrorTypeTimeout is the error type of an invocation that passed its deadline.
const ErrorTypeTimeout = "FunctionTimeout"

// New makes a runtime API server.
func New(opts Options) *Server {
	if opts.FunctionName == "" {
		opts.FunctionName = "function"
	}
	if opts.MemoryMB <= 0 {
		opts.MemoryMB = 512
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	return &Server{opts: opts, queue: make(chan *invocation), running: map[string]*invocation{}, ready: make(chan struct{})}
}

// Ready is closed when the function first asks for an invocation: its
// initialization is over.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Invoke hands event to the function and waits for its answer, at most until
// the invocation's deadline. It fails only if ctx ends first.
func (s *Server) Invoke(ctx context.Context, event []byte) (Result, error) {
	return s.run(ctx, typeHandle, event)
}

// PreStop delivers the pre-stop lifecycle invocation, as the platform does
// before it stops an instance, and waits for the function to acknowledge it.
func (s *Server) PreStop(ctx context.Context) (Result, error) {
	return s.run(ctx, typePreStop, nil)
}

func (s *Server) run(ctx context.Context, kind string, event []byte) (Result, error) {
	inv := &invocation{id: newRequestID(), kind: kind, event: event, deadline: time.Now().Add(s.timeout()), done: make(chan Result, 1)}
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-timer.C:
		return Result{RequestID: inv.id, Error: timeoutError(s.timeout(), "the function did not ask for an invocation")}, nil
	}
	start := time.Now()
	select {
	case res := <-inv.done:
		res.Duration = time.Since(start)
		return res, nil
	case <-timer.C:
		s.complete(inv.id, Result{RequestID: inv.id, Error: timeoutError(s.timeout(), "")})
		return Result{RequestID: inv.id, Error: timeoutError(s.timeout(), ""), Duration: time.Since(start)}, nil
	case <-ctx.Done():
		s.complete(inv.id, Result{})
		return Result{}, ctx.Err()
	}
}

func timeoutError(d time.Duration, why string) *FunctionError {
	msg := fmt.Sprintf("Function timed out after %s", d)
	if why != "" {
		msg += ": " + why
	}
	return &FunctionError{Type: ErrorTypeTimeout, Message: msg}
}

// timeout is the deadline FC would apply: whole seconds.
func (s *Server) timeout() time.Duration {
	return time.Duration(s.timeoutSeconds()) * time.Second
}

func (s *Server) timeoutSeconds() int {
	return max(1, int((s.opts.Timeout+time.Second-1)/time.Second))
}

// complete ends an invocation once; later answers for it are refused.
func (s *Server) complete(id string, res Result) bool {
	s.mu.Lock()
	inv := s.running[id]
	delete(s.running, id)
	s.mu.Unlock()
	if inv == nil {
		return false
	}
	inv.finish.Do(func() { inv.done <- res })
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return "1-" + h[:8] + "-" + h[8:16] + "-" + h[16:]
}

// ServeHTTP serves the runtime API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+APIVersion+"/runtime/invocation/")
	switch {
	case !ok:
		http.NotFound(w, r)
	case rest == "next" && r.Method == http.MethodGet:
		s.next(w, r)
	case strings.HasSuffix(rest, "/response") && r.Method == http.MethodPost:
		s.answer(w, r, strings.TrimSuffix(rest, "/response"), false)
	case strings.HasSuffix(rest, "/error") && r.Method == http.MethodPost:
		s.answer(w, r, strings.TrimSuffix(rest, "/error"), true)
	default:
		http.Error(w, "unknown runtime API call", http.StatusNotFound)
	}
}

// next blocks until an invocation is queued, then delivers it with the headers
// fc-runtime-go-sdk v0.3.1 parses; it refuses to run without the request ID,
// the deadline and the timeout.
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.once.Do(func() { close(s.ready) })
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	s.running[inv.id] = inv
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("x-fc-request-id", inv.id)
	h.Set("x-fc-function-deadline", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("x-fc-function-timeout", strconv.Itoa(s.timeoutSeconds()))
	h.Set("x-fc-function-type", inv.kind)
	h.Set("x-fc-function-name", s.opts.FunctionName)
	h.Set("x-fc-function-handler", s.opts.Handler)
	h.Set("x-fc-function-memory", strconv.Itoa(s.opts.MemoryMB))
	h.Set("x-fc-region", s.opts.Region)
	h.Set("x-fc-account-id", s.opts.AccountID)
	h.Set("x-fc-retry-count", "0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.event)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, id string, failed bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	if len(body) > maxPayload {
		s.complete(id, Result{RequestID: id, Error: &FunctionError{Type: "ResponseTooLarge", Message: fmt.Sprintf("the function's answer exceeds %d bytes", maxPayload)}})
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	res := Result{RequestID: id, Payload: body}
	if failed {
		fe := &FunctionError{Handled: true}
		if err := json.Unmarshal(body, fe); err != nil || fe.Type == "" {
			fe = &FunctionError{Type: "UnhandledInvocationError", Message: string(bytes.TrimSpace(body)), Handled: true}
		}
		res = Result{RequestID: id, Error: fe}
	}
	if !s.complete(id, res) {
		// Unknown, already answered, or past its deadline.
		http.Error(w, "no invocation "+id+" is waiting for an answer", http.StatusGone)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// ErrNotReady is returned by WaitReady when the function never asked for work.
var ErrNotReady = errors.New("fcemu: the function did not start taking invocations")

// WaitReady waits until the function asks for its first invocation.
func (s *Server) WaitReady(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return ErrNotReady
	}
}
