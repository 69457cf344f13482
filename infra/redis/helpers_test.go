package redis_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/redis"
	"github.com/kmsless/kmsless/infra/store/bolt"
)

// sharedURL is the machine's Redis, shared with other tests: each test works
// under its own key prefix and never flushes it.
func sharedURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// uniquePrefix is a key prefix no other test uses; its keys are deleted at the
// end of the test.
func uniquePrefix(t testing.TB, url string) string {
	t.Helper()
	p := "kmstest:" + strings.ReplaceAll(t.Name(), "/", ".") + ":" + rand.Text()[:8] + ":"
	t.Cleanup(func() {
		rdb, err := redis.NewClient(url)
		if err != nil {
			return
		}
		defer rdb.Close()
		ctx := context.Background()
		for cursor := uint64(0); ; {
			keys, next, err := rdb.Scan(ctx, cursor, p+"*", 10_000).Result()
			if err != nil {
				return
			}
			if len(keys) > 0 {
				rdb.Unlink(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				return
			}
		}
	})
	return p
}

// server is a private redis-server that a test may kill, restart or flush.
type server struct {
	t    testing.TB
	port int
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	// URL is how kmsless reaches it; opts how the test itself does.
	URL  string
	opts *goredis.Options
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// launch starts s and stops it when the test ends.
func launch(t testing.TB, s *server) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	s.t = t
	if s.opts == nil {
		s.opts = &goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)}
	}
	s.start()
	t.Cleanup(s.kill)
	return s
}

// startRedis starts a plain redis-server on a free port.
func startRedis(t testing.TB, extra ...string) *server {
	t.Helper()
	return startRedisAs(t, "", extra...)
}

// startRedisAs starts a redis-server on a free port that asks for password,
// unless it is empty; its URL carries none, its test client does.
func startRedisAs(t testing.TB, password string, extra ...string) *server {
	t.Helper()
	port := freePort(t)
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir()}, extra...)
	if password != "" {
		args = append(args, "--requirepass", password)
	}
	return launch(t, &server{port: port, args: args, URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port),
		opts: &goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Password: password}})
}

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	opts := *s.opts
	opts.MaxRetries = -1
	rdb := goredis.NewClient(&opts)
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if rdb.Ping(context.Background()).Err() == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server %q did not start", s.args)
		}
	}
}

// kill stops the server at once, as a crash would.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// client is a plain client of the server, for the test's own commands.
func (s *server) client() *goredis.Client {
	rdb := goredis.NewClient(s.opts)
	s.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// counter counts the commands an instance sends to Redis.
type counter struct {
	mu    sync.Mutex
	names map[string]int
	total atomic.Int64
	// writes counts network writes: a pipeline is one, whatever it holds.
	writes atomic.Int64
}

func (c *counter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.writes.Add(1)
		c.add(cmd)
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.writes.Add(1)
		for _, cmd := range cmds {
			c.add(cmd)
		}
		return next(ctx, cmds)
	}
}

func (c *counter) add(cmd goredis.Cmder) {
	c.total.Add(1)
	c.mu.Lock()
	c.names[cmd.Name()]++
	c.mu.Unlock()
}

func (c *counter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.names
	c.names = map[string]int{}
	c.total.Store(0)
	c.writes.Store(0)
	return old
}

// countingStore counts key reads, to show how often the cache reaches the store.
type countingStore struct {
	core.KeyStore
	keyReads atomic.Int64
}

func (s *countingStore) GetKey(ctx context.Context, id string) (core.Key, error) {
	s.keyReads.Add(1)
	return s.KeyStore.GetKey(ctx, id)
}

// fleet is several kmsless instances in one process: one store and root key,
// each instance with its own Redis client, cache, limiter and subscription.
type fleet struct {
	t      testing.TB
	prefix string
	root   *core.RootKey
	store  *countingStore
	nodes  []*node
	opts   redis.Options
	clock  core.Clock
}

type node struct {
	kms    *core.Service
	shared *redis.Shared
	count  *counter
}

