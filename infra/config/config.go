package config

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/infra/inproc"
	"github.com/kmsless/kmsless/infra/metrics"
	"github.com/kmsless/kmsless/infra/principals"
	"github.com/kmsless/kmsless/infra/redis"
	"github.com/kmsless/kmsless/infra/rootkey"
	"github.com/kmsless/kmsless/infra/sealed"
	"github.com/kmsless/kmsless/infra/seed"
	"github.com/kmsless/kmsless/infra/sign"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/postgres"
	"github.com/kmsless/kmsless/infra/store/storecopy"
)

// Platform is where the process runs.
type Platform string

// Platforms, detected from the runtime API variables.
const (
	Local  Platform = "local"
	Lambda Platform = "lambda"
	FC     Platform = "fc"
)

// Settings are the environment, parsed and defaulted. Nothing else reads env
// vars, but for the AWS SDK's default chain behind the aws-kms root key source.
type Settings struct {
	Platform   Platform
	ListenAddr string
	// OperatorAddr (KMS_OPERATOR_ADDR) is where the local server also
	// serves the operator paths alone (/metrics, /healthz, /readyz) over
	// plain HTTP, so that probes and scrapers need no client certificate;
	// empty: nowhere but ListenAddr.
	OperatorAddr string
	DataDir      string
	RootKey      string // KMS_ROOT_KEY: base64, or a CiphertextBlob with a cloud source
	RootKeyFile  string
	// RootKeyPrevious (KMS_ROOT_KEY_PREVIOUS, or RootKeyPreviousFile,
	// KMS_ROOT_KEY_PREVIOUS_FILE, with the file source) is a second root key,
	// from the same source, that still opens stored versions during a root
	// rotation; new versions are wrapped by KMS_ROOT_KEY alone.
	RootKeyPrevious     string
	RootKeyPreviousFile string
	// RootKeySource is KMS_ROOT_KEY_SOURCE as given: env, file, aws-kms or
	// alibaba-kms; empty means env, or file when only KMS_ROOT_KEY_FILE is set.
	RootKeySource string
	// RootKeyCMK, RootKeyContext and RootKeyTimeout are for the cloud sources:
	// the key the blob must be under, its encryption context, and how long
	// start-up waits for the cloud KMS.
	RootKeyCMK     string
	RootKeyContext map[string]string
	RootKeyTimeout time.Duration
	// RootKeyAlibaba is where alibaba-kms asks (KMS_ROOT_KEY_ENDPOINT) and with
	// whose credentials: the function role's, read only with that source. The
	// aws-kms source takes the AWS SDK's default chain instead, which reads the
	// standard AWS_* variables itself.
	RootKeyAlibaba rootkey.Alibaba
	Store          string
	// StorePasswordSealed is KMS_STORE_PASSWORD_SEALED: the PostgreSQL
	// password sealed under the root key (kmsless seal-store-password), put
	// into KMS_STORE's URL at start-up so that no plaintext password sits in
	// the configuration.
	StorePasswordSealed string
	// StorePoolSize caps one instance's PostgreSQL connections (0: the
	// store's default, or pool_max_conns in KMS_STORE, which wins).
	StorePoolSize int
	RedisURL      string
	// RedisPasswordSealed is KMS_REDIS_PASSWORD_SEALED: the password of
	// REDIS_URL's servers sealed under the root key (kmsless
	// seal-redis-password), put into the URL at start-up, which then
	// carries none.
	RedisPasswordSealed string
	QPS                 int
	Burst               int
	PrincipalsFile      string
	Region              string
	AccountID           string
	CacheTTL            time.Duration
	NonceTTL            time.Duration
	NonceMax            int
	ClockSkew           time.Duration
	MaxBody             int64
	LogLevel            slog.Level
	// LogJSON (KMS_LOG_FORMAT=json) writes log lines as JSON objects, as a
	// log collector reads them; the default in a cloud runtime. Text
	// otherwise (KMS_LOG_FORMAT=text), for a person at a terminal.
	LogJSON bool
	// FallbackShare is the share of a principal's QPS one instance admits on its
	// own while Redis is unreachable.
	FallbackShare float64
	// SigV4Repeats accepts an AWS request that signs no invocation ID again
	// while its date is valid, as AWS does (KMS_SIGV4_REPEATS=allow).
	SigV4Repeats bool
	// PartitionKeyID is the default CMK for partition provisioning.
	PartitionKeyID string
	// PartitionKeys are the keys a partition event may name, as it names them
	// (IDs, aliases or ARNs); by default PartitionKeyID alone.
	PartitionKeys []string
	// SeedFile is KMS_SEED_FILE: keys applied at start-up, idempotently.
	SeedFile string
	// PurgeInterval is how often the api server, running as a server,
	// destroys the keys and secrets past their deletion dates that no
	// request met (KMS_PURGE_INTERVAL; 0: never). Functions on a
	// serverless platform do not: nothing runs between their requests.
	PurgeInterval time.Duration
	// AuditLog is where audit records go: "stdout" or a file path
	// (KMS_AUDIT_LOG; default $KMS_DATA_DIR/audit.jsonl locally, stdout in a
	// cloud runtime, where the platform's log service collects it).
	AuditLog string
	// TLSCertFile and TLSKeyFile (KMS_TLS_CERT_FILE, KMS_TLS_KEY_FILE), PEM
	// files, make the local server serve HTTPS; TLSClientCAFile
	// (KMS_TLS_CLIENT_CA_FILE) has it also require a client certificate
	// that CA issued. A serverless platform terminates TLS in front of the
	// function, which ignores them.
	TLSCertFile, TLSKeyFile, TLSClientCAFile string
}

