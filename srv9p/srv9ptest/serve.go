package srv9ptest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p"
)

// Promptly bounds how long a blocking Tlock may take once the lock is
// free or the request is flushed: generous, but far below the 30 s the
// Linux client waits before it retries a BLOCKED answer.
const Promptly = 10 * time.Second

// WaitFor polls cond until it holds, and fails the test if it does not
// within Promptly.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Promptly)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Listen opens a listener on loopback TCP ("tcp") or on a unix socket
// ("unix") in a short temporary directory (socket paths are limited to
// 107 bytes), and returns it with its mfs address (host:port or
// unix:/path). The directory goes when the test ends.
func Listen(t testing.TB, network string) (net.Listener, string) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		dir, err := os.MkdirTemp("", "mfs9p")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		addr = filepath.Join(dir, "9p.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	if network == "unix" {
		return ln, "unix:" + addr
	}
	return ln, ln.Addr().String()
}

// Serve starts a srv9p server of a on a fresh listener of network (see
// Listen) and returns its mfs address. The server stops when the test
// ends.
func Serve(t testing.TB, network string, a p9.Attacher) string {
	t.Helper()
	ln, addr := Listen(t, network)
	ServeListener(t, ln, a)
	return addr
}

// ServeListener runs a srv9p server of a on ln until the test ends, and
// fails the test if Serve fails or does not return within 10 s of the
// end. The server logs warnings to the test's log, and believes the
// identities its clients claim (as --tcp-trust all does: the tests'
// clients connect from ordinary ports).
func ServeListener(t testing.TB, ln net.Listener, a p9.Attacher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := srv9p.NewServer(a, srv9p.ServerLogger(Logger(t)), srv9p.TrustClaims())
	go func() { done <- s.Serve(ctx, ln) }()
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
}

// Logger logs at level Warn and above to the test's log, each record
// tagged with the test's name.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(LogWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
}

// LogWriter writes each line to t.Log until the test's cleanups are done,
// and drops lines after: servers clunk and log in the background (the
// namespace clunks walked-only remote fids so), and a line written to a
// finished test is a data race.
func LogWriter(t testing.TB) io.Writer {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
