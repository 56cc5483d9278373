package clustertls

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// served is what the server of serveOne saw on its one connection.
type served struct {
	data  []byte // what the first Read returned
	err   error  // and its error
	state tls.ConnectionState
}

// serveOne listens on loopback TCP behind the listener wrap makes of it
// (Node.NewListener, as a node's export does), accepts one connection and
// reads from it once; a successful read is answered with "pong".
func serveOne(t *testing.T, wrap func(net.Listener) net.Listener) (string, <-chan served) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan served, 1)
	go func() {
		c, err := wrap(ln).Accept()
		if err != nil {
			out <- served{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		k, err := c.Read(buf)
		if err == nil {
			c.Write([]byte("pong"))
		}
		out <- served{data: buf[:k], err: err, state: c.(*tls.Conn).ConnectionState()}
	}()
	return ln.Addr().String(), out
}

// tlsClient dials addr with cfg, writes "ping" and reads the reply.
func tlsClient(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return c.ConnectionState(), err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		return c.ConnectionState(), err
	}
	if string(buf) != "pong" {
		return c.ConnectionState(), io.ErrUnexpectedEOF
	}
	return c.ConnectionState(), nil
}

// withCert returns a copy of n presenting c instead of its own pair.
func withCert(n *Node, c tls.Certificate) *Node {
	m := *n
	m.cert = c
	return &m
}

func TestHandshake(t *testing.T) {
	for _, keyType := range []string{ECDSA, Ed25519} {
		t.Run(keyType, func(t *testing.T) {
			dir := makeDir(t, keyType, 1, 2)
			n1, n2 := mustLoad(t, dir, 1), mustLoad(t, dir, 2)
			addr, res := serveOne(t, n1.NewListener)
			cs, err := tlsClient(addr, n2.ClientConfig(1))
			if err != nil {
				t.Fatalf("node 2 dialling node 1: %v", err)
			}
			s := <-res
			if s.err != nil || string(s.data) != "ping" {
				t.Fatalf("node 1 read %q, %v", s.data, s.err)
			}
			if cs.Version != tls.VersionTLS13 {
				t.Errorf("version %x, want TLS 1.3", cs.Version)
			}
			if id, err := PeerNode(s.state); id != 2 || err != nil {
				t.Errorf("node 1 sees peer %d, %v; want 2", id, err)
			}
			if id, err := PeerNode(cs); id != 1 || err != nil {
				t.Errorf("node 2 sees peer %d, %v; want 1", id, err)
			}
		})
	}
	if _, err := PeerNode(tls.ConnectionState{}); err == nil {
		t.Error("PeerNode of an unfinished handshake: no error")
	}
}

