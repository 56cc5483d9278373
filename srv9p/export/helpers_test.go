package export

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"mfs/internal/dial"
	"mfs/srv9p"

	"github.com/hugelgupf/p9/p9"
)

// serve starts Serve for a on a fresh listener of the given network ("tcp"
// on loopback or "unix") and returns its mfs address. The server stops when
// the test ends.
func serve(t testing.TB, network string, a p9.Attacher) string {
	t.Helper()
	var addr string
	switch network {
	case "tcp":
		addr = "127.0.0.1:0"
	case "unix":
		addr = "unix:" + filepath.Join(t.TempDir(), "9p.sock")
	}
	ln, err := dial.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	if network == "tcp" {
		addr = ln.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
	// The tests' clients connect from ordinary ports: a trusted listener
	// believes them, as --tcp-trust all does.
	go func() { done <- srv9p.NewServer(a, srv9p.ServerLogger(log), srv9p.TrustClaims()).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return addr
}

// attachRemote dials addr and attaches to the export root.
func attachRemote(t testing.TB, addr string) (*dial.Conn, p9.File) {
	t.Helper()
	c, err := dial.Dial(context.Background(), addr, dial.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	root, err := c.Attach("/")
	if err != nil {
		t.Fatal(err)
	}
	return c, root
}

// newExport exports a fresh temporary directory.
func newExport(t testing.TB, opts ...Option) (p9.Attacher, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := New(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
