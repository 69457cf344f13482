package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kmsless/kmsless/infra/config"
)

// MaxHeaderBytes bounds the request line and headers the local server reads
// before any handler runs, so before the caller is authenticated; larger ones
// are refused with 431. Go's default is 1 MiB. The largest request the
// contract allows, as the Go SDK sends it (every parameter in the query
// string), is a ReEncrypt with two EncryptionContexts of 8192 four-byte
// characters, 96 KiB each once percent-encoded: about 210 KiB in all. 256 KiB
// is the smallest power of two that holds it.
const MaxHeaderBytes = 256 << 10

// drainTimeout bounds how long a stopping server waits for requests in flight.
const drainTimeout = 10 * time.Second

func serveLocal(svc *config.Service, fn Function) error {
	defer closeOnStop(svc, "shutdown")
	if fn.HTTP == nil {
		return fmt.Errorf("%s has no local server", fn.Name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := Listen(svc.Settings, svc.Logger, svc.Metrics)
	if err != nil {
		return err
	}
	var operator net.Listener
	if addr := svc.Settings.OperatorAddr; addr != "" {
		if operator, err = net.Listen("tcp", addr); err != nil {
			ln.Close()
			return fmt.Errorf("KMS_OPERATOR_ADDR: %w", err)
		}
	}
	Banner(os.Stdout, svc, ln.Addr().String(), operator)
	purging, watching := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(purging)
		PurgeEvery(ctx, svc, svc.Settings.PurgeInterval)
	}()
	go func() {
		defer close(watching)
		WatchPrincipals(ctx, svc, principalsPoll)
	}()
	// The operator listener answers its paths and nothing else: a KMS
	// request there is not found. Should it fail, the server stops with it,
	// rather than serve on with its probes unanswered.
	// Both listeners answer /readyz from one check a second.
	ready := newReadiness(svc)
	operated := make(chan error, 1)
	if operator != nil {
		go func() {
			err := Serve(ctx, operator, operations(svc, ready, http.NotFoundHandler()), svc.Logger)
			stop()
			operated <- err
		}()
	} else {
		operated <- nil
	}
	err = Serve(ctx, ln, operations(svc, ready, fn.HTTP), svc.Logger)
	stop()
	err = errors.Join(err, <-operated)
	<-purging // before the store closes
	<-watching
	return err
}

// Operations serves the paths an operator's tools ask for beside the API on
// "/": Prometheus metrics at /metrics, liveness at /healthz and readiness (the
// store answers, the root key is loaded) at /readyz. They are GET-only and
// sign nothing; the RPC API answers only "/", so no KMS request can reach them
// or be mistaken for one.
func Operations(svc *config.Service, api http.Handler) http.Handler {
	return operations(svc, newReadiness(svc), api)
}

// operations is Operations with the readiness check it answers from.
func operations(svc *config.Service, ready *readiness, api http.Handler) http.Handler {
	metrics := promhttp.HandlerFor(svc.Metrics.Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			api.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/metrics":
			metrics.ServeHTTP(w, r)
		case "/healthz":
			fmt.Fprintln(w, "ok")
		case "/readyz":
			if ready.err() != nil {
				http.Error(w, "not ready", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ready")
		default:
			api.ServeHTTP(w, r)
		}
	})
}

// readyFor is how long one readiness check answers /readyz.
const readyFor = time.Second

// readiness is /readyz's answer: a check of the service (its store answers),
// made at most once in readyFor, its answer shared by every probe meanwhile.
// Anyone who reaches a listener may ask, before any authentication, so a
// flood of probes costs the store one read a second, and a store that is
// down one warning a second.
type readiness struct {
	check func(context.Context) error
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	checked time.Time
	last    error
}

func newReadiness(svc *config.Service) *readiness {
	return &readiness{check: svc.Ready, log: svc.Logger, now: time.Now}
}

func (r *readiness) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); r.checked.IsZero() || now.Sub(r.checked) >= readyFor {
		// Not the probe's context: the answer is every waiting probe's.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.last, r.checked = r.check(ctx), now
		if r.last != nil {
			r.log.Warn("not ready", "err", r.last)
		}
	}
	return r.last
}

// Serve serves h on ln until ctx ends, then stops accepting and waits up to ten
// seconds for the requests in flight. It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          stdlog.New(serverLog{log}, "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests in flight", "timeout", drainTimeout)
	drain, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err := srv.Shutdown(drain)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// serverLog takes the http.Server's own error lines at WARN, but a TLS
// handshake that failed at DEBUG: anyone who connects can fail one (a port
// probe closes without a word), and a probe or a scanner would otherwise fill
// the log with warnings.
type serverLog struct{ log *slog.Logger }

func (w serverLog) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// Banner tells a local user where the endpoint is, and the operator
// listener when there is one, and, when start-up made a development
// principal, its credentials. Printing the secret is deliberate: it exists
// only on this machine, and the user needs it to sign requests.
func Banner(w io.Writer, svc *config.Service, addr string, operator net.Listener) {
	scheme := svc.Settings.Scheme()
	fmt.Fprintf(w, "kmsless: serving the Alibaba Cloud KMS API (2016-01-20) and the AWS KMS API (region %s) on %s://%s\n", svc.KMS.Region(), scheme, addr)
	if operator != nil {
		fmt.Fprintf(w, "operator paths (/metrics, /healthz, /readyz) also on http://%s\n", operator.Addr())
	}
	p := svc.DevPrincipal
	if p == nil {
		fmt.Fprintf(w, "callers: the %d principals of %s\n", svc.Principals.Len(), svc.Settings.PrincipalsFile)
		return
	}
	secret := p.Secret.Bytes()
	defer clear(secret)
	addr = config.Dialable(addr)
	fmt.Fprintf(w, "development principal (full access, this machine only; set KMS_PRINCIPALS_FILE for real callers):\n")
	fmt.Fprintf(w, "  AccessKeyId:     %s\n", p.AccessKeyID)
	fmt.Fprintf(w, "  AccessKeySecret: %s\n", secret)
	fmt.Fprintf(w, "point any Alibaba Cloud KMS SDK at it, e.g. in Go:\n")
	fmt.Fprintf(w, "  kms.NewClient(&openapi.Config{AccessKeyId: tea.String(%q), AccessKeySecret: tea.String(%q), Endpoint: tea.String(%q), Protocol: tea.String(%q)})\n",
		p.AccessKeyID, secret, addr, scheme)
	fmt.Fprintf(w, "or any AWS SDK, or the AWS CLI:\n")
	fmt.Fprintf(w, "  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws --endpoint-url %s://%s --region %s kms list-keys\n",
		p.AccessKeyID, secret, scheme, addr, svc.KMS.Region())
}
