// Command loadgen prints the service's HTTP comparisons, each a ratio with p50
// and p99 beside it: GenerateDataKeyWithoutPlaintext, ACS3-signed, on bbolt,
// against a bare handler that receives the very same signed requests (floor);
// on PostgreSQL with REDIS_URL set against the same service without Redis
// (redis); and over HTTPS against the same over HTTP (tls). Servers run in
// this process on loopback, wired from the environment as the api function
// wires itself, and served as it serves locally; runs alternate between the
// sides of a comparison so both see the same machine.
//
// With -cpus N the floor comparison's servers run instead in a child process
// confined to N CPUs by a cgroup of its own, as a container is, and each
// side's CPU per request is the server's alone. With -docker IMAGE too, the
// child runs in a Docker container of that image (`make image`) limited to N
// CPUs, and is reached on the container's bridge network, as a published
// port is:
//
//	go run ./bench/cmd/loadgen -compare floor -cpus 1 -cpuprofile server.out
//	go run ./bench/cmd/loadgen -compare floor -cpus 1 -docker kmsless
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/kmsless/kmsless/bench/floor"
	"github.com/kmsless/kmsless/bench/load"
	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/metrics"
	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/infra/rootkey"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/sign"
	"github.com/kmsless/kmsless/infra/store/postgres"
)

// host is the Host every request is signed for and sent with, whichever
// server receives it.
const host = "kms.bench.local"

func main() {
	if os.Getenv(serverEnv) != "" {
		check(serveChild(os.Stdin, os.Stdout))
		return
	}
	compare := flag.String("compare", "floor,redis,tls", "comparisons to run: floor, redis, tls")
	o := load.Options{}
	flag.IntVar(&o.Conns, "conns", 16, "connections")
	flag.IntVar(&o.Rounds, "rounds", 4, "rounds; each runs every side once")
	flag.DurationVar(&o.Run, "run", 3*time.Second, "length of one run")
	redisURL := flag.String("redis", or(os.Getenv("REDIS_URL"), "redis://127.0.0.1:6379/0"), "Redis for the redis comparison")
	pgURL := flag.String("postgres", or(os.Getenv("KMS_TEST_POSTGRES_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"PostgreSQL server; the redis comparison makes a database of its own there")
	cpus := flag.Float64("cpus", 0, "run the floor comparison's servers in a process of their own confined to this many CPUs, "+
		"as a container is (docker run --cpus); the load stays outside the limit")
	cgroupRoot := flag.String("cgroup", defaultCgroupRoot(), "for -cpus, the cgroup to make the servers' cgroup in: "+
		"a cgroup v2 hierarchy's (/sys/fs/cgroup) or the cgroup v1 cpu controller's mount (/sys/fs/cgroup/cpu)")
	image := flag.String("docker", "", "with -cpus, run the servers in a Docker container of this image (make image) "+
		"limited to that many CPUs, on its bridge network, instead of a cgroup of loadgen's own")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole process (servers and load) to this file; "+
		"with -cpus, of the server process during kmsless's first run")
	flag.Parse()

	if *cpuprofile != "" && *cpus == 0 {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	if *image != "" && *cpus == 0 {
		check(errors.New("-docker runs the floor comparison's servers in a container limited by -cpus: run -compare floor -cpus N -docker IMAGE"))
	}
	for _, c := range strings.Split(*compare, ",") {
		switch {
		case c == "floor" && *cpus > 0:
			profile := *cpuprofile
			if profile != "" {
				var err error
				profile, err = filepath.Abs(profile)
				check(err)
			}
			box := inCgroup(*cgroupRoot, *cpus)
			if *image != "" {
				box = inContainer(*image, *cgroupRoot, *cpus)
			}
			check(compareFloorIn(os.Stdout, o, box, profile))
		case c == "floor":
			check(compareFloor(o))
		case *cpus > 0:
			check(errors.New("-cpus confines the floor comparison's servers only: run -compare floor"))
		case c == "redis":
			check(compareRedis(o, *pgURL, *redisURL))
		case c == "tls":
			check(compareTLS(o))
		default:
			check(fmt.Errorf("unknown comparison %q", c))
		}
	}
}

// floorNames name the sides of the floor comparison, in order.
var floorNames = []string{"floor", "kmsless", "kmsless-unverified"}

// floorServers are the servers of the floor comparison, on loopback.
type floorServers struct {
	Addrs []string // one per floorNames
	Creds load.Credentials
	KeyID string
}

func (s floorServers) sides() []load.Side {
	sides := make([]load.Side, len(floorNames))
	for i, name := range floorNames {
		sides[i] = load.Side{Name: name, Addr: s.Addrs[i]}
	}
	return sides
}

// pool signs n GenerateDataKeyWithoutPlaintext requests for the servers' key.
func (s floorServers) pool(n int) *load.Pool { return dataKeyPool(n, s.KeyID, s.Creds) }

// startFloorServers serves the floor handler, kmsless on bbolt with its audit
// trail (wired as the api function wires itself) and the same service without
// signature checks, each on a free loopback port, with data in a temporary
// directory that stop removes.
func startFloorServers() (floorServers, func(), error) {
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return floorServers{}, nil, err
	}
	stops := []func(){func() { os.RemoveAll(dir) }}
	stop := func() {
		for _, f := range slices.Backward(stops) {
			f()
		}
	}
	kms, err := startKMS(map[string]string{"KMS_DATA_DIR": dir, "KMS_STORE": "bolt://" + filepath.Join(dir, "kms.db")})
	if err != nil {
		stop()
		return floorServers{}, nil, err
	}
	stops = append(stops, kms.stop)
	floorAddr, stopFloor, err := serve(floor.Handler())
	if err != nil {
		stop()
		return floorServers{}, nil, err
	}
	stops = append(stops, stopFloor)
	// The same service with signature verification and nonces skipped (the
	// AccessKeyId is trusted), to price verification alone: the same edge, so
	// it keeps the audit trail and metrics.
	unverifiedAddr, stopUnverified, err := serve(rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: kms.svc.KMS, Principals: kms.svc.Principals,
		Edge: kms.svc.Edge, Authenticator: func(r *http.Request, _ url.Values, _ []byte) (sign.Result, error) {
			return sign.Result{Principal: kms.svc.DevPrincipal, Action: r.Header.Get("x-acs-action"), Version: r.Header.Get("x-acs-version")}, nil
		}}))
	if err != nil {
		stop()
		return floorServers{}, nil, err
	}
	stops = append(stops, stopUnverified)
	return floorServers{Addrs: []string{floorAddr, kms.addr, unverifiedAddr}, Creds: kms.creds, KeyID: kms.keyID}, stop, nil
}

