package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/kmsless/kmsless/infra/config"
)

// healthTimeout bounds a health check, within Docker's 30 s default.
const healthTimeout = 5 * time.Second

// healthcheck asks the api server the environment describes whether it is
// ready, as a container runtime's health check does from inside the
// container: the operator listener (KMS_OPERATOR_ADDR) when there is one,
// else the server's address (KMS_LISTEN_ADDR), over HTTPS when it serves it.
// It exits 0 when /readyz answers 200, else 1 with the reason.
func healthcheck(ctx context.Context, stdout, stderr io.Writer) int {
	set, err := config.Read(os.Getenv)
	if err == nil {
		err = probe(ctx, set, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmsless healthcheck: %v\n", err)
		return 1
	}
	return 0
}

func probe(ctx context.Context, set config.Settings, stdout io.Writer) error {
	url := set.ReadyzURL()
	transport := &http.Transport{DisableKeepAlives: true}
	if set.OperatorAddr == "" && set.HTTPS() {
		if set.TLSClientCAFile != "" {
			return errors.New("the server asks every client for a certificate (KMS_TLS_CLIENT_CA_FILE): set KMS_OPERATOR_ADDR, which probes reach without one")
		}
		pinned, err := servedCertificate(set.TLSCertFile)
		if err != nil {
			return err
		}
		// The server is this machine's, named by whatever its certificate
		// names: it is known by the certificate it serves, the one in
		// KMS_TLS_CERT_FILE, not by a CA's word for a name.
		transport.TLSClientConfig = &tls.Config{
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, pinned.Raw) {
					return errors.New("the server presents another certificate than KMS_TLS_CERT_FILE's")
				}
				return nil
			},
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", url, resp.Status, bytes.TrimSpace(body))
	}
	fmt.Fprintf(stdout, "%s: ready\n", url)
	return nil
}

// servedCertificate is the first certificate of the PEM file the server
// serves, its leaf.
func servedCertificate(file string) (*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("KMS_TLS_CERT_FILE: %w", err)
	}
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, fmt.Errorf("KMS_TLS_CERT_FILE %s holds no certificate", file)
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}