// HTTPS reports whether the local server serves HTTPS.
func (s Settings) HTTPS() bool { return s.TLSCertFile != "" }

// Scheme is the local server's URL scheme: https when it serves HTTPS.
func (s Settings) Scheme() string {
	if s.HTTPS() {
		return "https"
	}
	return "http"
}

// ReadyzURL is where a client on the local server's machine asks whether it
// is ready: the operator listener when there is one, else the server's own
// address.
func (s Settings) ReadyzURL() string {
	if s.OperatorAddr != "" {
		return "http://" + Dialable(s.OperatorAddr) + "/readyz"
	}
	return s.Scheme() + "://" + Dialable(s.ListenAddr) + "/readyz"
}

// Dialable is addr as a client on the same machine reaches it: a server
// listening on every address (":8080", as in the container image) is
// reached on 127.0.0.1, where an SDK given "[::]:8080" would fail.
func Dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "" && (ip == nil || !ip.IsUnspecified())) {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// Read parses the environment through getenv (os.Getenv in production).
func Read(getenv func(string) string) (Settings, error) {
	s := Settings{
		Platform:            Local,
		ListenAddr:          or(getenv("KMS_LISTEN_ADDR"), "127.0.0.1:8080"),
		OperatorAddr:        getenv("KMS_OPERATOR_ADDR"),
		DataDir:             or(getenv("KMS_DATA_DIR"), ".kmsless"),
		RootKey:             getenv("KMS_ROOT_KEY"),
		RootKeyFile:         getenv("KMS_ROOT_KEY_FILE"),
		RootKeyPrevious:     getenv("KMS_ROOT_KEY_PREVIOUS"),
		RootKeyPreviousFile: getenv("KMS_ROOT_KEY_PREVIOUS_FILE"),
		RootKeySource:       getenv("KMS_ROOT_KEY_SOURCE"),
		RootKeyCMK:          getenv("KMS_ROOT_KEY_CMK"),
		Store:               getenv("KMS_STORE"),
		StorePasswordSealed: getenv("KMS_STORE_PASSWORD_SEALED"),
		RedisURL:            getenv("REDIS_URL"),
		RedisPasswordSealed: getenv("KMS_REDIS_PASSWORD_SEALED"),
		PrincipalsFile:      getenv("KMS_PRINCIPALS_FILE"),
		Region:              or(getenv("KMS_REGION"), "cn-hangzhou"),
		AccountID:           or(getenv("KMS_ACCOUNT_ID"), "0000000000000000"),
		PartitionKeyID:      or(getenv("KMS_PARTITION_KEY_ID"), "alias/partitions"),
		SeedFile:            getenv("KMS_SEED_FILE"),
		TLSCertFile:         getenv("KMS_TLS_CERT_FILE"),
		TLSKeyFile:          getenv("KMS_TLS_KEY_FILE"),
		TLSClientCAFile:     getenv("KMS_TLS_CLIENT_CA_FILE"),
	}
	switch {
	case (s.TLSCertFile == "") != (s.TLSKeyFile == ""):
		return Settings{}, errors.New("set KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE together, or neither")
	case s.TLSClientCAFile != "" && !s.HTTPS():
		return Settings{}, errors.New("KMS_TLS_CLIENT_CA_FILE checks the clients of an HTTPS server: set KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE too")
	case s.RedisPasswordSealed != "" && s.RedisURL == "":
		return Settings{}, errors.New("KMS_REDIS_PASSWORD_SEALED is the password of REDIS_URL's servers: set REDIS_URL too")
	case s.OperatorAddr != "" && s.OperatorAddr == s.ListenAddr:
		return Settings{}, errors.New("KMS_OPERATOR_ADDR is a listener of its own: give it another address than KMS_LISTEN_ADDR")
	}
	switch {
	case getenv("AWS_LAMBDA_RUNTIME_API") != "":
		s.Platform = Lambda
	case getenv("FC_RUNTIME_API") != "":
		s.Platform = FC
	}
	if s.Store == "" {
		s.Store = "bolt://" + filepath.Join(s.DataDir, "kms.db")
	}
	s.AuditLog = getenv("KMS_AUDIT_LOG")
	switch {
	case s.AuditLog != "":
	case s.Platform == Local:
		s.AuditLog = filepath.Join(s.DataDir, "audit.jsonl")
	default:
		s.AuditLog = "stdout"
	}
	s.PartitionKeys = []string{s.PartitionKeyID}
	if v := getenv("KMS_PARTITION_KEYS"); v != "" {
		s.PartitionKeys = nil
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				s.PartitionKeys = append(s.PartitionKeys, k)
			}
		}
		if len(s.PartitionKeys) == 0 {
			return Settings{}, fmt.Errorf("KMS_PARTITION_KEYS must name at least one key, not %q", v)
		}
	}
	var err error
	ints := []struct {
		name     string
		dst      *int
		def, min int
	}{
		{"KMS_QPS_PER_USER", &s.QPS, 1000, 1},
		{"KMS_BURST", &s.Burst, 0, 0},
		{"KMS_NONCE_MAX", &s.NonceMax, DefaultNonceMax, 1},
		{"KMS_STORE_POOL_SIZE", &s.StorePoolSize, 0, 1},
	}
	for _, i := range ints {
		if *i.dst, err = intVar(getenv, i.name, i.def, i.min); err != nil {
			return Settings{}, err
		}
	}
	if s.Burst == 0 {
		s.Burst = s.QPS
	}
	durs := []struct {
		name string
		dst  *time.Duration
		def  time.Duration
	}{
		{"KMS_CACHE_TTL", &s.CacheTTL, time.Second},
		{"KMS_NONCE_TTL", &s.NonceTTL, 15 * time.Minute},
		{"KMS_CLOCK_SKEW", &s.ClockSkew, 15 * time.Minute},
		{"KMS_ROOT_KEY_TIMEOUT", &s.RootKeyTimeout, 5 * time.Second},
	}
	for _, d := range durs {
		if *d.dst, err = durVar(getenv, d.name, d.def); err != nil {
			return Settings{}, err
		}
	}
	if getenv("KMS_PURGE_INTERVAL") != "0" {
		if s.PurgeInterval, err = durVar(getenv, "KMS_PURGE_INTERVAL", 24*time.Hour); err != nil {
			return Settings{}, err
		}
	}
	mb, err := intVar(getenv, "KMS_MAX_BODY", 1<<20, 1024)
	if err != nil {
		return Settings{}, err
	}
	s.MaxBody = int64(mb)
	s.FallbackShare = 0.25
	if v := getenv("KMS_REDIS_FALLBACK_SHARE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return Settings{}, fmt.Errorf("KMS_REDIS_FALLBACK_SHARE must be a number in (0, 1], not %q", v)
		}
		s.FallbackShare = f
	}
	switch v := getenv("KMS_SIGV4_REPEATS"); v {
	case "", "refuse":
	case "allow":
		s.SigV4Repeats = true
	default:
		return Settings{}, fmt.Errorf("KMS_SIGV4_REPEATS must be refuse or allow, not %q", core.ClipText(v))
	}
	switch v := getenv("KMS_LOG_FORMAT"); v {
	case "":
		s.LogJSON = s.Platform != Local
	case "json", "text":
		s.LogJSON = v == "json"
	default:
		return Settings{}, fmt.Errorf("KMS_LOG_FORMAT must be text or json, not %q", core.ClipText(v))
	}
	if v := getenv("KMS_LOG_LEVEL"); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return Settings{}, fmt.Errorf("KMS_LOG_LEVEL: %w", err)
		}
	}
	if err := readRootKeySource(getenv, &s); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Root key sources, the values of KMS_ROOT_KEY_SOURCE.
