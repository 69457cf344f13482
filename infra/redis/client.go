package redis

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Timeouts applied when the URL does not set its own. They are short on purpose:
// a slow or dead Redis should send a request to the per-instance fallback within
// a fraction of a request's budget, not after go-redis's multi-second defaults.
// Dialing gets more room than a command: it is rare (connections are pooled)
// and includes the TLS handshake for rediss.
const (
	defaultDialTimeout = 500 * time.Millisecond
	defaultReadTimeout = 200 * time.Millisecond
	defaultPoolTimeout = 200 * time.Millisecond
)

// NewClient connects to Redis as rawURL says (no command is sent yet):
//
//	redis://[user:pass@]host[:port][/db][?option=value…]     one server
//	rediss://…                                                the same over TLS
//	unix://[user:pass@]/path/to/redis.sock[?db=N]             a local socket
//	redis+cluster://[user:pass@]host:port[?addr=host2:port…]  Redis Cluster (seed nodes)
//	rediss+cluster://…                                        Cluster over TLS
//	redis+sentinel://[user:pass@]sentinel:26379[/db]?master_name=NAME[&addr=sentinel2:26379…][&password=MASTERPASS]
//	rediss+sentinel://…                                       Sentinel over TLS
//
// A redis:// URL with master_name is also read as Sentinel. Options are go-redis's
// URL options (dial_timeout, read_timeout, pool_size, max_retries, …).
func NewClient(rawURL string) (goredis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse quotes the whole URL, password included: say less.
		return nil, errors.New("REDIS_URL is not a valid URL")
	}
	scheme, mode := form(u)
	u.Scheme = scheme
	plain := u.String()
	switch mode {
	case "":
		o, err := goredis.ParseURL(plain)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		fastFail(&o.DialTimeout, &o.ReadTimeout, &o.PoolTimeout, &o.MaxRetries, &o.DialerRetries)
		o.ContextTimeoutEnabled = true
		return goredis.NewClient(o), nil
	case "cluster":
		o, err := goredis.ParseClusterURL(plain)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		fastFail(&o.DialTimeout, &o.ReadTimeout, &o.PoolTimeout, &o.MaxRetries, &o.DialerRetries)
		o.ContextTimeoutEnabled = true
		return goredis.NewClusterClient(o), nil
	case "sentinel":
		o, err := goredis.ParseFailoverURL(plain)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		if o.MasterName == "" {
			return nil, errors.New("REDIS_URL: a Sentinel URL needs master_name=…")
		}
		fastFail(&o.DialTimeout, &o.ReadTimeout, &o.PoolTimeout, &o.MaxRetries, &o.DialerRetries)
		o.ContextTimeoutEnabled = true
		return goredis.NewFailoverClient(o), nil
	}
	return nil, fmt.Errorf("REDIS_URL: unknown scheme %q (use redis, rediss, unix, redis+cluster or redis+sentinel)", u.Scheme+"+"+mode)
}

// form splits u's scheme into the transport's (redis, rediss, unix) and the
// deployment's mode: "", "cluster" or "sentinel", which a redis:// URL with
// master_name is too.
func form(u *url.URL) (scheme, mode string) {
	scheme, mode, _ = strings.Cut(u.Scheme, "+")
	if mode == "" && u.Query().Has("master_name") {
		mode = "sentinel"
	}
	return scheme, mode
}

// WithPassword is rawURL, in any form NewClient reads, with password put
// where the Redis servers' password goes: the user information of every
// form but Sentinel's, whose user information is the sentinels' own, and
// whose servers' password is the password option. A URL that already
// carries a password there is refused, so two never compete. Errors never
// quote the URL.
func WithPassword(rawURL string, password []byte) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", errors.New("REDIS_URL is not a valid URL")
	}
	q := u.Query()
	if _, mode := form(u); mode == "sentinel" {
		if q.Has("password") {
			return "", errors.New("REDIS_URL has a password option and a sealed password is given: keep only the sealed one")
		}
		q.Set("password", string(password))
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	if _, has := u.User.Password(); has {
		return "", errors.New("REDIS_URL has a password and a sealed password is given: keep only the sealed one")
	}
	u.User = url.UserPassword(u.User.Username(), string(password))
	return u.String(), nil
}

// fastFail fills the options the URL left at zero. Retries are off because a
// failed command falls back to per-instance state at once, which serves the
// request sooner than a retry would.
func fastFail(dial, read, pool *time.Duration, retries, dialRetries *int) {
	if *dial == 0 {
		*dial = defaultDialTimeout
	}
	if *read == 0 {
		*read = defaultReadTimeout
	}
	if *pool == 0 {
		*pool = defaultPoolTimeout
	}
	if *retries == 0 {
		*retries = -1
	}
	if *dialRetries == 0 {
		*dialRetries = 1
	}
}
