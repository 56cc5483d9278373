package export

import (
	"net"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p/srv9ptest"
)

// TestP9Client runs the operation table through hugelgupf/p9's client, a
// third-party 9P2000.L client of the server: it asks for
// "9P2000.L.Google.7" (answered "9P2000.L", so it speaks plain 9P2000.L),
// attaches with no user, sends Tfsync without its datasync field and
// clunks in its own way.
func TestP9Client(t *testing.T) {
	a, dir := newExport(t)
	addr := srv9ptest.Serve(t, "tcp", a)
	srv9ptest.Run(t, func(t *testing.T) p9.File {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := p9.NewClient(nc, p9.WithMessageSize(256<<10))
		if err != nil {
			nc.Close()
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		root, err := cl.Attach("")
		if err != nil {
			t.Fatal(err)
		}
		return root
	}, dir)
}