const (
	SourceEnv        = "env"
	SourceFile       = "file"
	SourceAWSKMS     = "aws-kms"
	SourceAlibabaKMS = "alibaba-kms"
)

func readRootKeySource(getenv func(string) string, s *Settings) error {
	switch s.RootKeySource {
	case "", SourceEnv, SourceFile, SourceAWSKMS:
	case SourceAlibabaKMS:
		s.RootKeyAlibaba = rootkey.Alibaba{
			AccessKeyID:     getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
			AccessKeySecret: getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
			SecurityToken:   getenv("ALIBABA_CLOUD_SECURITY_TOKEN"),
		}
	default:
		return fmt.Errorf("KMS_ROOT_KEY_SOURCE must be %s, %s, %s or %s, not %q", SourceEnv, SourceFile, SourceAWSKMS, SourceAlibabaKMS, s.RootKeySource)
	}
	s.RootKeyAlibaba.Endpoint = getenv("KMS_ROOT_KEY_ENDPOINT")
	if v := getenv("KMS_ROOT_KEY_CONTEXT"); v != "" {
		if err := json.Unmarshal([]byte(v), &s.RootKeyContext); err != nil || s.RootKeyContext == nil {
			return fmt.Errorf(`KMS_ROOT_KEY_CONTEXT must be a JSON object of strings, such as {"purpose":"kmsless-root-key"}`)
		}
	}
	_, err := s.rootKeySource()
	return err
}

// rootKeySource is the one place that decides where the root key comes from,
// and refuses settings that name two places or belong to another source.
func (s Settings) rootKeySource() (string, error) {
	src := s.RootKeySource
	if src == "" {
		src = SourceEnv
		if s.RootKeyFile != "" && s.RootKey == "" {
			src = SourceFile
		}
	}
	cloud := src == SourceAWSKMS || src == SourceAlibabaKMS
	switch {
	case src == SourceEnv && s.RootKeyFile != "" && s.RootKey != "":
		return "", errors.New("set KMS_ROOT_KEY or KMS_ROOT_KEY_FILE, not both")
	case src == SourceEnv && s.RootKeyFile != "":
		return "", errors.New("KMS_ROOT_KEY_SOURCE=env reads KMS_ROOT_KEY, yet KMS_ROOT_KEY_FILE is set: choose one")
	case src == SourceFile && s.RootKey != "":
		return "", errors.New("KMS_ROOT_KEY_SOURCE=file reads KMS_ROOT_KEY_FILE, yet KMS_ROOT_KEY is set: choose one")
	case src == SourceFile && s.RootKeyFile == "":
		return "", errors.New("KMS_ROOT_KEY_SOURCE=file needs KMS_ROOT_KEY_FILE")
	case cloud && s.RootKeyFile != "":
		return "", fmt.Errorf("KMS_ROOT_KEY_SOURCE=%s reads the CiphertextBlob from KMS_ROOT_KEY; unset KMS_ROOT_KEY_FILE", src)
	case cloud && s.RootKey == "":
		return "", fmt.Errorf("KMS_ROOT_KEY_SOURCE=%s needs KMS_ROOT_KEY: the root key's CiphertextBlob, base64", src)
	case !cloud && (s.RootKeyCMK != "" || len(s.RootKeyContext) > 0):
		return "", fmt.Errorf("KMS_ROOT_KEY_CMK and KMS_ROOT_KEY_CONTEXT apply only to %s and %s", SourceAWSKMS, SourceAlibabaKMS)
	case src != SourceAlibabaKMS && s.RootKeyAlibaba.Endpoint != "":
		return "", fmt.Errorf("KMS_ROOT_KEY_ENDPOINT applies only to %s (%s takes AWS_ENDPOINT_URL_KMS)", SourceAlibabaKMS, SourceAWSKMS)
	case src == SourceAlibabaKMS && strings.HasPrefix(s.RootKeyCMK, "alias/"):
		return "", errors.New("KMS_ROOT_KEY_CMK must be a key ID or ARN with alibaba-kms: its Decrypt names the key by ID")
	case src == SourceAlibabaKMS && s.RootKeyAlibaba.Endpoint == "":
		return "", fmt.Errorf("KMS_ROOT_KEY_SOURCE=%s needs KMS_ROOT_KEY_ENDPOINT, such as kms-vpc.cn-hangzhou.aliyuncs.com", src)
	case src == SourceFile && s.RootKeyPrevious != "":
		return "", errors.New("KMS_ROOT_KEY_SOURCE=file reads the previous root key from KMS_ROOT_KEY_PREVIOUS_FILE, yet KMS_ROOT_KEY_PREVIOUS is set")
	case src != SourceFile && s.RootKeyPreviousFile != "":
		return "", fmt.Errorf("KMS_ROOT_KEY_SOURCE=%s reads the previous root key from KMS_ROOT_KEY_PREVIOUS; KMS_ROOT_KEY_PREVIOUS_FILE goes with the file source", src)
	case (s.RootKeyPrevious != "" || s.RootKeyPreviousFile != "") && s.RootKey == "" && s.RootKeyFile == "":
		return "", errors.New("KMS_ROOT_KEY_PREVIOUS needs the current root key too: KMS_ROOT_KEY or KMS_ROOT_KEY_FILE")
	}
	return src, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intVar(getenv func(string) string, name string, def, min int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("%s must be an integer >= %d, not %q", name, min, v)
	}
	return n, nil
}

func durVar(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 1s or 15m, not %q", name, v)
	}
	return d, nil
}

// Service is a wired KMS: the core service, who may call it, the settings it was
// made from, and what to close at shutdown.
type Service struct {
	KMS        *core.Service
	Principals *core.Directory
	Settings   Settings
	Logger     *slog.Logger
	// Edge is where every request of the instance enters and leaves.
	Edge *edge.Edge
	// Metrics are the instance's counts, which the edge, the cache and Redis
	// feed; the api server serves them at /metrics.
	Metrics *metrics.Set
	// DevPrincipal is set when no principals file was given locally: the
	// development principal whose credentials start-up prints.
	DevPrincipal *core.Principal
	closers      []func() error
	// readPrincipals reads the principals file, when there is one.
	readPrincipals func() (*core.Directory, error)
}

// Close releases connections and files, newest first.
func (s *Service) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Option adjusts how Load and Wire wire a service.
type Option func(*options)

type options struct {
	principalsOptional bool
	maintenance        bool
}

// Maintenance wires a service for an operator's command run against a
// deployment's store, such as a root rotation: the root key must be given
// (a local run never generates one), and it answers no caller, so it reads no
// principals and uses no Redis. What it destroys past its deletion date is
// recorded in KMS_AUDIT_LOG, chained as the functions' records are.
func Maintenance() Option {
	return func(o *options) { o.maintenance = true }
}

// PrincipalsOptional lets a cloud runtime start without KMS_PRINCIPALS_FILE,
// with no principals: for functions whose callers the platform authorizes
// (direct invocation through IAM or RAM). Signed HTTP requests to such a
// function are then refused as unknown AccessKeyIds.
func PrincipalsOptional() Option {
	return func(o *options) { o.principalsOptional = true }
}

// Load reads the process environment and wires the service.
func Load(ctx context.Context, opts ...Option) (*Service, error) {
	set, err := Read(os.Getenv)
	if err != nil {
		return nil, err
	}
	return Wire(ctx, set, NewLogger(set, os.Stderr), opts...)
}

// NewLogger returns the service's logger: JSON lines when set.LogJSON (a
// cloud runtime's default), else text.
func NewLogger(set Settings, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: set.LogLevel}
	if set.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Wire builds the service from settings.
