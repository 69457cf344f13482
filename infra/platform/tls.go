package platform

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
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
// any request is read. TLS 1.2 is the least version, and HTTP/1.1 the one
// protocol, as on plain HTTP.
func serverTLS(s config.Settings, log *slog.Logger, m *metrics.Set) (*tls.Config, error) {
	if !s.HTTPS() {
		return nil, nil
	}
	pair := &keyPair{certFile: s.TLSCertFile, keyFile: s.TLSKeyFile, log: log}
	if _, err := pair.load(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}, GetCertificate: pair.get}
	if s.TLSClientCAFile != "" {
		pem, err := os.ReadFile(s.TLSClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("KMS_TLS_CLIENT_CA_FILE: %w", err)
		}
		cfg.ClientCAs = x509.NewCertPool()
		if !cfg.ClientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("KMS_TLS_CLIENT_CA_FILE: %s holds no PEM certificate", s.TLSClientCAFile)
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if m != nil {
		m.WatchCertificate(pair.notAfter)
	}
	return cfg, nil
}

// keyPair serves the certificate and key in two files, read again when
// either changes. A pair that fails to load, such as one caught half
// rewritten, leaves the last good one in service; it is logged once, and
// tried again once either file changes again.
type keyPair struct {
	certFile, keyFile string
	log               *slog.Logger

	mu sync.Mutex
	// tried is the files' stamps when they were last read, whether they
	// loaded or not; unread is why they could not be stamped, when they
	// could not, as last logged.
	tried  [2]fileStamp
	unread string
	cert   *tls.Certificate
}

// fileStamp is what tells a file changed: its size and modification time
// (nanoseconds since 1970).
type fileStamp struct{ size, mod int64 }

// get is tls.Config.GetCertificate.
func (p *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch changed, err := p.load(); {
	case err != nil:
		p.log.Warn("TLS certificate not reloaded: serving the one loaded before", "err", err)
	case changed:
		p.log.Info("TLS certificate reloaded", "cert", p.certFile)
	}
	return p.cert, nil
}

// notAfter is when the certificate in service expires.
func (p *keyPair) notAfter() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cert.Leaf.NotAfter
}

// load reads the pair if either file changed since it was last read, and
// reports whether it did; an error, the first time it is met, says why it
// did not. On an error the pair in service stays.
func (p *keyPair) load() (bool, error) {
	var now [2]fileStamp
	for i, path := range []string{p.certFile, p.keyFile} {
		fi, err := os.Stat(path)
		if err != nil {
			if err.Error() == p.unread {
				return false, nil
			}
			p.unread = err.Error()
			return false, err
		}
		now[i] = fileStamp{fi.Size(), fi.ModTime().UnixNano()}
	}
	p.unread = ""
	if p.cert != nil && now == p.tried {
		return false, nil
	}
	p.tried = now
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return false, fmt.Errorf("KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE: %w", err)
	}
	if cert.Leaf == nil { // GODEBUG=x509keypairleaf=0
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return false, fmt.Errorf("KMS_TLS_CERT_FILE: %w", err)
		}
	}
	if time.Now().After(cert.Leaf.NotAfter) {
		return false, errors.New("KMS_TLS_CERT_FILE: the certificate has expired")
	}
	p.cert = &cert
	return true, nil
}