// TestRefused: every connection that is not a member's, or not the
// member the dialler wants, ends before the server reads a byte of
// application data, and both sides' errors say why.
func TestRefused(t *testing.T) {
	dir := makeDir(t, ECDSA, 1, 2, 3)
	n1, n2, n3 := mustLoad(t, dir, 1), mustLoad(t, dir, 2), mustLoad(t, dir, 3)
	ca := loadCA(t, dir)
	now := time.Now()
	expired := pair(t, ca, 2, now.Add(-3*time.Hour), now.Add(-2*time.Hour))
	early := pair(t, ca, 2, now.Add(time.Hour), now.Add(2*time.Hour))
	foreign := pair(t, otherCA(t), 2, now.Add(-time.Hour), now.Add(time.Hour))
	anonymous := unnamed(t, ca)

	// plain sends a 9P Tversion as a client without TLS would and reads
	// until the server closes. A 9P2000.L Tversion (21 bytes: 0x15 …)
	// reads to crypto/tls as the header of a 100-byte alert record: the
	// listener must refuse it at its first byte, not wait for more.
	plain := func(version string) func(addr string) error {
		return func(addr string) error {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			size := 4 + 1 + 2 + 4 + 2 + len(version)
			msg := []byte{byte(size), 0, 0, 0, 100, 0xff, 0xff, 0, 0x20, 0, 0, byte(len(version)), 0}
			c.Write(append(msg, version...))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = io.ReadAll(c)
			return err
		}
	}
	dialer := func(cfg *tls.Config) func(string) error {
		return func(addr string) error { _, err := tlsClient(addr, cfg); return err }
	}
	tests := []struct {
		name       string
		server     *Node
		client     func(addr string) error
		wantServer string // in the server's read error
		wantClient string // in the client's error; "" for any error or none
	}{
		{"plain 9P2000.L client", n1, plain("9P2000.L"), "not a TLS client (first byte 0x15; plain 9P?)", ""},
		{"plain 9P2000 client", n1, plain("9P2000"), "not a TLS client (first byte 0x13; plain 9P?)", ""},
		{"TLS client without a certificate", n1,
			dialer(&tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}),
			"tls: client didn't provide a certificate", "tls: certificate required"},
		{"TLS 1.2 client", n1,
			dialer(func() *tls.Config {
				c := n2.ClientConfig(1)
				c.MinVersion, c.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
				return c
			}()),
			"tls: client offered only unsupported versions", "protocol version not supported"},
		{"certificate of another CA", n1, dialer(withCert(n2, foreign).ClientConfig(1)),
			"certificate of node 2 is not signed by this cluster's CA", "bad certificate"},
		{"certificate naming no node", n1, dialer(withCert(n2, anonymous).ClientConfig(1)),
			"certificate names no node", "bad certificate"},
		{"expired client certificate", n1, dialer(withCert(n2, expired).ClientConfig(1)),
			"certificate of node 2 expired at " + stamp(expired.Leaf.NotAfter), "bad certificate"},
		{"client certificate not yet valid", n1, dialer(withCert(n2, early).ClientConfig(1)),
			"certificate of node 2 is not valid before ", "bad certificate"},
		{"server is node 3, dialler wants 2", n3, dialer(n1.ClientConfig(2)),
			"bad certificate", "certificate names node 3, gossip says 2"},
		{"expired server certificate", withCert(n2, expired), dialer(n1.ClientConfig(2)),
			"bad certificate", "certificate of node 2 expired at "},
		{"server of another CA", withCert(n2, foreign), dialer(n1.ClientConfig(2)),
			"bad certificate", "certificate of node 2 is not signed by this cluster's CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, res := serveOne(t, tt.server.NewListener)
			cerr := tt.client(addr)
			s := <-res
			t.Logf("server: %v; client: %v", s.err, cerr)
			if s.err == nil || len(s.data) != 0 {
				t.Fatalf("server read %q, %v: want no data and an error", s.data, s.err)
			}
			if !strings.Contains(s.err.Error(), tt.wantServer) {
				t.Errorf("server error %q, want %q", s.err, tt.wantServer)
			}
			if tt.wantClient != "" && (cerr == nil || !strings.Contains(cerr.Error(), tt.wantClient)) {
				t.Errorf("client error %v, want %q", cerr, tt.wantClient)
			}
		})
	}
}

// unnamed makes a certificate signed by ca that names no node.
func unnamed(t *testing.T, ca *authority) tls.Certificate {
	t.Helper()
	key, err := newKey(ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "mfs-node-2"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestNodeID(t *testing.T) {
	tests := []struct {
		uris []string
		want int
		err  string
	}{
		{[]string{"mfs://node/3"}, 3, ""},
		{[]string{"https://example.com/", "mfs://node/65535"}, 65535, ""},
		{nil, 0, "names no node"},
		{[]string{"https://example.com/node/3"}, 0, "names no node"},
		{[]string{"mfs://node/03"}, 0, "malformed"},
		{[]string{"mfs://node/0"}, 0, "malformed"},
		{[]string{"mfs://node/65536"}, 0, "malformed"},
		{[]string{"mfs://other/3"}, 0, "malformed"},
		{[]string{"mfs://node/3?x=1"}, 0, "malformed"},
		{[]string{"mfs://node/2", "mfs://node/3"}, 0, "two nodes"},
	}
	for _, tt := range tests {
		c := &x509.Certificate{}
		for _, s := range tt.uris {
			u, err := url.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			c.URIs = append(c.URIs, u)
		}
		got, err := nodeID(c)
		if got != tt.want || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("nodeID(%v) = %d, %v; want %d, %q", tt.uris, got, err, tt.want, tt.err)
		}
	}
}