func Wire(ctx context.Context, set Settings, log *slog.Logger, opts ...Option) (_ *Service, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// Not the named result: an error return sets that to nil before the
	// deferred Close runs.
	var emf io.Writer
	if set.Platform != Local {
		emf = os.Stdout // CloudWatch and SLS read metrics from the log stream
	}
	svc := &Service{Settings: set, Logger: log, Edge: edge.New(log), Metrics: metrics.New(emf)}
	defer func() {
		if err != nil {
			_ = svc.Close()
		}
	}()
	if o.maintenance {
		if err := needRootKey(set); err != nil {
			return nil, err
		}
	}
	root, previous, err := loadRootKeys(ctx, set, log)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, set, root, previous)
	if err != nil {
		return nil, err
	}
	svc.closers = append(svc.closers, store.Close)
	if o.maintenance {
		// Certificates' private keys are wrapped by the root key too: a
		// root rotation re-wraps them with the versions. A purge destroys
		// secrets as well as keys, and records each destruction in the
		// audit log as a function does.
		if svc.KMS, err = core.New(core.Config{Store: store, Certificates: store, Usage: store, Secrets: store, Root: root, PreviousRoots: previousRoots(previous),
			Region: set.Region, AccountID: set.AccountID, Destroyed: svc.Edge.Destroyed, UseLost: svc.Edge.UseLost}); err != nil {
			return nil, err
		}
		if err := wireAudit(set, root, svc); err != nil {
			return nil, err
		}
		return svc, nil
	}
	if err := loadPrincipals(set, log, svc, o, root, previous); err != nil {
		return nil, err
	}

	cfg := core.Config{
		Store: store, Partitions: store, Secrets: store, Grants: store, Certificates: store, Usage: store, Access: store,
		Root: root, Region: set.Region, AccountID: set.AccountID,
		QPS: set.QPS, Burst: set.Burst, NonceTTL: set.NonceTTL,
		// Grants are kept as long as key metadata: the one bound on how
		// long a change made on another instance goes unseen.
		CacheTTL: set.CacheTTL,
		// What is destroyed past its deletion date is recorded as a
		// request is (the audit sink is wired below, before any request).
		Destroyed: svc.Edge.Destroyed,
		UseLost:   svc.Edge.UseLost,
	}
	if cfg.PreviousRoots = previousRoots(previous); previous != nil {
		log.Info("root rotation: versions open under either root key; new ones are wrapped by the current", "current", root.ID(), "previous", previous.ID())
	}
	if err := wireShared(ctx, set, log, &cfg, svc); err != nil {
		return nil, err
	}
	cfg.Cache = svc.Metrics.Cache(cfg.Cache)
	if svc.KMS, err = core.New(cfg); err != nil {
		return nil, err
	}
	if set.SeedFile != "" {
		res, err := seed.Apply(ctx, svc.KMS, set.SeedFile)
		if err != nil {
			return nil, err
		}
		log.Info("seed file applied", slog.String("file", set.SeedFile), slog.Int("created", res.Created),
			slog.Int("existing", res.Existing), slog.Int("aliases", res.Aliases))
	}
	if err := wireAudit(set, root, svc); err != nil {
		return nil, err
	}
	return svc, nil
}

// wireAudit opens the audit sink and has the edge record every request to it,
// chained under a key derived from the root key.
func wireAudit(set Settings, root *core.RootKey, svc *Service) error {
	w, closeSink, err := audit.Sink(set.AuditLog)
	if err != nil {
		return fmt.Errorf("KMS_AUDIT_LOG: %w", err)
	}
	svc.closers = append(svc.closers, closeSink)
	key := root.DeriveKey(audit.KeyPurpose)
	defer clear(key) // the log keeps the HMAC's states, not the key
	svc.Edge.Record(audit.New(w, key), svc.KMS, svc.Metrics)
	return nil
}

// AuditKey is the key audit chains are verified with: the root key's, read
// from the environment as the service reads it, except that a missing local
// root key is an error here rather than generated.
func AuditKey(ctx context.Context, set Settings) ([]byte, error) {
	if src, _ := set.rootKeySource(); src == SourceEnv && set.RootKey == "" && set.Platform == Local {
		if _, err := os.Stat(filepath.Join(set.DataDir, "root.key")); err != nil {
			return nil, fmt.Errorf("no root key: set KMS_ROOT_KEY, KMS_ROOT_KEY_FILE or KMS_DATA_DIR to the service's")
		}
	}
	root, err := loadRootKey(ctx, set, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return root.DeriveKey(audit.KeyPurpose), nil
}

// Ready reports whether the service can answer: the root key is loaded (the
// service is wired only then) and the store answers a read.
func (s *Service) Ready(ctx context.Context) error {
	if s.KMS == nil {
		return errors.New("not wired")
	}
	if _, err := s.KMS.Store().GetKey(ctx, "readiness-probe"); err != nil && !errors.Is(err, core.ErrNotFound) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// DefaultNonceMax bounds the nonces one instance keeps in memory: enough for
// one principal at the default 1,000 requests a second over the 15-minute
// window, at 35-55 bytes each (inproc's BenchmarkNonceMemory, 100k and 1M
// nonces), some 37-56 MB of a 256 MB function.
const DefaultNonceMax = 1 << 20

// wireShared sets the cache, limiter and nonce store: in-process ones when
// REDIS_URL is unset, Redis-backed ones shared by every instance when it is set.
// An unreachable Redis does not stop start-up: requests are served from
// per-instance state until it answers. Nonces are kept for as long as a
// signature stays valid, each principal within an equal share of
// KMS_NONCE_MAX; without Redis, or while it is unreachable, they are kept by
// the store: in PostgreSQL for every instance on it, or in a journal beside
// the bolt file for this instance across restarts.
func wireShared(_ context.Context, set Settings, log *slog.Logger, cfg *core.Config, svc *Service) error {
	cfg.NonceWindow = 2 * set.ClockSkew
	cfg.NonceShare = nonceShare(set, svc.Principals)
	nonces, scope, err := storeNonces(set, cfg.Store, svc)
	if err != nil {
		return err
	}
	if set.SigV4Repeats {
		log.Warn("replay defense: KMS_SIGV4_REPEATS=allow: an AWS request that signs no invocation ID (boto3, the AWS CLI) is accepted again while its date is valid, as AWS accepts it")
	}
	if set.RedisURL == "" {
		cfg.Cache = inproc.NewCache(set.CacheTTL, 100_000)
		cfg.Limiter = inproc.NewLimiter()
		cfg.Nonces = nonces
		log.Info("replay defense: " + scope)
		return nil
	}
	u, err := redisURL(set, append([]*core.RootKey{cfg.Root}, cfg.PreviousRoots...)...)
	if err != nil {
		return err
	}
	shared, err := redis.Open(u, redis.Options{
		CacheTTL: set.CacheTTL, FallbackShare: set.FallbackShare, FallbackNonces: nonces, Logger: log,
		MACKey: cfg.Root.DeriveKey(redis.MACPurpose),
	})
	if err != nil {
		return err
	}
	svc.closers = append(svc.closers, shared.Close)
	svc.Metrics.WatchFallback(shared.Degraded)
	cfg.Cache = shared.Cache
	cfg.Limiter = shared.Limiter
	cfg.Nonces = shared.Limiter
	log.Info("replay defense: redis, shared by every instance; while Redis is unreachable: " + scope)
	return nil
}

// storeNonces is the nonce store that goes with the key store, and what its
// replay defense covers.
func storeNonces(set Settings, store core.KeyStore, svc *Service) (core.NonceStore, string, error) {
	switch st := store.(type) {
	case *postgres.Store:
		return st.Nonces(), "postgres, shared by instances on this store", nil
	case *bolt.Store:
		n, err := bolt.OpenNonces(strings.TrimPrefix(set.Store, "bolt://"), nil)
		if err != nil {
			return nil, "", err
		}
		svc.closers = append(svc.closers, n.Close)
		return n, "bolt journal, this instance, survives restarts", nil
	}
	return inproc.NewNonces(nil), "process memory, this instance until it restarts", nil
}

// OpenStore opens the store at url, named as KMS_STORE names one, for a
// maintenance command.
func OpenStore(ctx context.Context, url string) (storecopy.Store, error) {
	return openStore(ctx, Settings{Store: url})
}

// DeploymentStore opens the deployment's store for a maintenance command:
// KMS_STORE, with the password KMS_STORE_PASSWORD_SEALED seals, opened under
// the root keys, put in. Without a sealed password it needs no root key.
func DeploymentStore(ctx context.Context, set Settings, log *slog.Logger) (storecopy.Store, error) {
	if set.StorePasswordSealed == "" {
		return openStore(ctx, set)
	}
	if err := needRootKey(set); err != nil {
		return nil, err
	}
	root, previous, err := loadRootKeys(ctx, set, log)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, set, root, previous)
}

// loadRootKeys makes the current root key (loadRootKey) and the previous
// one, nil when KMS_ROOT_KEY_PREVIOUS is unset.
func loadRootKeys(ctx context.Context, set Settings, log *slog.Logger) (root, previous *core.RootKey, err error) {
	if root, err = loadRootKey(ctx, set, log); err != nil {
		return nil, nil, err
	}
	if previous, err = loadPreviousRootKey(ctx, set); err != nil {
		return nil, nil, err
	}
	return root, previous, nil
}

// openStore opens KMS_STORE, with the password KMS_STORE_PASSWORD_SEALED
// seals, opened by one of roots, put in.
func openStore(ctx context.Context, set Settings, roots ...*core.RootKey) (storecopy.Store, error) {
	u, err := storeURL(set, roots...)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(u, "bolt://"):
		return bolt.Open(strings.TrimPrefix(u, "bolt://"))
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return postgres.Open(ctx, withPoolSize(u, set.StorePoolSize))
	}
	return nil, fmt.Errorf("KMS_STORE must start with bolt:// or postgres://")
}

