package clustertls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of peer certificates, kept together.
var (
	// ErrNoCertificate: the peer presented no certificate.
	ErrNoCertificate = errors.New("peer presented no certificate")
	// ErrNoNodeID: the certificate has no mfs://node/N URI.
	ErrNoNodeID = errors.New("certificate names no node (no mfs://node/N URI)")
)

// WrongNodeError is the dialling side's refusal of a server whose
// certificate names another node than the one gossip advertised there.
type WrongNodeError struct {
	Got  int // the node the certificate names
	Want int // the node gossip advertised
}

func (e *WrongNodeError) Error() string {
	return fmt.Sprintf("certificate names node %d, gossip says %d", e.Got, e.Want)
}

// nodeURI is the URI SAN naming node id.
func nodeURI(id int) *url.URL {
	return &url.URL{Scheme: "mfs", Host: "node", Path: "/" + strconv.Itoa(id)}
}

// nodeID returns the node a certificate names: its one URI SAN of scheme
// mfs, which must read exactly mfs://node/N with 1 ≤ N ≤ MaxNodeID.
func nodeID(cert *x509.Certificate) (int, error) {
	id := 0
	for _, u := range cert.URIs {
		if u.Scheme != "mfs" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(u.Path, "/"))
		if err != nil || n < 1 || n > MaxNodeID || u.String() != nodeURI(n).String() {
			return 0, fmt.Errorf("certificate names a malformed node %q (want mfs://node/N)", u.String())
		}
		if id != 0 {
			return 0, fmt.Errorf("certificate names two nodes, %d and %d", id, n)
		}
		id = n
	}
	if id == 0 {
		return 0, ErrNoNodeID
	}
	return id, nil
}

// PeerNode returns the node id named by the peer's certificate of a
// connection whose handshake is complete. The certificate is the one the
// handshake verified when the connection was made with ServerConfig or
// ClientConfig (a handshake with either does not complete otherwise);
// PeerNode does not verify it again.
func PeerNode(cs tls.ConnectionState) (int, error) {
	if !cs.HandshakeComplete {
		return 0, errors.New("TLS handshake not complete")
	}
	if len(cs.PeerCertificates) == 0 {
		return 0, ErrNoCertificate
	}
	return nodeID(cs.PeerCertificates[0])
}

// verify checks a peer's certificate (the first of certs; the cluster
// has no intermediate CAs, so any others are ignored) at time now: signed
// by the cluster CA, valid now, allowed for usage, and naming a node,
// which it returns. Its errors say in words what is wrong and whose
// certificate it is.
func (n *Node) verify(certs []*x509.Certificate, usage x509.ExtKeyUsage, now time.Time) (int, error) {
	if len(certs) == 0 {
		return 0, ErrNoCertificate
	}
	leaf := certs[0]
	id, idErr := nodeID(leaf)
	who := "certificate naming no node"
	if idErr == nil {
		who = fmt.Sprintf("certificate of node %d", id)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: n.roots, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: now})
	if err != nil {
		return 0, n.explain(who, leaf, usage, err, now)
	}
	if idErr != nil {
		return 0, idErr
	}
	return id, nil
}

// verifyError is a verification failure said in words; it wraps the x509
// error without repeating it.
type verifyError struct {
	msg string
	err error
}

func (e *verifyError) Error() string { return e.msg }
func (e *verifyError) Unwrap() error { return e.err }

// explain turns an x509 verification failure of leaf into a sentence
// about who (e.g. "certificate of node 3").
func (n *Node) explain(who string, leaf *x509.Certificate, usage x509.ExtKeyUsage, err error, now time.Time) error {
	var inv x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var msg string
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		msg = who + " " + validityWords(leaf, now)
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		msg = fmt.Sprintf("%s is not allowed for TLS %s use", who, usageName(usage))
	case errors.As(err, &ua) && (now.After(n.ca.NotAfter) || now.Before(n.ca.NotBefore)):
		// x509 reports an expired root as an unknown authority.
		msg = fmt.Sprintf("%s cannot be verified: the cluster CA %s", who, validityWords(n.ca, now))
	case errors.As(err, &ua):
		msg = who + " is not signed by this cluster's CA"
	default:
		return fmt.Errorf("%s: %w", who, err)
	}
	return &verifyError{msg: msg, err: err}
}

// validityWords says why cert is not valid at now: "expired at T" or
// "is not valid before T".
func validityWords(cert *x509.Certificate, now time.Time) string {
	if now.Before(cert.NotBefore) {
		return "is not valid before " + stamp(cert.NotBefore)
	}
	return "expired at " + stamp(cert.NotAfter)
}

// usageName names a TLS extended key usage for messages.
func usageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return "server"
	case x509.ExtKeyUsageClientAuth:
		return "client"
	}
	return fmt.Sprintf("usage-%d", u)
}