// compareFloor runs the floor handler and kmsless on bbolt with the same
// pools, the servers in this process.
func compareFloor(o load.Options) error {
	s, stop, err := startFloorServers()
	if err != nil {
		return err
	}
	defer stop()
	o.Sign = s.pool
	res, err := load.Compare(o, s.sides()...)
	if err != nil {
		return err
	}
	fmt.Printf("== GenerateDataKeyWithoutPlaintext, ACS3-signed, HTTP, bbolt, vs a bare handler fed the same requests (%d conns, %d x %s each)\n", o.Conns, o.Rounds, o.Run)
	reportFloor(os.Stdout, res, "client and server")
	return nil
}

// reportFloor prints the floor comparison; cpuOf says whose CPU the results
// count.
func reportFloor(w io.Writer, res []load.Result, cpuOf string) {
	report(w, res, floorNames, cpuOf)
	fmt.Fprintf(w, "ratio %.2f of floor (aim >= 0.9); p99 %.2fx floor's (aim <= 1.5x); %.2f of the same without verification\n",
		res[1].PerSecond()/res[0].PerSecond(), ratio(res[1].Quantile(0.99), res[0].Quantile(0.99)), res[1].PerSecond()/res[2].PerSecond())
	// On a shared machine throughput follows the neighbours' load; CPU per
	// request does much less.
	fmt.Fprintf(w, "cpu ratio %.2f (floor's CPU per request over kmsless's, %s): kmsless spends %.1f µs more per request\n",
		float64(res[0].CPUPerRequest())/float64(res[1].CPUPerRequest()), cpuOf, micros(res[1].CPUPerRequest()-res[0].CPUPerRequest()))
}

