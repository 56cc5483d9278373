package clustertls

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuf is a log that tests read while the code under test writes it.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logTo sets n's logger to a fresh logBuf and returns it.
func logTo(n *Node) *logBuf {
	l := &logBuf{}
	n.SetLogger(slog.New(slog.NewTextHandler(l, nil)))
	return l
}

// mustRevoke revokes node id's certificate in dir.
func mustRevoke(t *testing.T, dir string, id int) Revocation {
	t.Helper()
	r, err := RevokeCert(dir, filepath.Join(dir, NodeFile(id)), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Node != id || r.Already {
		t.Fatalf("RevokeCert of node %d: %+v", id, r)
	}
	return r
}

// handshake has client dial a listener of server once and returns both
// sides' errors.
func handshake(t *testing.T, server, client *Node, wantID int) (serverErr, clientErr error) {
	t.Helper()
	addr, res := serveOne(t, server.NewListener)
	_, clientErr = tlsClient(addr, client.ClientConfig(wantID))
	s := <-res
	return s.err, clientErr
}

// TestRevoked: once node 3's certificate is revoked — after the nodes
// loaded their certificates, with no restart — node 1's export refuses it
// as a client and node 1 refuses it as the export it dials, each saying
// which node and serial; node 2 goes on as before.
func TestRevoked(t *testing.T) {
	for _, keyType := range []string{ECDSA, Ed25519} {
		t.Run(keyType, func(t *testing.T) {
			dir := makeDir(t, keyType, 1, 2, 3)
			n1, n2, n3 := mustLoad(t, dir, 1), mustLoad(t, dir, 2), mustLoad(t, dir, 3)
			log1, log3 := logTo(n1), logTo(n3)
			if serr, cerr := handshake(t, n1, n3, 1); serr != nil || cerr != nil {
				t.Fatalf("before revocation: server %v, client %v", serr, cerr)
			}
			r := mustRevoke(t, dir, 3)
			want := "certificate of node 3 (serial " + SerialText(r.Serial) + ") is revoked since "

			serr, cerr := handshake(t, n1, n3, 1)
			if serr == nil || !strings.Contains(serr.Error(), want) {
				t.Errorf("node 1's export, client node 3 revoked: server error %v, want %q", serr, want)
			}
			var re *RevokedError
			if !errors.As(serr, &re) || re.Node != 3 || re.Serial.Cmp(r.Serial) != 0 {
				t.Errorf("server error %#v, want a RevokedError of node 3", serr)
			}
			if cerr == nil {
				t.Error("revoked node 3 was served by node 1")
			}

			serr, cerr = handshake(t, n3, n1, 3)
			if cerr == nil || !strings.Contains(cerr.Error(), want) {
				t.Errorf("node 1 dialling revoked node 3: client error %v, want %q", cerr, want)
			}
			if serr == nil {
				t.Error("node 3's export read data from node 1 after refusing it")
			}

			for _, pair := range [][2]*Node{{n1, n2}, {n2, n1}} {
				if serr, cerr := handshake(t, pair[0], pair[1], pair[0].ID()); serr != nil || cerr != nil {
					t.Errorf("node %d dialling node %d: server %v, client %v", pair[1].ID(), pair[0].ID(), serr, cerr)
				}
			}
			if l := log1.String(); !strings.Contains(l, "revocation list loaded") || !strings.Contains(l, "revoked=1") {
				t.Errorf("node 1's log does not say it loaded the list:\n%s", l)
			}
			// Node 3 itself, when it read the list, said so.
			if l := log3.String(); !strings.Contains(l, "level=ERROR msg=\"tls: this node's own certificate is revoked") {
				t.Errorf("node 3's log does not say its certificate is revoked:\n%s", l)
			}
			// A node whose own certificate is revoked does not start.
			if _, err := Load(dir, 3); err == nil || !strings.Contains(err.Error(), "node-3.pem: "+want) {
				t.Errorf("Load of revoked node 3: %v, want %q", err, want)
			}
		})
	}
}

// liveConn is a connection that has finished its handshake and exchanged
// data, from both ends.
type liveConn struct {
	server, client net.Conn
}

// connect makes a live connection from client to a listener of server,
// the client dialling with Node.Client (tracked, as a node dials).
func connect(t *testing.T, server, client *Node) liveConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := server.NewListener(ln).Accept()
		if err != nil {
			accepted <- nil
			return
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil {
			c.Close()
			accepted <- nil
			return
		}
		c.SetDeadline(time.Time{})
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := client.Client(nc, server.ID())
	t.Cleanup(func() { cc.Close() })
	cc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cc.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	if sc == nil {
		t.Fatal("server side of the connection failed")
	}
	t.Cleanup(func() { sc.Close() })
	cc.SetDeadline(time.Time{})
	return liveConn{server: sc, client: cc}
}

// closed reports whether a read of c fails other than by its deadline
// within 10 s.
func closed(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil {
		return errors.New("read data")
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return err
	}
	return nil
}

// TestRevokedLiveConnection: a connection of a certificate revoked after
// its handshake is closed once the node looks at the list again (Watch
// does every PollInterval), on both sides of node 1: the connection it
// accepted from node 3 and the one it dialled to node 3's export; its
// connection with node 2 lives on.
func TestRevokedLiveConnection(t *testing.T) {
	dir := makeDir(t, ECDSA, 1, 2, 3)
	n1, n2, n3 := mustLoad(t, dir, 1), mustLoad(t, dir, 2), mustLoad(t, dir, 3)
	n1.pollEvery = 10 * time.Millisecond
	from3 := connect(t, n1, n3) // node 3 a client of node 1's export
	to3 := connect(t, n3, n1)   // node 1 a client of node 3's export
	from2 := connect(t, n1, n2)
	log := &logBuf{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		n1.Watch(ctx, slog.New(slog.NewTextHandler(log, nil)))
		close(done)
	}()
	defer func() { cancel(); <-done }()

	mustRevoke(t, dir, 3)
	if err := closed(from3.server); err != nil {
		t.Errorf("node 1's end of node 3's connection to its export: %v, want closed", err)
	}
	if err := closed(to3.client); err != nil {
		t.Errorf("node 1's connection to node 3's export: %v, want closed", err)
	}
	// Node 2's connection still carries data.
	from2.client.SetDeadline(time.Now().Add(10 * time.Second))
	from2.server.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := from2.client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(from2.server, make([]byte, 1)); err != nil {
		t.Errorf("node 2's connection after node 3's revocation: %v", err)
	}
	if got := strings.Count(log.String(), "closing the connection of a revoked certificate"); got != 2 {
		t.Errorf("%d closings logged, want 2:\n%s", got, log)
	}
	if !strings.Contains(log.String(), "node=3") {
		t.Errorf("the closings do not name node 3:\n%s", log)
	}
}

// TestBadList: a list that does not read, is signed by another CA or is
// older than the one in force is logged and ignored, and the last good
// list stays in force (revoked stays refused, others admitted); so it
// does when the file is removed. At Load, with no good list yet, a bad
// list is an error.
func TestBadList(t *testing.T) {
	dir := makeDir(t, ECDSA, 1, 2, 3)
	n1, n2, n3 := mustLoad(t, dir, 1), mustLoad(t, dir, 2), mustLoad(t, dir, 3)
	log := logTo(n1)
	mustRevoke(t, dir, 3)
	path := filepath.Join(dir, CRLFile)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	foreign := otherCA(t)
	foreignDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(9), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
	}, foreign.cert, foreign.key)
	if err != nil {
		t.Fatal(err)
	}
	older, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(0), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
	}, loadCA(t, dir).cert, loadCA(t, dir).key)
	if err != nil {
		t.Fatal(err)
	}
	pemCRL := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}) }

	// The first handshake reads the good list.
	if serr, _ := handshake(t, n1, n3, 1); serr == nil {
		t.Fatal("revoked node 3 admitted")
	}
	tests := []struct {
		name string
		data []byte // nil: remove the file
		log  string
	}{
		{"garbage", []byte("garbage\n"), "bad revocation list ignored"},
		{"truncated", good[:len(good)/2], "bad revocation list ignored"},
		{"another CA's", pemCRL(foreignDER), "not signed by this cluster's CA"},
		{"older", pemCRL(older), "revocation list older than the one in force ignored"},
		{"removed", nil, "the revocation list was removed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(path)
			if tt.data != nil {
				// Each file of its own size: a file rewritten in
				// place is known changed by its size or time.
				data := append(bytes.Clone(tt.data), strings.Repeat("\n", i+1)...)
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			serr, _ := handshake(t, n1, n3, 1)
			var re *RevokedError
			if !errors.As(serr, &re) {
				t.Errorf("revoked node 3 with a %s list: %v, want still refused", tt.name, serr)
			}
			if serr, cerr := handshake(t, n1, n2, 1); serr != nil || cerr != nil {
				t.Errorf("node 2 with a %s list: server %v, client %v", tt.name, serr, cerr)
			}
			if !strings.Contains(log.String(), tt.log) {
				t.Errorf("log does not say %q:\n%s", tt.log, log)
			}
			// Logged once, not at every handshake.
			before := strings.Count(log.String(), "level=")
			handshake(t, n1, n2, 1)
			if after := strings.Count(log.String(), "level="); after != before {
				t.Errorf("an unchanged %s list logged again:\n%s", tt.name, log)
			}
			if tt.data == nil {
				return
			}
			_, err := Load(dir, 1)
			want := tt.log
			if tt.name == "garbage" || tt.name == "truncated" {
				want = "not a revocation list"
			}
			if tt.name == "older" {
				return // a good list for a node that starts
			}
			if err == nil || !strings.Contains(err.Error(), "crl.pem: ") || !strings.Contains(err.Error(), want) {
				t.Errorf("Load with a %s list: %v, want an error saying %q", tt.name, err, want)
			}
		})
	}
	// A good list again: in force.
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRevoke(t, dir, 2)
	if serr, _ := handshake(t, n1, n2, 1); serr == nil {
		t.Error("node 2 admitted after a good list revoking it")
	}
}

