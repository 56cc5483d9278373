package namespace

import (
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p/srv9ptest"
)

// TestOperationTable runs srv9p's operation table (each 9P operation
// checked against the same system call on the host) through the
// namespace: over a connection on /here and on /2 (the proxy), and
// in-process on /here and /2, where the xattr cases run too (the p9
// client used over a connection has no xattr calls; remote xattrs over 9P
// are TestXattrsRemoteLikeLocal's). In-process on /2 a missing attribute
// is ENODATA as on the host: the peer's srv9p.Serve answers with the real
// errno, not its p9 server's EINVAL.
func TestOperationTable(t *testing.T) {
	var c *cluster // a fresh cluster per variant: the table's directories are fixed
	overWire := func(node int, path string) func(t *testing.T) p9.File {
		return func(t *testing.T) p9.File {
			cl := c.client(t, node)
			r, err := cl.Attach(path)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	inProcess := func(node int, path string) func(t *testing.T) p9.File {
		return func(t *testing.T) p9.File {
			r, err := c.ns[node-1].Attach()
			if err != nil {
				t.Fatal(err)
			}
			_, f, err := r.Walk([]string{path})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	for _, tc := range []struct {
		name   string
		attach func(t *testing.T) p9.File
	}{
		{"here over 9P", overWire(2, "here")},
		{"2 over 9P", overWire(1, "2")},
		{"here in-process", inProcess(2, "here")},
		{"2 in-process", inProcess(1, "2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c = newCluster(t, 2)
			srv9ptest.Run(t, tc.attach, c.dirs[1])
		})
	}
}
