package export

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"mfs/internal/dial"
	"mfs/srv9p/srv9ptest"

	"github.com/hugelgupf/p9/p9"
)

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

// rawAtFile exports a fresh directory holding an empty file "f", serves it
// over TCP and returns a raw connection on which fid 1 is the root and fid
// 2 is f, not opened, and the directory.
func rawAtFile(t *testing.T) (*rawConn, string) {
	t.Helper()
	a, dir := newExport(t)
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := dialRaw(t, srv9ptest.Serve(t, "tcp", a))
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	if err := r.Walk(1, 2, "f"); err != nil {
		t.Fatal(err)
	}
	return r, dir
}

// fdCount is how many descriptors the process has open.
func fdCount(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
