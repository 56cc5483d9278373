package dial

import (
	"context"
	"errors"
	"net"
	"os/user"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/client"
	"mfs/internal/dial/dialtest"
	"mfs/internal/fcall"
)

// TestDialDialect dials a 9P2000 server (9fans.net/go's srv9p) in each
// dialect: 9P2000 attaches as the running user without being told a
// uname (the server lets its owner create in a directory of mode 0700),
// and the others are refused at the Tversion.
func TestDialDialect(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	fs := dialtest.NewRAMFS(u.Username)
	if err := fs.Mkdir("private", 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go fs.Serve(ln)
	t.Cleanup(func() { ln.Close() })
	for _, dl := range []fcall.Dialect{fcall.L, fcall.U, fcall.Plan9} {
		t.Run(dl.String(), func(t *testing.T) {
			c, err := Dial(context.Background(), ln.Addr().String(), Options{Timeout: 5 * time.Second, Dialect: dl})
			if dl != fcall.Plan9 {
				var ve *client.VersionError
				if !errors.As(err, &ve) || ve.Answer != "9P2000" {
					t.Errorf("Dial in %v: %v, want a VersionError", dl, err)
				}
				if err == nil {
					c.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Dialect() != fcall.Plan9 {
				t.Errorf("dialect %v", c.Dialect())
			}
			root, err := c.Attach("")
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			_, dir, err := root.Walk([]string{"private"})
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			f, _, _, err := dir.Create("mine", p9.WriteOnly, 0o600, p9.NoUID, p9.NoGID)
			if err != nil {
				t.Fatalf("create in the owner's 0700 directory: %v", err)
			}
			f.Close()
			if d, _, ok := fs.Lookup("private/mine"); !ok || d.Uid != u.Username {
				t.Errorf("private/mine: %v %+v", ok, d)
			}
		})
	}
}
