package namespace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/membership"
	"mfs/srv9p"
	"mfs/srv9p/export"
	"mfs/srv9p/srv9ptest"
)

// testLog logs through t, tagged with the test name.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(srv9ptest.LogWriter(t), &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// exportOf returns the srv9p export of dir.
func exportOf(t testing.TB, dir string) p9.Attacher {
	t.Helper()
	a, err := export.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// server is srv9p.Serve on a loopback TCP listener that remembers the
// connections it accepted, so tests can cut them.
type server struct {
	addr   string
	ln     *trackLn
	cancel context.CancelFunc
	done   chan struct{}
}

// trackLn records accepted connections.
type trackLn struct {
	net.Listener
	mu sync.Mutex
	cs []net.Conn
}

func (l *trackLn) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.cs = append(l.cs, c)
		l.mu.Unlock()
	}
	return c, err
}

// serve serves a with srv9p.Serve on a fresh loopback port until the test
// ends.
func serve(t testing.TB, a p9.Attacher) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{addr: ln.Addr().String(), ln: &trackLn{Listener: ln}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		// The tests' clients and peers connect from ordinary ports: a
		// trusted listener believes them, as --tcp-trust all does.
		if err := srv9p.NewServer(a, srv9p.ServerLogger(testLog(t).With("server", s.addr)), srv9p.TrustClaims()).Serve(ctx, s.ln); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(s.stop)
	return s
}

// stop closes the listener and every connection, and waits for the
// server goroutines.
func (s *server) stop() {
	s.cancel()
	<-s.done
}

// dropConns closes the accepted connections; the listener stays.
func (s *server) dropConns() {
	s.ln.mu.Lock()
	for _, c := range s.ln.cs {
		c.Close()
	}
	s.ln.cs = nil
	s.ln.mu.Unlock()
}

// cluster is n nodes in one process: an export per node served on
// loopback, and a namespace per node, served on loopback too.
type cluster struct {
	dirs    []string // [i] is node i+1's export directory
	exports []*server
	ns      []*Namespace
	nsSrv   []*server
}

func newCluster(t testing.TB, n int, opts ...Option) *cluster {
	t.Helper()
	c := &cluster{}
	for i := 1; i <= n; i++ {
		dir := t.TempDir()
		c.dirs = append(c.dirs, dir)
		c.exports = append(c.exports, serve(t, exportOf(t, dir)))
	}
	for i := 1; i <= n; i++ {
		ns, err := New(i, exportOf(t, c.dirs[i-1]), append([]Option{WithLogger(testLog(t).With("ns", i))}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		for j := 1; j <= n; j++ {
			ns.SetNode(Node{ID: j, Addr: c.exports[j-1].addr, State: membership.Alive})
		}
		t.Cleanup(func() { ns.Close() })
		c.ns = append(c.ns, ns)
		c.nsSrv = append(c.nsSrv, serve(t, ns))
	}
	return c
}

// client connects to node i's namespace server.
func (c *cluster) client(t testing.TB, i int) *dial.Conn {
	t.Helper()
	cl, err := dial.Dial(context.Background(), c.nsSrv[i-1].addr, dial.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// attach attaches with aname and fails the test on error.
func attach(t testing.TB, cl *dial.Conn, aname string) p9.File {
	t.Helper()
	f, err := cl.Attach(aname)
	if err != nil {
		t.Fatalf("attach %q: %v", aname, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// walk walks a slash-separated path from f.
func walk(t testing.TB, f p9.File, path string) p9.File {
	t.Helper()
	nf, err := walkErr(f, path)
	if err != nil {
		t.Fatalf("walk %q: %v", path, err)
	}
	t.Cleanup(func() { nf.Close() })
	return nf
}

func walkErr(f p9.File, path string) (p9.File, error) {
	var names []string
	if path != "" {
		names = strings.Split(path, "/")
	}
	_, nf, err := f.Walk(names)
	return nf, err
}

// readAll opens path read-only below f and reads it whole.
func readAll(f p9.File, path string) (string, error) {
	nf, err := walkErr(f, path)
	if err != nil {
		return "", err
	}
	defer nf.Close()
	if _, _, err := nf.Open(p9.ReadOnly); err != nil {
		return "", err
	}
	var b []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := nf.ReadAt(buf, int64(len(b)))
		b = append(b, buf[:n]...)
		if err == io.EOF || (err == nil && n == 0) {
			return string(b), nil
		}
		if err != nil {
			return string(b), err
		}
	}
}

// writeFile creates (or truncates) name in dir and writes data.
func writeFile(f p9.File, dir, name, data string) error {
	d, err := walkErr(f, dir)
	if err != nil {
		return err
	}
	defer d.Close()
	nf, _, _, err := d.Create(name, p9.ReadWrite, 0o644, p9.NoUID, p9.NoGID)
	if err != nil {
		return err
	}
	defer nf.Close()
	_, err = nf.WriteAt([]byte(data), 0)
	return err
}

// listDir returns the names in dir below f.
func listDir(f p9.File, dir string) ([]string, error) {
	d, err := walkErr(f, dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if _, _, err := d.Open(p9.ReadOnly); err != nil {
		return nil, err
	}
	var names []string
	var off uint64
	for {
		ds, err := d.Readdir(off, 1000)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(ds) == 0 {
			return names, nil
		}
		for _, e := range ds {
			if e.Name != "." && e.Name != ".." {
				names = append(names, e.Name)
			}
		}
		off = ds[len(ds)-1].Offset
	}
}

// isErrno reports whether err carries errno.
func isErrno(err error, errno linux.Errno) bool {
	var e linux.Errno
	return errors.As(err, &e) && e == errno
}

// waitGoroutines polls until the goroutine count is at most want.
func waitGoroutines(t testing.TB, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, want ≤ %d\n%s", n, want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustWriteHost writes a file straight into a node's export directory.
func mustWriteHost(t testing.TB, dir, rel, data string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprintf
