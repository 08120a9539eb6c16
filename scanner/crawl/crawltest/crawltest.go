// Package crawltest serves fixture websites over HTTPS for the crawler's
// tests and benchmark. One TLS server answers for every host name; Chromium
// reaches it through --host-resolver-rules and trusts its certificate, made
// at start-up for exactly the fixture's names, by its public-key pin. The
// fixture sites use real-world host and cookie names (Google Analytics on
// www.googletagmanager.com, DoubleClick, YouTube, ...) so the classifier can
// classify what a scan of them finds.
package crawltest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Server is a running HTTPS server for a set of host names.
type Server struct {
	// Flags are the Chromium flags that send every host name to the server
	// (its port included) and make Chromium trust its certificate.
	Flags []string
	srv   *httptest.Server
}

// Start serves h over HTTPS with a new certificate for hosts.
func Start(h http.Handler, hosts ...string) (*Server, error) {
	cert, pin, err := certificate(hosts)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // Chromium's own probes fail TLS; that is noise
	srv.StartTLS()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return &Server{
		srv: srv,
		Flags: []string{
			"--host-resolver-rules=MAP * 127.0.0.1:" + port + ", EXCLUDE localhost",
			"--ignore-certificate-errors-spki-list=" + pin,
		},
	}, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// certificate makes a self-signed certificate for hosts and returns it with
// the base64 SHA-256 of its public key, which Chromium's
// --ignore-certificate-errors-spki-list accepts.
func certificate(hosts []string) (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("certificate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "crumb crawl fixture"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              hosts,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("certificate: %w", err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("certificate: %w", err)
	}
	sum := sha256.Sum256(parsed.RawSubjectPublicKeyInfo)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed}, base64.StdEncoding.EncodeToString(sum[:]), nil
}
