package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
)

// Options tune the shared state. Zero values take the defaults in brackets.
type Options struct {
	// Prefix starts every Redis key and the invalidation channel ["kms:"], so
	// deployments can share one Redis.
	Prefix string
	// CacheTTL is how long an instance serves key metadata and aliases from
	// memory without asking Redis (required; KMS_CACHE_TTL). It bounds how long a change takes to
	// reach an instance that missed the invalidation message.
	CacheTTL time.Duration
	// SharedTTL is how long Redis keeps key metadata and aliases [1m]. It bounds
	// a stale entry left by a change made while Redis was unreachable from an
	// instance that then went away before it could replay the invalidation.
	SharedTTL time.Duration
	// CacheSize caps the in-process entries of each kind [100000].
	CacheSize int
	// FallbackShare is the share of a principal's limit one instance admits on
	// its own while Redis is unreachable, in (0, 1] (required;
	// KMS_REDIS_FALLBACK_SHARE).
	FallbackShare float64
	// FallbackNonces remember nonces while Redis is unreachable [this
	// instance's memory]. Give the key store's nonces when the store is
	// shared, so replays stay refused across instances during an outage.
	FallbackNonces core.NonceStore
	// Logger receives the outage warnings [slog.Default()].
	Logger *slog.Logger
	// WarnEvery is the least time between two outage warnings [10s].
	WarnEvery time.Duration
	// RetryEvery is how often, while Redis is unreachable, one request tries it
	// again [1s]; the others go straight to the fallback.
	RetryEvery time.Duration
	// MACKey authenticates every cache entry written to Redis, so that whoever
	// else can write Redis cannot change what it says. Required, at least 32
	// bytes: derive it with core.RootKey.DeriveKey(MACPurpose), so every
	// instance of a deployment has the same one.
	MACKey []byte
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "kms:"
	}
	if o.SharedTTL <= 0 {
		o.SharedTTL = time.Minute
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 100_000
	}
	if o.FallbackNonces == nil {
		o.FallbackNonces = inproc.NewNonces(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.WarnEvery <= 0 {
		o.WarnEvery = 10 * time.Second
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = time.Second
	}
	return o
}

// Shared is one instance's view of the shared state: a Cache for
// core.Config.Cache and a Limiter for core.Config.Limiter and .Nonces. Both
// share one circuit breaker, so an outage seen by one is seen by both.
type Shared struct {
	Cache   *Cache
	Limiter *Limiter

	health *health
	rdb    goredis.UniversalClient
	sub    *goredis.PubSub
	done   chan struct{}
}

// Open connects to the Redis at url (see NewClient for the forms) and starts
// listening for invalidations. An unreachable Redis is not an error: requests
// are served from the fallback until it answers.
func Open(url string, o Options) (*Shared, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	rdb, err := NewClient(url)
	if err != nil {
		return nil, err
	}
	return New(rdb, o)
}

func (o Options) check() error {
	if len(o.MACKey) < 32 {
		return errors.New("redis: the shared cache needs a MAC key of at least 32 bytes")
	}
	if o.CacheTTL <= 0 || o.FallbackShare <= 0 || o.FallbackShare > 1 {
		return errors.New("redis: CacheTTL and FallbackShare (0 < share <= 1) are required")
	}
	return nil
}

// Degraded reports whether requests are being served from per-instance state
// because Redis is unreachable.
func (s *Shared) Degraded() bool { return s.health.open.Load() }

// New builds the shared state on rdb, which Close closes.
func New(rdb goredis.UniversalClient, o Options) (*Shared, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	driverLogOnce.Do(func() { goredis.SetLogger(driverLog{o.Logger}) })
	h := &health{log: o.Logger, warnEvery: o.WarnEvery, retryEvery: o.RetryEvery}
	s := &Shared{
		Cache:   newCache(rdb, h, o),
		Limiter: newLimiter(rdb, h, o),
		health:  h,
		rdb:     rdb,
		done:    make(chan struct{}),
	}
	// go-redis re-subscribes after a lost connection and pings to find dead
	// ones; messages sent meanwhile are lost, and CacheTTL covers them.
	s.sub = rdb.Subscribe(context.Background(), s.Cache.channel)
	msgs := s.sub.Channel(goredis.WithChannelHealthCheckInterval(5 * time.Second))
	go func() {
		defer close(s.done)
		s.Cache.listen(msgs)
	}()
	return s, nil
}

// Close stops listening and closes the Redis client.
func (s *Shared) Close() error {
	err := s.sub.Close()
	<-s.done
	if cerr := s.rdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// driverLog sends go-redis's own messages (one per failed dial, for instance) to
// the debug level: an outage is reported by the breaker's periodic warning, not
// once per request. go-redis has one logger per process, so the first New sets it.
type driverLog struct{ log *slog.Logger }

var driverLogOnce sync.Once

func (d driverLog) Printf(ctx context.Context, format string, v ...any) {
	d.log.DebugContext(ctx, "redis driver: "+fmt.Sprintf(format, v...))
}