// compareRedis runs kmsless on one PostgreSQL database without and with Redis.
func compareRedis(o load.Options, pgURL, redisURL string) error {
	db, drop, err := database(pgURL)
	if err != nil {
		return err
	}
	defer drop()
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Both share the data dir's root key and development principal, so each
	// can use the key the other made.
	local, err := startKMS(map[string]string{"KMS_DATA_DIR": dir, "KMS_STORE": db})
	if err != nil {
		return err
	}
	defer local.stop()
	shared, err := startKMS(map[string]string{"KMS_DATA_DIR": dir, "KMS_STORE": db, "REDIS_URL": redisURL})
	if err != nil {
		return err
	}
	defer shared.stop()
	inmem, err := startInprocKMS(dir, db, local)
	if err != nil {
		return err
	}
	defer inmem.stop()
	o.Sign = local.pool
	rdb, err := redisClient(redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	calls := map[string]float64{}
	var redisCPU float64
	o.Around = func(s load.Side, run func() (load.Result, error)) (load.Result, error) {
		if s.Addr != shared.addr {
			return run()
		}
		before, err := redisStats(rdb)
		if err != nil {
			return load.Result{}, err
		}
		r, err := run()
		after, err2 := redisStats(rdb)
		if err == nil {
			err = err2
		}
		for k, v := range after.calls {
			calls[k] += v - before.calls[k]
		}
		redisCPU += after.cpu - before.cpu
		return r, err
	}
	names := []string{"postgres", "postgres+redis", "postgres+memory"}
	res, err := load.Compare(o, load.Side{Name: names[0], Addr: local.addr}, load.Side{Name: names[1], Addr: shared.addr},
		load.Side{Name: names[2], Addr: inmem.addr})
	if err != nil {
		return err
	}
	fmt.Printf("== the same on PostgreSQL, with REDIS_URL vs without (%d conns, %d x %s each)\n", o.Conns, o.Rounds, o.Run)
	fmt.Println("   (without Redis, nonces are kept in PostgreSQL; postgres+memory keeps cache, limits and nonces in process memory)")
	report(os.Stdout, res, names, "client and server")
	fmt.Printf("ratio %.2f of without Redis (aim >= 0.8); p99 %.2fx\n",
		res[1].PerSecond()/res[0].PerSecond(), ratio(res[1].Quantile(0.99), res[0].Quantile(0.99)))
	fmt.Printf("ratio %.2f of process memory; p99 %.2fx\n",
		res[1].PerSecond()/res[2].PerSecond(), ratio(res[1].Quantile(0.99), res[2].Quantile(0.99)))
	n := float64(res[1].Requests)
	// A script's own calls count in commandstats too; evalsha and mget are
	// only ever sent by clients.
	fmt.Printf("with Redis, per request: evalsha %.3f, mget %.4f (INFO commandstats, whole server); redis-server CPU %.1f µs; this process %+.1f µs of CPU beside postgres, %+.1f µs beside process memory\n",
		calls["evalsha"]/n, calls["mget"]/n, redisCPU*1e6/n, micros(res[1].CPUPerRequest()-res[0].CPUPerRequest()),
		micros(res[1].CPUPerRequest()-res[2].CPUPerRequest()))
	return nil
}

func report(w io.Writer, res []load.Result, names []string, cpuOf string) {
	for i, r := range res {
		note := ""
		if r.Exhausted {
			note = " (pool ran out in some run)"
		}
		fmt.Fprintf(w, "%-16s %8.0f req/s  p50 %6.0f µs  p99 %6.0f µs  cpu %5.1f µs/req (%s)%s\n", names[i], r.PerSecond(),
			micros(r.Quantile(0.5)), micros(r.Quantile(0.99)), micros(r.CPUPerRequest()), cpuOf, note)
	}
}

func micros(d time.Duration) float64 { return float64(d) / 1e3 }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// kms is a kmsless api server on loopback with a key to ask data keys of.
type kms struct {
	svc   *config.Service // nil when not wired by config
	addr  string
	creds load.Credentials
	keyID string
	stop  func()
}

// startKMS wires the service from env as the api function does (a local
// development principal in KMS_DATA_DIR) with a rate limit above any load
// here, serves it on a free loopback port (over TLS if env says so) and
// makes a key.
func startKMS(env map[string]string) (*kms, error) {
	k, err := wireKMS(env)
	if err != nil {
		return nil, err
	}
	body, err := load.Do(k.addr, load.Sign(host, load.Call{Action: "CreateKey"}, k.creds))
	if err != nil {
		k.stop()
		return nil, fmt.Errorf("CreateKey: %w", err)
	}
	var created struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(body, &created); err != nil {
		k.stop()
		return nil, err
	}
	k.keyID = created.KeyMetadata.KeyId
	return k, nil
}

// wireKMS is startKMS without the key.
func wireKMS(env map[string]string) (*kms, error) {
	env["KMS_QPS_PER_USER"] = "100000000"
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	svc, err := config.Wire(context.Background(), set, config.NewLogger(set, io.Discard))
	if err != nil {
		return nil, err
	}
	addr, stop, err := serveWith(set, platform.API(svc).HTTP)
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	k := &kms{svc: svc, addr: addr, stop: func() { stop(); _ = svc.Close() }}
	b, err := os.ReadFile(filepath.Join(set.DataDir, "dev-principal.json"))
	if err != nil {
		k.stop()
		return nil, err
	}
	var dp struct{ AccessKeyID, AccessKeySecret string }
	if err := json.Unmarshal(b, &dp); err != nil {
		k.stop()
		return nil, err
	}
	k.creds = load.Credentials{AccessKeyID: dp.AccessKeyID, Secret: dp.AccessKeySecret}
	return k, nil
}

// startInprocKMS serves the service of like on the same data dir and database
// with the in-process cache, limiter and nonces: what Redis replaces, without
// the store's nonce writes. The wiring is config's but for those three, the
// audit trail and metrics included.
func startInprocKMS(dir, db string, like *kms) (*kms, error) {
	text, err := os.ReadFile(filepath.Join(dir, "root.key"))
	if err != nil {
		return nil, err
	}
	root, err := rootkey.FromText(text)
	if err != nil {
		return nil, err
	}
	st, err := postgres.Open(context.Background(), db)
	if err != nil {
		return nil, err
	}
	svc, err := core.New(core.Config{Store: st, Root: root, Region: "cn-hangzhou", AccountID: "0000000000000000",
		QPS: 100_000_000, Cache: inproc.NewCache(time.Second, 100_000), Limiter: inproc.NewLimiter(), Nonces: inproc.NewNonces(nil)})
	if err != nil {
		st.Close()
		return nil, err
	}
	dirp, err := core.NewDirectory([]core.Principal{{Name: "development", AccessKeyID: like.creds.AccessKeyID,
		Secret: core.NewSecret(like.creds.Secret), Policy: core.FullAccess()}})
	if err != nil {
		st.Close()
		return nil, err
	}
	// An audit trail and metrics of its own, as the other sides keep, so
	// that only the cache, limits and nonces differ.
	trail, err := os.OpenFile(filepath.Join(dir, "audit-memory.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		st.Close()
		return nil, err
	}
	e := edge.New(nil)
	e.Record(audit.New(trail, root.DeriveKey(audit.KeyPurpose)), svc, metrics.New(nil))
	addr, stop, err := serve(rpc.New(rpc.Options{ClockSkew: 15 * time.Minute, MaxBody: 1 << 20, KMS: svc, Principals: dirp, Edge: e}))
	if err != nil {
		trail.Close()
		st.Close()
		return nil, err
	}
	return &kms{addr: addr, creds: like.creds, keyID: like.keyID, stop: func() { stop(); st.Close(); trail.Close() }}, nil
}

// pool signs n GenerateDataKeyWithoutPlaintext requests for k's key.
func (k *kms) pool(n int) *load.Pool { return dataKeyPool(n, k.keyID, k.creds) }

// dataKeyPool signs n GenerateDataKeyWithoutPlaintext requests for keyID, the
// request every comparison here sends.
func dataKeyPool(n int, keyID string, creds load.Credentials) *load.Pool {
	return load.NewPool(n, host, load.Call{Action: "GenerateDataKeyWithoutPlaintext", Query: url.Values{"KeyId": {keyID}}}, creds)
}

// listenAddr is where the servers listen: a free loopback port, unless a
// child in a container's network listens on every address.
var listenAddr = "127.0.0.1:0"

// serve serves h as the local api server does, on a free loopback port.
func serve(h http.Handler) (string, func(), error) { return serveWith(config.Settings{}, h) }

// serveWith serves h as the local api server does with settings s (its TLS),
// on a free loopback port.
func serveWith(s config.Settings, h http.Handler) (string, func(), error) {
	s.Platform, s.ListenAddr = config.Local, listenAddr
	log := config.NewLogger(s, io.Discard)
	ln, err := platform.Listen(s, log, nil)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = platform.Serve(ctx, ln, h, log)
	}()
	return ln.Addr().String(), func() { cancel(); <-done }, nil
}

// compareTLS serves kmsless on bbolt over HTTP and over HTTPS, each
// listener made as the local server makes it, and runs the same requests
// through both on connections opened before the clock starts: what TLS
// costs a request on a kept connection, the handshake apart. The two are
// one data dir copied, so that each has the key and remembers its own
// nonces, as the sides of the other comparisons do.
func compareTLS(o load.Options) error {
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	plainDir, tlsDir := filepath.Join(dir, "http"), filepath.Join(dir, "https")
	made, err := startKMS(map[string]string{"KMS_DATA_DIR": plainDir})
	if err != nil {
		return err
	}
	made.stop()
	if err := os.CopyFS(tlsDir, os.DirFS(plainDir)); err != nil {
		return err
	}
	certFile, keyFile, roots, err := selfSigned(dir)
	if err != nil {
		return err
	}
	plain, err := wireKMS(map[string]string{"KMS_DATA_DIR": plainDir})
	if err != nil {
		return err
	}
	defer plain.stop()
	secure, err := wireKMS(map[string]string{"KMS_DATA_DIR": tlsDir, "KMS_TLS_CERT_FILE": certFile, "KMS_TLS_KEY_FILE": keyFile})
	if err != nil {
		return err
	}
	defer secure.stop()
	plain.keyID = made.keyID
	o.Sign = plain.pool
	names := []string{"http", "https"}
	res, err := load.Compare(o, load.Side{Name: names[0], Addr: plain.addr}, load.Side{Name: names[1], Addr: secure.addr, TLS: &tls.Config{RootCAs: roots}})
	if err != nil {
		return err
	}
	fmt.Printf("== the same on bbolt over HTTPS vs HTTP, an ECDSA P-256 certificate, connections kept (%d conns, %d x %s each)\n", o.Conns, o.Rounds, o.Run)
	report(os.Stdout, res, names, "client and server")
	fmt.Printf("ratio %.2f of HTTP; p99 %.2fx; HTTPS spends %.1f µs more CPU per request (client and server)\n",
		res[1].PerSecond()/res[0].PerSecond(), ratio(res[1].Quantile(0.99), res[0].Quantile(0.99)), micros(res[1].CPUPerRequest()-res[0].CPUPerRequest()))
	return nil
}

// selfSigned writes a self-signed ECDSA P-256 certificate for 127.0.0.1 and
// its key into dir, and returns their paths and a pool that trusts it.
func selfSigned(dir string) (certFile, keyFile string, roots *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "loadgen"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return "", "", nil, err
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots, nil
}

// database creates a database of its own on the server at base and returns
// its URL and how to drop it.
func database(base string) (string, func(), error) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "loadgen" + hex.EncodeToString(suffix[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = admin.Close(ctx)
	}, nil
}

func redisClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

// redisServerStats are a Redis server's totals since it started.
type redisServerStats struct {
	calls map[string]float64 // per command, from INFO commandstats
	cpu   float64            // used_cpu_user + used_cpu_sys, in seconds
}

func redisStats(rdb *redis.Client) (redisServerStats, error) {
	info, err := rdb.Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		return redisServerStats{}, err
	}
	s := redisServerStats{calls: map[string]float64{}}
	for _, line := range strings.Split(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "cmdstat_"):
			calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
			s.calls[strings.TrimPrefix(k, "cmdstat_")], _ = strconv.ParseFloat(calls, 64)
		case k == "used_cpu_user", k == "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			s.cpu += f
		}
	}
	return s, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
