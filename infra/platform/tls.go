package platform

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/metrics"
)

// Listen listens on s.ListenAddr for the local server: over TLS when s
// names a certificate (serverTLS), else plain TCP. With m, the certificate's
// expiry is a metric.
func Listen(s config.Settings, log *slog.Logger, m *metrics.Set) (net.Listener, error) {
	cfg, err := serverTLS(s, log, m)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.ListenAddr)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	return ln, nil
}

// serverTLS is the local server's TLS configuration, nil when s names no
// certificate (plain HTTP). The certificate and key are read now, so that a
// pair that cannot serve stops start-up, and again whenever either file
// changes, so that a renewed certificate is served without a restart. With
// a client CA every connection must present a certificate it issued, before
// any request is read; the CA file too is read again when it changes. TLS
// 1.2 is the least version, and HTTP/1.1 the one protocol, as on plain HTTP.
func serverTLS(s config.Settings, log *slog.Logger, m *metrics.Set) (*tls.Config, error) {
	if !s.HTTPS() {
		return nil, nil
	}
	pair := &reloaded[*tls.Certificate]{
		setting: "KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE", files: []string{s.TLSCertFile, s.TLSKeyFile},
		read: readKeyPair(s.TLSCertFile, s.TLSKeyFile), log: log,
		done: "TLS certificate reloaded", kept: "TLS certificate not reloaded: serving the one loaded before",
	}
	if err := pair.start(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return pair.current(), nil }}
	if s.TLSClientCAFile != "" {
		// Every handshake asks for a client certificate and takes the
		// configuration made when the CA file in service was read, which
		// trusts that file's CAs (the empty pool here trusts none).
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = x509.NewCertPool()
		clients := &reloaded[*tls.Config]{
			setting: "KMS_TLS_CLIENT_CA_FILE", files: []string{s.TLSClientCAFile},
			read: readClientCA(s.TLSClientCAFile, cfg.Clone()), log: log,
			done: "TLS client CA reloaded", kept: "TLS client CA not reloaded: trusting the one loaded before",
		}
		if err := clients.start(); err != nil {
			return nil, err
		}
		cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return clients.current(), nil }
	}
	if m != nil {
		m.WatchCertificate(func() time.Time { return pair.inService().Leaf.NotAfter })
	}
	return cfg, nil
}

// readKeyPair reads a certificate and its key, refusing an expired one.
func readKeyPair(certFile, keyFile string) func() (*tls.Certificate, error) {
	return func() (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE: %w", err)
		}
		if cert.Leaf == nil { // GODEBUG=x509keypairleaf=0
			if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return nil, fmt.Errorf("KMS_TLS_CERT_FILE: %w", err)
			}
		}
		if time.Now().After(cert.Leaf.NotAfter) {
			return nil, errors.New("KMS_TLS_CERT_FILE: the certificate has expired")
		}
		return &cert, nil
	}
}

// readClientCA reads the client CA file into a copy of base that trusts
// its CAs.
func readClientCA(file string, base *tls.Config) func() (*tls.Config, error) {
	return func() (*tls.Config, error) {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("KMS_TLS_CLIENT_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("KMS_TLS_CLIENT_CA_FILE: %s holds no PEM certificate", file)
		}
		cfg := base.Clone()
		cfg.ClientCAs = pool
		return cfg, nil
	}
}

// reloaded is a value read from files, read again when any of them
// changes. A read that fails, such as one of a file caught half rewritten,
// leaves the last good value in service; it is logged once (kept, with the
// reason), and tried again once a file changes again. A reload that
// succeeds is logged as done.
type reloaded[T any] struct {
	setting    string // the variables that name the files
	files      []string
	read       func() (T, error)
	log        *slog.Logger
	done, kept string

	mu sync.Mutex
	// tried is the files' stamps when they were last read, whether they
	// read or not; unread is why they could not be stamped, when they
	// could not, as last logged.
	tried  []fileStamp
	unread string
	val    T
}

// fileStamp is what tells a file changed: its size and modification time
// (nanoseconds since 1970).
type fileStamp struct{ size, mod int64 }

// start reads the files for the first time: an error stops start-up.
func (r *reloaded[T]) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.load()
	return err
}

// current is the value in service once the files have been looked at.
func (r *reloaded[T]) current() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch changed, err := r.load(); {
	case err != nil:
		r.log.Warn(r.kept, "err", err)
	case changed:
		r.log.Info(r.done, "file", r.files[0])
	}
	return r.val
}

// inService is the value in service, without looking at the files.
func (r *reloaded[T]) inService() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.val
}

// load reads the files if any changed since they were last read, and
// reports whether it did; an error, the first time it is met, says why it
// did not. On an error the value in service stays.
func (r *reloaded[T]) load() (bool, error) {
	now := make([]fileStamp, len(r.files))
	for i, path := range r.files {
		fi, err := os.Stat(path)
		if err != nil {
			if err.Error() == r.unread {
				return false, nil
			}
			r.unread = err.Error()
			return false, fmt.Errorf("%s: %w", r.setting, err)
		}
		now[i] = fileStamp{fi.Size(), fi.ModTime().UnixNano()}
	}
	r.unread = ""
	if r.tried != nil && slices.Equal(now, r.tried) {
		return false, nil
	}
	r.tried = now
	v, err := r.read()
	if err != nil {
		return false, err
	}
	r.val = v
	return true, nil
}
