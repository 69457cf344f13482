package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/jsonstr"
)

// Outcome of a request that succeeded; a failure's outcome is its error Code.
const OK = "OK"

// Set is one instance's metrics. Its methods are safe for concurrent use.
type Set struct {
	// Registry holds the Prometheus collectors, for the api server's /metrics.
	Registry *prometheus.Registry

	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	throttled prometheus.Counter
	auditLost prometheus.Counter
	storeErrs prometheus.Counter
	hits      atomic.Int64
	misses    atomic.Int64
	fallback  atomic.Pointer[func() bool]

	emf    io.Writer
	emfMu  sync.Mutex
	emfBuf []byte // the last line, its array reused by the next
}

// known are the action labels; any other action name counts as "unknown".
var known = append(core.Actions(), "ProvisionPartition")

// New returns an instance's metrics. With emf set, every request also leaves
// one Embedded Metric Format line there (Lambda and Function Compute, whose
// log services turn them into metrics).
func New(emf io.Writer) *Set {
	s := &Set{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kms_requests_total", Help: "Requests by action and outcome (OK or the error Code).",
		}, []string{"action", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kms_request_duration_seconds", Help: "Time from a request's arrival to its answer, audit record included.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"action"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kms_throttled_requests_total", Help: "Requests refused with Rejected.Throttling.",
		}),
		auditLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kms_audit_write_failures_total", Help: "Audit records the sink did not take.",
		}),
		storeErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kms_store_errors_total", Help: "Store reads that failed other than for a missing item.",
		}),
		emf: emf,
	}
	s.Registry.MustRegister(s.requests, s.latency, s.throttled, s.auditLost, s.storeErrs,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kms_cache_hits_total", Help: "Metadata lookups the cache answered."},
			func() float64 { return float64(s.hits.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kms_cache_misses_total", Help: "Metadata lookups that went to the store."},
			func() float64 { return float64(s.misses.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kms_cache_hit_ratio", Help: "Cache hits over lookups since start (0 before any)."},
			s.hitRatio),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kms_redis_fallback", Help: "1 while Redis is unreachable and requests are served from per-instance state; 0 otherwise or without Redis."},
			func() float64 {
				if f := s.fallback.Load(); f != nil && (*f)() {
					return 1
				}
				return 0
			}),
	)
	return s
}

func (s *Set) hitRatio() float64 {
	h, m := s.hits.Load(), s.misses.Load()
	if h+m == 0 {
		return 0
	}
	return float64(h) / float64(h+m)
}

// WatchFallback makes degraded the source of kms_redis_fallback.
func (s *Set) WatchFallback(degraded func() bool) { s.fallback.Store(&degraded) }

// WatchCertificate exposes the expiry of the certificate the server
// presents, as notAfter reports it after each renewal, as
// kms_tls_certificate_expiration_timestamp_seconds: an operator alerts
// on it before clients refuse the server. A server without TLS has no
// such gauge, rather than one that reads as long expired.
func (s *Set) WatchCertificate(notAfter func() time.Time) {
	s.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kms_tls_certificate_expiration_timestamp_seconds",
		Help: "When the TLS certificate the server presents expires, in seconds since 1970.",
	}, func() float64 { return float64(notAfter().Unix()) }))
}

// Request counts one finished request.
func (s *Set) Request(action, outcome string, d time.Duration) {
	if s == nil {
		return
	}
	if !slices.Contains(known, action) {
		action = "unknown"
	}
	s.requests.WithLabelValues(action, outcome).Inc()
	s.latency.WithLabelValues(action).Observe(d.Seconds())
	throttled := outcome == core.CodeThrottling
	if throttled {
		s.throttled.Inc()
	}
	if s.emf != nil {
		s.writeEMF(action, outcome, d, throttled)
	}
}

// AuditLost counts a record the sink did not take.
func (s *Set) AuditLost() {
	if s != nil {
		s.auditLost.Inc()
	}
}

