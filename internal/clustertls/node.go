package clustertls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Node is one node's TLS identity: its certificate and key, and the
// cluster CA it trusts.
type Node struct {
	id    int
	cert  tls.Certificate // Leaf set
	ca    *x509.Certificate
	roots *x509.CertPool
	rev   *revocations // DIR/crl.pem

	// How often Watch reads the revocation list again and repeats an
	// expiry warning (tests shorten them).
	pollEvery, warnEvery time.Duration
}

// Load reads DIR/ca.pem and node id's pair, DIR/node-N.pem and
// DIR/node-N-key.pem (the CA's key is not needed), and the revocation
// list DIR/crl.pem if there is one. It checks that the key is the
// certificate's, that the certificate names node id, that the CA signed
// it and it is valid now, and that the list (which the CA must have
// signed) does not revoke it. Every error names the file it is about.
func Load(dir string, id int) (*Node, error) {
	caPath := filepath.Join(dir, CAFile)
	ca, err := readCert(caPath)
	if err != nil {
		return nil, err
	}
	if !ca.IsCA {
		return nil, fmt.Errorf("%s: not a CA certificate", caPath)
	}
	certPath, keyPath := filepath.Join(dir, NodeFile(id)), filepath.Join(dir, NodeKeyFile(id))
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, unwrapPath(err))
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, unwrapPath(err))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", certPath, keyPath, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", certPath, err)
		}
	}
	n := &Node{id: id, cert: cert, ca: ca, roots: x509.NewCertPool(), pollEvery: PollInterval, warnEvery: WarnInterval}
	n.roots.AddCert(ca)
	if n.rev, err = newRevocations(dir, ca, cert.Leaf.SerialNumber); err != nil {
		return nil, err
	}
	got, err := nodeID(cert.Leaf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	if got != id {
		return nil, fmt.Errorf("%s: certificate names node %d, not %d", certPath, got, id)
	}
	// Both uses: the node serves with it and dials with it.
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := n.verify([]*x509.Certificate{cert.Leaf}, u, time.Now()); err != nil {
			return nil, fmt.Errorf("%s: %w", certPath, err)
		}
	}
	if err := n.rev.list.Load().refuse(id, cert.Leaf.SerialNumber); err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	return n, nil
}

// ID returns the node id the certificate names.
func (n *Node) ID() int { return n.id }

// Serial returns the node certificate's serial number.
func (n *Node) Serial() *big.Int { return n.cert.Leaf.SerialNumber }

// NotAfter returns the end of the node certificate's validity.
func (n *Node) NotAfter() time.Time { return n.cert.Leaf.NotAfter }

// ServerConfig returns the configuration of a node's export listener
// (NewListener serves with it): TLS 1.3 only, the node's certificate, and a client certificate
// required, signed by the cluster CA for client use, naming a node and
// not revoked (the revocation list is looked at on every handshake and
// read again when its file changed); anything else ends the handshake
// before any application data is read. Any member may connect: which
// node it is, PeerNode tells.
func (n *Node) ServerConfig() *tls.Config { return n.serverConfig(nil) }

// serverConfig is ServerConfig for connection c (nil: untracked).
func (n *Node) serverConfig(c *trackedConn) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{n.cert},
		// The chain is verified in VerifyConnection, by verify, so
		// that its errors name the node and what is wrong; a client
		// with no certificate is refused by crypto/tls itself.
		ClientAuth:             tls.RequireAnyClientCert,
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return n.verifyPeer(c, cs, x509.ExtKeyUsageClientAuth, 0)
		},
	}
}

// ClientConfig returns the configuration for dialling the export of node
// wantID (the id gossip advertised at that address): TLS 1.3 only, the
// node's own certificate as client certificate, and the server's
// certificate checked to be signed by the cluster CA for server use, to
// name exactly node wantID — not a host name — and not to be revoked.
func (n *Node) ClientConfig(wantID int) *tls.Config { return n.clientConfig(nil, wantID) }

// Client returns a TLS client connection over nc to the export of node
// wantID, configured as by ClientConfig. Unlike a connection made with
// ClientConfig, it is closed when a revocation list revoking the peer's
// certificate comes into force.
func (n *Node) Client(nc net.Conn, wantID int) *tls.Conn {
	c := n.rev.track(nc)
	return tls.Client(c, n.clientConfig(c, wantID))
}

// clientConfig is ClientConfig for connection c (nil: untracked).
func (n *Node) clientConfig(c *trackedConn, wantID int) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{n.cert},
		// No host name to check: VerifyConnection checks the chain
		// against the CA and the node id instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return n.verifyPeer(c, cs, x509.ExtKeyUsageServerAuth, wantID)
		},
	}
}

// verifyPeer checks the peer's certificate of a handshake of connection c
// (nil: untracked): chain, usage and node (verify), the node wanted
// (wantID, unless 0), and revocation.
func (n *Node) verifyPeer(c *trackedConn, cs tls.ConnectionState, usage x509.ExtKeyUsage, wantID int) error {
	got, err := n.verify(cs.PeerCertificates, usage, time.Now())
	if err != nil {
		return err
	}
	if wantID != 0 && got != wantID {
		return &WrongNodeError{Got: got, Want: wantID}
	}
	return n.rev.admit(c, got, cs.PeerCertificates[0].SerialNumber)
}