// fleetConfig shapes a fleet; zero values are the defaults.
type fleetConfig struct {
	url   string // default: the shared Redis
	urls  []string
	n     int
	opts  redis.Options
	clock core.Clock // default: the system's
}

func newFleet(t testing.TB, fc fleetConfig) *fleet {
	t.Helper()
	if fc.url == "" {
		fc.url = sharedURL()
	}
	if fc.n == 0 {
		fc.n = 2
	}
	if fc.opts.Prefix == "" {
		fc.opts.Prefix = uniquePrefix(t, fc.url)
	}
	if fc.opts.Logger == nil {
		fc.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if fc.opts.CacheTTL == 0 {
		fc.opts.CacheTTL = time.Second
	}
	if fc.opts.FallbackShare == 0 {
		fc.opts.FallbackShare = 0.25
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "kms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	root, err := core.NewRootKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	if fc.opts.MACKey == nil {
		fc.opts.MACKey = root.DeriveKey(redis.MACPurpose)
	}
	f := &fleet{t: t, prefix: fc.opts.Prefix, root: root, store: &countingStore{KeyStore: st}, opts: fc.opts, clock: fc.clock}
	for i := range fc.n {
		url := fc.url
		if i < len(fc.urls) {
			url = fc.urls[i]
		}
		f.join(url)
	}
	return f
}

// join starts one more instance on url, as a newly started function would.
func (f *fleet) join(url string) *node {
	f.t.Helper()
	rdb, err := redis.NewClient(url)
	if err != nil {
		f.t.Fatal(err)
	}
	c := &counter{names: map[string]int{}}
	rdb.AddHook(c)
	sh, err := redis.New(rdb, f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { sh.Close() })
	svc, err := core.New(core.Config{
		Store: f.store, Root: f.root, Cache: sh.Cache, Limiter: sh.Limiter, Nonces: sh.Limiter, Clock: f.clock,
		QPS: 1000, NonceTTL: 15 * time.Minute, NonceWindow: 30 * time.Minute,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	n := &node{kms: svc, shared: sh, count: c}
	f.nodes = append(f.nodes, n)
	return n
}

// principal is a caller with full access and the given limit, its AccessKeyId
// unique to the test.
func principal(qps, burst int) *core.Principal {
	return &core.Principal{
		Name: "p", AccessKeyID: "LTAI" + rand.Text()[:16], Secret: core.NewSecret("secret"),
		QPS: qps, Burst: burst, Policy: core.FullAccess(),
	}
}

// call runs one action as p with a fresh signature nonce.
func (n *node) call(p *core.Principal, action string, params core.Params) (any, error) {
	return n.callNonce(p, rand.Text(), action, params)
}

// callNonce runs an action and returns its Alibaba response object.
func (n *node) callNonce(p *core.Principal, nonce, action string, params core.Params) (any, error) {
	r, err := n.kms.Handle(context.Background(), &core.Request{ID: "req", Action: action, Params: params, Caller: p, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return alibaba.Response(n.kms, "req", r)
}

// createKey makes a key through n and returns its ID.
func (n *node) createKey(t testing.TB, p *core.Principal) string {
	t.Helper()
	r, err := n.call(p, "CreateKey", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.(*alibaba.KeyMetadataResponse).KeyMetadata.KeyId
}

// generate asks n for a data key ciphertext under keyID.
func (n *node) generate(p *core.Principal, keyID string) (*alibaba.CiphertextResponse, error) {
	r, err := n.call(p, "GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": keyID})
	if err != nil {
		return nil, err
	}
	return r.(*alibaba.CiphertextResponse), nil
}

// mustCall runs an action that must succeed.
func mustCall(t testing.TB, n *node, p *core.Principal, action string, params core.Params) any {
	t.Helper()
	r, err := n.call(p, action, params)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return r
}

// mustClient is a plain client for the test's own commands.
func mustClient(t testing.TB, url string) goredis.UniversalClient {
	t.Helper()
	rdb, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// code is the KMS error code of err ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	var ke *core.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return "non-KMS error: " + err.Error()
}

// within polls cond every 5 ms until it holds or d passes, and returns how long
// it took.
func within(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s did not happen within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