// storeURL is KMS_STORE with the password of KMS_STORE_PASSWORD_SEALED, opened
// by either root key, put in.
func storeURL(set Settings, roots ...*core.RootKey) (string, error) {
	if set.StorePasswordSealed == "" {
		return set.Store, nil
	}
	if !strings.HasPrefix(set.Store, "postgres://") && !strings.HasPrefix(set.Store, "postgresql://") {
		return "", errors.New("KMS_STORE_PASSWORD_SEALED applies only to a postgres:// KMS_STORE")
	}
	u, err := url.Parse(set.Store)
	if err != nil {
		return "", errors.New("KMS_STORE is not a valid URL") // the URL may hold a secret: not quoted
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		return "", errors.New("KMS_STORE has a password and KMS_STORE_PASSWORD_SEALED gives another: keep only the sealed one")
	}
	pw, err := sealed.Open([]byte(set.StorePasswordSealed), sealed.StorePassword, roots...)
	if err != nil {
		return "", fmt.Errorf("KMS_STORE_PASSWORD_SEALED: %w", err)
	}
	defer clear(pw)
	u.User = url.UserPassword(u.User.Username(), string(pw))
	return u.String(), nil
}

// redisURL is REDIS_URL with the password of KMS_REDIS_PASSWORD_SEALED,
// opened by one of roots, put where its servers take it.
func redisURL(set Settings, roots ...*core.RootKey) (string, error) {
	if set.RedisPasswordSealed == "" {
		return set.RedisURL, nil
	}
	pw, err := sealed.Open([]byte(set.RedisPasswordSealed), sealed.RedisPassword, roots...)
	if err != nil {
		return "", fmt.Errorf("KMS_REDIS_PASSWORD_SEALED: %w", err)
	}
	defer clear(pw)
	return redis.WithPassword(set.RedisURL, pw)
}

func needRootKey(set Settings) error {
	if set.RootKey == "" && set.RootKeyFile == "" {
		return errors.New("no root key: set KMS_ROOT_KEY or KMS_ROOT_KEY_FILE (with KMS_ROOT_KEY_SOURCE for a cloud KMS) as the deployment's functions have it")
	}
	return nil
}

// CurrentRootKey makes the root key the settings name, as the functions
// would, for an operator's command that seals secrets: it is never generated.
func CurrentRootKey(ctx context.Context, set Settings, log *slog.Logger) (*core.RootKey, error) {
	if err := needRootKey(set); err != nil {
		return nil, err
	}
	return loadRootKey(ctx, set, log)
}

// withPoolSize adds pool_max_conns=size to a PostgreSQL URL that sets none.
func withPoolSize(url string, size int) string {
	if size <= 0 || strings.Contains(url, "pool_max_conns") {
		return url
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "pool_max_conns=" + strconv.Itoa(size)
}

// loadRootKey makes the root key from the source rootKeySource chooses.
// Locally, with no root key set at all, it generates one into the data dir once;
// in a cloud runtime that is fatal.
func loadRootKey(ctx context.Context, set Settings, log *slog.Logger) (*core.RootKey, error) {
	src, err := set.rootKeySource()
	if err != nil {
		return nil, err
	}
	if src != SourceEnv || set.RootKey != "" {
		root, err := rootKeyFrom(ctx, set, src, "KMS_ROOT_KEY", set.RootKey, set.RootKeyFile)
		if err == nil && (src == SourceAWSKMS || src == SourceAlibabaKMS) {
			log.Info("root key unwrapped by the cloud KMS", "source", src)
		}
		return root, err
	}
	if set.Platform != Local {
		return nil, fmt.Errorf("no root key: set KMS_ROOT_KEY or KMS_ROOT_KEY_FILE, or KMS_ROOT_KEY_SOURCE with a cloud KMS (a %s runtime never generates one)", set.Platform)
	}
	text, err := localRootKey(set.DataDir, log)
	if err != nil {
		return nil, err
	}
	defer clear(text)
	return rootkey.FromText(text)
}

func previousRoots(previous *core.RootKey) []*core.RootKey {
	if previous == nil {
		return nil
	}
	return []*core.RootKey{previous}
}

// loadPreviousRootKey makes the previous root key of a rotation, from the
// same source as the current one; nil when none is set.
func loadPreviousRootKey(ctx context.Context, set Settings) (*core.RootKey, error) {
	if set.RootKeyPrevious == "" && set.RootKeyPreviousFile == "" {
		return nil, nil
	}
	src, err := set.rootKeySource()
	if err != nil {
		return nil, err
	}
	return rootKeyFrom(ctx, set, src, "KMS_ROOT_KEY_PREVIOUS", set.RootKeyPrevious, set.RootKeyPreviousFile)
}

// rootKeyFrom makes a root key from its source: base64 text, a file of it, or
// a cloud KMS's CiphertextBlob. name is the variable errors speak of.
func rootKeyFrom(ctx context.Context, set Settings, src, name, text, file string) (*core.RootKey, error) {
	switch src {
	case SourceFile:
		root, err := rootkey.FromFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s_FILE: %w", name, err)
		}
		return root, nil
	case SourceAWSKMS, SourceAlibabaKMS:
		w := rootkey.Wrapped{Blob: text, KeyID: set.RootKeyCMK, Context: set.RootKeyContext, Timeout: set.RootKeyTimeout}
		var root *core.RootKey
		var err error
		if src == SourceAWSKMS {
			root, err = rootkey.FromAWSKMS(ctx, w)
		} else {
			root, err = rootkey.FromAlibabaKMS(ctx, w, set.RootKeyAlibaba)
		}
		if err != nil {
			if name != "KMS_ROOT_KEY" {
				return nil, fmt.Errorf("%s (KMS_ROOT_KEY_SOURCE=%s): %w", name, src, err)
			}
			return nil, fmt.Errorf("KMS_ROOT_KEY_SOURCE=%s: %w", src, err)
		}
		return root, nil
	}
	b := []byte(text)
	defer clear(b)
	root, err := rootkey.FromText(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return root, nil
}

func localRootKey(dir string, log *slog.Logger) ([]byte, error) {
	path := filepath.Join(dir, "root.key")
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	raw, err := core.GenerateRootKey()
	if err != nil {
		return nil, err
	}
	text := []byte(base64.StdEncoding.EncodeToString(raw))
	clear(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(text); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	log.Warn("GENERATED A NEW ROOT KEY for local development; every key in this data dir is wrapped by it. Never use a generated root key in production: set KMS_ROOT_KEY or KMS_ROOT_KEY_FILE.", "path", path)
	return text, nil
}

// devPrincipal is the development principal saved in the data dir.
type devPrincipal struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
}

func loadPrincipals(set Settings, log *slog.Logger, svc *Service, o options, roots ...*core.RootKey) error {
	if set.PrincipalsFile != "" {
		svc.readPrincipals = func() (*core.Directory, error) { return readPrincipals(set, log, roots...) }
		d, err := svc.readPrincipals()
		if err != nil {
			return err
		}
		svc.Principals = d
		return nil
	}
	if set.Platform != Local && o.principalsOptional {
		d, err := core.NewDirectory(nil)
		if err != nil {
			return err
		}
		svc.Principals = d
		log.Info("no KMS_PRINCIPALS_FILE: only invocations the platform authorized are answered")
		return nil
	}
	if set.Platform != Local {
		return fmt.Errorf("no principals: set KMS_PRINCIPALS_FILE (a %s runtime has no development principal)", set.Platform)
	}
	dp, err := localDevPrincipal(set.DataDir)
	if err != nil {
		return err
	}
	p := core.Principal{Name: "development", AccessKeyID: dp.AccessKeyID, Secret: core.NewSecret(dp.AccessKeySecret), Policy: core.FullAccess()}
	d, err := core.NewDirectory([]core.Principal{p})
	if err != nil {
		return err
	}
	svc.Principals = d
	svc.DevPrincipal = d.Lookup(p.AccessKeyID)
	log.Info("no KMS_PRINCIPALS_FILE: using one development principal with full access")
	return nil
}

// readPrincipals reads the principals file, sealed under one of roots or
// not.
func readPrincipals(set Settings, log *slog.Logger, roots ...*core.RootKey) (*core.Directory, error) {
	b, err := os.ReadFile(set.PrincipalsFile)
	if err != nil {
		return nil, fmt.Errorf("principals file: %w", err)
	}
	defer clear(b)
	if sealed.IsSealed(b) {
		opened, err := sealed.Open(b, sealed.Principals, roots...)
		if err != nil {
			return nil, fmt.Errorf("principals file %s: %w", set.PrincipalsFile, err)
		}
		defer clear(opened)
		b = opened
	} else if set.Platform != Local {
		log.Warn("KMS_PRINCIPALS_FILE is not sealed: whoever reads the function's code or layers reads every AccessKeySecret; seal it with kmsless seal-principals", "file", set.PrincipalsFile)
	}
	d, err := principals.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("principals file %s: %w", set.PrincipalsFile, err)
	}
	return d, nil
}

