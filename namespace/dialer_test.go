package namespace

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"

	"mfs/internal/clustertls"
	"mfs/membership"
	"mfs/srv9p"
)

// lockedBuffer is a bytes.Buffer for a logger and a test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWithDialer: a namespace whose dialer speaks TLS reaches a peer's
// export served behind clustertls (the handshake runs in dialPeer, within
// the timeout), and refuses a peer whose certificate names another node
// than the table says, logging both ids.
func TestWithDialer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := clustertls.CreateCA(dir, time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	load := func(id int) *clustertls.Node {
		if err := clustertls.CreateNodeCert(dir, id, time.Minute, ""); err != nil {
			t.Fatal(err)
		}
		n, err := clustertls.Load(dir, id)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1, n2 := load(1), load(2)

	// Node 2's export, behind TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv9p.NewServer(exportOf(t, t.TempDir()), srv9p.ServerLogger(testLog(t))).Serve(ctx, n2.NewListener(ln))
	}()
	t.Cleanup(func() { cancel(); <-done })

	var logs lockedBuffer
	var dials int
	var mu sync.Mutex
	ns, err := New(1, exportOf(t, t.TempDir()),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		WithTimeout(5*time.Second),
		WithDialer(func(ctx context.Context, n Node) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", n.Addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(c, n1.ClientConfig(n.ID))
			mu.Lock()
			dials++
			mu.Unlock()
			return tc, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	// The same export, as node 2 (what its certificate says) and as node
	// 3 (what a lying gossip would say).
	ns.SetNode(Node{ID: 2, Addr: ln.Addr().String(), State: membership.Alive})
	ns.SetNode(Node{ID: 3, Addr: ln.Addr().String(), State: membership.Alive})
	root, err := ns.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	_, f, err := root.Walk([]string{"2"})
	if err != nil {
		t.Fatalf("walk /2 over TLS: %v\n%s", err, logs.String())
	}
	f.Close()
	_, _, err = root.Walk([]string{"3"})
	var errno linux.Errno
	if !errors.As(err, &errno) || errno != linux.EHOSTDOWN {
		t.Errorf("walk /3, a node whose certificate names node 2: %v, want EHOSTDOWN", err)
	}
	if l := logs.String(); !strings.Contains(l, "node=3") || !strings.Contains(l, "certificate names node 2, gossip says 3") {
		t.Errorf("no refusal with both ids in the log:\n%s", l)
	}
	mu.Lock()
	defer mu.Unlock()
	if dials != 2 {
		t.Errorf("%d dials through WithDialer, want 2", dials)
	}
}
