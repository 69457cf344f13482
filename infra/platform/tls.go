package platform

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
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