// ReadPrincipals reads the principals file again, as start-up read it
// (sealed or not), for a server that follows its changes; nil and no error
// when the service has no principals file.
func (s *Service) ReadPrincipals() (*core.Directory, error) {
	if s.readPrincipals == nil {
		return nil, nil
	}
	return s.readPrincipals()
}

// ReplacePrincipals serves d's principals in place of those in service,
// from the next request on: each principal's share of the nonce memory
// follows their number, the keys derived from the secrets of those
// replaced are dropped, and the audit trail records each principal added,
// removed or changed.
func (s *Service) ReplacePrincipals(ctx context.Context, d *core.Directory) {
	changes := s.Principals.Changes(d)
	s.Principals.Replace(d)
	s.KMS.SetNonceShare(nonceShare(s.Settings, d))
	sign.Forget()
	s.Edge.PrincipalsChanged(ctx, changes)
}

// nonceShare is each principal's equal share of KMS_NONCE_MAX.
func nonceShare(set Settings, d *core.Directory) int {
	if n := d.Len(); n > 1 {
		return max(1, set.NonceMax/n)
	}
	return set.NonceMax
}

func localDevPrincipal(dir string) (devPrincipal, error) {
	path := filepath.Join(dir, "dev-principal.json")
	var dp devPrincipal
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &dp); err != nil || dp.AccessKeyID == "" || dp.AccessKeySecret == "" {
			return dp, fmt.Errorf("%s is damaged; delete it to make a new development principal", path)
		}
		return dp, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return dp, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return dp, err
	}
	id := make([]byte, 10)
	secret := make([]byte, 20)
	_, _ = rand.Read(id)
	_, _ = rand.Read(secret)
	dp = devPrincipal{AccessKeyID: "LTAI" + strings.ToUpper(hex.EncodeToString(id))[:20], AccessKeySecret: base64.RawURLEncoding.EncodeToString(secret)}
	b, _ := json.MarshalIndent(dp, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return dp, err
	}
	return dp, nil
}
