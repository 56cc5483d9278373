package export

import (
	"testing"

	"mfs/srv9p/srv9ptest"

	"github.com/hugelgupf/p9/p9"
)

// TestOps runs the operation table on srv9p directly, over loopback TCP and
// over a unix socket.
func TestOps(t *testing.T) {
	for _, transport := range []string{"direct", "tcp", "unix"} {
		t.Run(transport, func(t *testing.T) {
			a, dir := newExport(t)
			var attach func(t *testing.T) p9.File
			if transport == "direct" {
				attach = func(t *testing.T) p9.File {
					f, err := a.Attach()
					if err != nil {
						t.Fatal(err)
					}
					return f
				}
			} else {
				addr := srv9ptest.Serve(t, transport, a)
				attach = func(t *testing.T) p9.File {
					_, root := attachRemote(t, addr)
					return root
				}
			}
			srv9ptest.Run(t, attach, dir)
		})
	}
}