// emfDirective is the part of every Embedded Metric Format line that tells
// CloudWatch (and Function Compute's SLS, which reads the same JSON) which
// members are metrics: Requests, Throttled, Latency and CacheHitRatioPercent,
// by Action and Outcome. It is encoded once; each line appends its members by
// hand after it, about a sixth of the cost of encoding the whole line by
// reflection on every request of a function (BenchmarkRequest).
var emfDirective = func() []byte {
	type member struct{ Name, Unit string }
	b, err := json.Marshal([]struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []member
	}{{Namespace: "kmsless", Dimensions: [][]string{{"Action", "Outcome"}}, Metrics: []member{
		{Name: "Requests", Unit: "Count"}, {Name: "Throttled", Unit: "Count"}, {Name: "Latency", Unit: "Milliseconds"},
		{Name: "CacheHitRatioPercent", Unit: "Percent"},
	}}})
	if err != nil {
		panic(err)
	}
	return b
}()

// writeEMF writes one request as an Embedded Metric Format line.
func (s *Set) writeEMF(action, outcome string, d time.Duration, throttled bool) {
	s.emfMu.Lock()
	defer s.emfMu.Unlock()
	b := append(s.emfBuf[:0], `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":`...)
	b = append(b, emfDirective...)
	b = append(b, `},"Action":`...)
	b = jsonstr.Append(b, action)
	b = append(b, `,"Outcome":`...)
	b = jsonstr.Append(b, outcome)
	b = append(b, `,"Requests":1,"Throttled":`...)
	if throttled {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	b = append(b, `,"Latency":`...)
	b = strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"CacheHitRatioPercent":`...)
	b = strconv.AppendInt(b, int64(s.hitRatio()*100), 10)
	b = append(b, "}\n"...)
	_, _ = s.emf.Write(b)
	s.emfBuf = b
}

// Cache wraps c to count hits (no load) and misses (a load), and store reads
// that fail for a reason other than a missing item.
func (s *Set) Cache(c core.MetadataCache) core.MetadataCache { return &cache{c: c, s: s} }

type cache struct {
	c core.MetadataCache
	s *Set
}

func (m *cache) loaded(err error) {
	m.s.misses.Add(1)
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		m.s.storeErrs.Inc()
	}
}

func (m *cache) Key(ctx context.Context, id string, load func(context.Context, string) (core.Key, error)) (core.Key, error) {
	missed := false
	k, err := m.c.Key(ctx, id, func(ctx context.Context, id string) (core.Key, error) {
		missed = true
		k, err := load(ctx, id)
		m.loaded(err)
		return k, err
	})
	if !missed {
		m.s.hits.Add(1)
	}
	return k, err
}

func (m *cache) Alias(ctx context.Context, name string, load func(context.Context, string) (core.Alias, error)) (core.Alias, error) {
	missed := false
	a, err := m.c.Alias(ctx, name, func(ctx context.Context, name string) (core.Alias, error) {
		missed = true
		a, err := load(ctx, name)
		m.loaded(err)
		return a, err
	})
	if !missed {
		m.s.hits.Add(1)
	}
	return a, err
}

func (m *cache) Version(ctx context.Context, ref core.VersionRef, load func(context.Context, string, string) (core.KeyVersion, error)) (core.KeyVersion, error) {
	missed := false
	v, err := m.c.Version(ctx, ref, func(ctx context.Context, keyID, versionID string) (core.KeyVersion, error) {
		missed = true
		v, err := load(ctx, keyID, versionID)
		m.loaded(err)
		return v, err
	})
	if !missed {
		m.s.hits.Add(1)
	}
	return v, err
}

func (m *cache) InvalidateKey(ctx context.Context, id string)     { m.c.InvalidateKey(ctx, id) }
func (m *cache) InvalidateAlias(ctx context.Context, name string) { m.c.InvalidateAlias(ctx, name) }