// TestRevokeErrors: what mfs tls revoke refuses, and that revoking twice
// changes nothing.
func TestRevokeErrors(t *testing.T) {
	dir := makeDir(t, ECDSA, 1, 2)
	other := makeDir(t, ECDSA, 1)
	if _, err := RevokeCert(dir, filepath.Join(other, NodeFile(1)), 0); err == nil || !strings.Contains(err.Error(), "not signed by the CA") {
		t.Errorf("revoking another CA's certificate: %v", err)
	}
	if _, err := RevokeCert(dir, filepath.Join(dir, NodeFile(1)), 2); err == nil || !strings.Contains(err.Error(), "names node 1, not 2") {
		t.Errorf("revoking node 1's certificate as node 2's: %v", err)
	}
	r := mustRevoke(t, dir, 1)
	again, err := RevokeSerial(dir, r.Serial)
	if err != nil || !again.Already || again.Count != 1 {
		t.Errorf("revoking twice: %+v, %v", again, err)
	}
	if err := os.WriteFile(filepath.Join(dir, CRLFile), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := RevokeSerial(dir, big.NewInt(5)); err == nil || !strings.Contains(err.Error(), "refusing to replace it") {
		t.Errorf("revoking into a garbled list: %v", err)
	}
	os.Remove(filepath.Join(dir, CRLFile))
	os.Remove(filepath.Join(dir, CAKeyFile))
	if _, err := RevokeSerial(dir, big.NewInt(5)); err == nil || !strings.Contains(err.Error(), CAKeyFile) {
		t.Errorf("revoking without the CA key: %v", err)
	}
}

func TestParseSerial(t *testing.T) {
	for in, want := range map[string]int64{"1F": 0x1f, "serial=0A:BC": 0xabc, "0x10": 16, "ab:cd": 0xabcd, " ff\n": 255} {
		if got, err := ParseSerial(in); err != nil || got.Int64() != want {
			t.Errorf("ParseSerial(%q) = %v, %v; want %#x", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "xyz", "12 34", "+5", "serial="} {
		if got, err := ParseSerial(in); err == nil {
			t.Errorf("ParseSerial(%q) = %v, want an error", in, got)
		}
	}
}

// TestExpiryWarning: Watch warns at once and then every warnEvery while
// the node's certificate ends within ExpiryWarning; not otherwise.
func TestExpiryWarning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := CreateCA(dir, DefaultCAValidity, ECDSA); err != nil {
		t.Fatal(err)
	}
	if err := CreateNodeCert(dir, 1, 10*24*time.Hour, ECDSA); err != nil {
		t.Fatal(err)
	}
	if err := CreateNodeCert(dir, 2, DefaultNodeValidity, ECDSA); err != nil {
		t.Fatal(err)
	}
	watch := func(n *Node, until func(string) bool) string {
		n.warnEvery = 5 * time.Millisecond
		log := &logBuf{}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			n.Watch(ctx, slog.New(slog.NewTextHandler(log, nil)))
			close(done)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for !until(log.String()) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
		return log.String()
	}
	const warning = "certificate expires soon"
	got := watch(mustLoad(t, dir, 1), func(l string) bool { return strings.Count(l, warning) >= 3 })
	if strings.Count(got, warning) < 3 || !strings.Contains(got, "level=WARN") ||
		!strings.Contains(got, "file=node-1.pem") || !strings.Contains(got, "days_left=9") {
		t.Errorf("a certificate 10 days from its end: want repeated warnings naming node-1.pem, 9 days left:\n%s", got)
	}
	if strings.Contains(got, "file=ca.pem") {
		t.Errorf("a CA 10 years from its end was warned about:\n%s", got)
	}
	n2 := mustLoad(t, dir, 2)
	ticks := 0
	got = watch(n2, func(string) bool { ticks++; return ticks > 10 })
	if strings.Contains(got, warning) {
		t.Errorf("a certificate a year from its end was warned about:\n%s", got)
	}
}
