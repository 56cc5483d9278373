package export

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// outsideState describes the tree at dir including every entry's ctime, so
// that any change to it (content, mode, owner, times, xattrs) shows.
func outsideState(t *testing.T, dir string) string {
	t.Helper()
	s, err := srv9ptest.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		var st unix.Stat_t
		if err == nil && unix.Lstat(p, &st) == nil {
			s += fmt.Sprintf("\n%s ctime=%d.%d", p, st.Ctim.Sec, st.Ctim.Nsec)
		}
		return nil
	})
	return s
}

// TestEscape tries every way out of the export root; each case must leave
// the directory next to the root untouched, whatever error it gets.
func TestEscape(t *testing.T) {
	type env struct {
		root    p9.File
		host    string // the exported directory
		outside string // a directory beside it
	}
	cases := []struct {
		name  string
		setup func(e env) error // host side, before attaching
		run   func(t *testing.T, e env)
	}{
		{"dotdot-at-root", nil, func(t *testing.T, e env) {
			rq, _, _, _ := e.root.GetAttr(p9.AttrMaskAll)
			q, f, err := e.root.Walk([]string{"..", "..", ".."})
			if err != nil {
				return // refused (the p9 server rejects ".." names)
			}
			defer f.Close()
			if q[2].Path != rq.Path {
				t.Fatalf("../../.. of the root is %v, not the root %v", q[2], rq)
			}
			if _, _, err := f.Walk([]string{"outside"}); err == nil {
				t.Fatal("walked to ../outside")
			}
		}},
		{"dotdot-of-dir-moved-out", func(e env) error { return os.Mkdir(filepath.Join(e.host, "sub"), 0o755) }, func(t *testing.T, e env) {
			os.Mkdir(e.outside+".elsewhere", 0o755)
			sub, err := srv9ptest.Walk(e.root, "sub")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			if err := os.Rename(filepath.Join(e.host, "sub"), filepath.Join(e.outside+".elsewhere", "sub")); err != nil {
				t.Fatal(err)
			}
			defer os.Rename(filepath.Join(e.outside+".elsewhere", "sub"), filepath.Join(e.host, "sub"))
			if _, f, err := sub.Walk([]string{".."}); err == nil {
				f.Close()
				rq, _, _, _ := e.root.GetAttr(p9.AttrMaskAll)
				if q, _, _, _ := f.GetAttr(p9.AttrMaskAll); q.Path != rq.Path {
					t.Fatal(".. of a directory moved out of the export reached outside")
				}
			}
		}},
		{"name-with-slash", nil, func(t *testing.T, e env) {
			if _, f, err := e.root.Walk([]string{"../outside/secret"}); err == nil {
				f.Close()
				t.Fatal("walked a name with slashes")
			}
			if _, err := srv9ptest.Create(e.root, "../outside/new", p9.ReadWrite, 0o644); err == nil {
				t.Fatal("created through a name with slashes")
			}
		}},
		{"absolute-symlink", func(e env) error {
			return os.Symlink(filepath.Join(e.outside, "secret"), filepath.Join(e.host, "abs"))
		}, func(t *testing.T, e env) { tryLink(t, e.root, "abs") }},
		{"relative-symlink", func(e env) error {
			return os.Symlink("../outside/secret", filepath.Join(e.host, "rel"))
		}, func(t *testing.T, e env) { tryLink(t, e.root, "rel") }},
		{"symlinked-dir", func(e env) error {
			return os.Symlink(e.outside, filepath.Join(e.host, "d"))
		}, func(t *testing.T, e env) {
			if _, f, err := e.root.Walk([]string{"d", "secret"}); err == nil {
				f.Close()
				t.Fatal("walked through a symlinked directory")
			}
			d, err := srv9ptest.Walk(e.root, "d")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if f, err := srv9ptest.Create(d, "new", p9.ReadWrite, 0o644); err == nil {
				f.Close()
			}
			d.Mkdir("newdir", 0o755, p9.NoUID, p9.NoGID)
			d.Symlink("x", "newlink", p9.NoUID, p9.NoGID)
			d.Mknod("fifo", p9.ModeNamedPipe|0o644, 0, 0, p9.NoUID, p9.NoGID)
			d.UnlinkAt("secret", 0)
			d.RenameAt("secret", e.root, "stolen")
			e.root.RenameAt("nothing", d, "x")
			if _, _, err := d.Open(p9.ReadOnly); err == nil {
				d.Readdir(0, 4096)
			}
		}},
		{"create-over-symlink", func(e env) error {
			if err := os.Symlink(filepath.Join(e.outside, "secret"), filepath.Join(e.host, "s")); err != nil {
				return err
			}
			return os.Symlink(filepath.Join(e.outside, "absent"), filepath.Join(e.host, "dangling"))
		}, func(t *testing.T, e env) {
			for _, n := range []string{"s", "dangling"} {
				if f, err := srv9ptest.Create(e.root, n, p9.WriteOnly|fcall.LTrunc, 0o644); err == nil {
					f.WriteAt([]byte("pwned"), 0)
					f.Close()
					t.Errorf("created over symlink %s", n)
				}
				e.root.Mkdir(n, 0o755, p9.NoUID, p9.NoGID)
				e.root.Mknod(n, p9.ModeNamedPipe|0o644, 0, 0, p9.NoUID, p9.NoGID)
			}
		}},
		{"rename-link-onto-symlink", func(e env) error {
			if err := os.WriteFile(filepath.Join(e.host, "mine"), []byte("mine"), 0o644); err != nil {
				return err
			}
			return os.Symlink(filepath.Join(e.outside, "secret"), filepath.Join(e.host, "s"))
		}, func(t *testing.T, e env) {
			if err := e.root.RenameAt("mine", e.root, "s"); err != nil {
				t.Fatal(err)
			}
			f, err := srv9ptest.Walk(e.root, "s")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			e.root.Link(f, "s2")
			// The rename replaced the link itself.
			if b, err := os.ReadFile(filepath.Join(e.host, "s")); err != nil || string(b) != "mine" {
				t.Fatalf("after rename over the link: %q, %v", b, err)
			}
		}},
		{"link-to-symlink", func(e env) error {
			return os.Symlink(filepath.Join(e.outside, "secret"), filepath.Join(e.host, "s"))
		}, func(t *testing.T, e env) {
			f, err := srv9ptest.Walk(e.root, "s")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := e.root.Link(f, "hard"); err != nil {
				t.Fatal(err)
			}
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(e.host, "hard"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
				t.Fatalf("hard link is not to the symlink itself: %o, %v", st.Mode, err)
			}
		}},
		{"swap-dir-for-symlink", func(e env) error {
			if err := os.Mkdir(filepath.Join(e.host, "d"), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(e.host, "f"), []byte("inside"), 0o644)
		}, func(t *testing.T, e env) {
			d, err := srv9ptest.Walk(e.root, "d")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			f, err := srv9ptest.Walk(e.root, "f")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// The host swaps both for symlinks to the outside.
			for _, n := range []string{"d", "f"} {
				if err := os.Rename(filepath.Join(e.host, n), filepath.Join(e.host, n+".old")); err != nil {
					t.Fatal(err)
				}
			}
			os.Symlink(e.outside, filepath.Join(e.host, "d"))
			os.Symlink(filepath.Join(e.outside, "secret"), filepath.Join(e.host, "f"))
			nf, err := srv9ptest.Create(d, "new", p9.ReadWrite, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			nf.Close()
			if _, err := os.Stat(filepath.Join(e.host, "d.old", "new")); err != nil {
				t.Fatalf("create went elsewhere than the walked directory: %v", err)
			}
			d.UnlinkAt("secret", 0)
			if _, _, err := f.Open(p9.ReadWrite); err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("PWNED!"), 0)
			f.SetAttr(p9.SetAttrMask{Size: true, Permissions: true}, p9.SetAttr{Size: 1, Permissions: 0o600})
			if b, _ := os.ReadFile(filepath.Join(e.host, "f.old")); string(b) != "P" {
				t.Fatalf("write went elsewhere than the walked file: f.old holds %q", b)
			}
		}},
		{"swap-race", func(e env) error { return os.Mkdir(filepath.Join(e.host, "d"), 0o755) }, func(t *testing.T, e env) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the host flips d between a directory and a link outside
				defer wg.Done()
				d := filepath.Join(e.host, "d")
				os.Symlink(e.outside, filepath.Join(e.host, "link"))
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if i%2 == 0 {
						unix.Renameat2(unix.AT_FDCWD, filepath.Join(e.host, "link"), unix.AT_FDCWD, d, unix.RENAME_EXCHANGE)
					} else {
						unix.Renameat2(unix.AT_FDCWD, d, unix.AT_FDCWD, filepath.Join(e.host, "link"), unix.RENAME_EXCHANGE)
					}
				}
			}()
			deadline := time.Now().Add(300 * time.Millisecond)
			for i := 0; time.Now().Before(deadline); i++ {
				name := fmt.Sprintf("x%d", i)
				if _, f, err := e.root.Walk([]string{"d", "secret"}); err == nil {
					f.Close()
					t.Error("walked d/secret while d was a link")
				}
				d, err := srv9ptest.Walk(e.root, "d")
				if err != nil {
					continue
				}
				if nf, err := srv9ptest.Create(d, name, p9.ReadWrite, 0o644); err == nil {
					nf.Close()
				}
				d.Mkdir(name+"d", 0o755, p9.NoUID, p9.NoGID)
				d.UnlinkAt("secret", 0)
				d.Close()
			}
			close(stop)
			wg.Wait()
		}},
	}
	for _, transport := range []string{"direct", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					base := t.TempDir()
					e := env{host: filepath.Join(base, "root"), outside: filepath.Join(base, "outside")}
					for _, d := range []string{e.host, e.outside, filepath.Join(e.outside, "dir")} {
						if err := os.Mkdir(d, 0o755); err != nil {
							t.Fatal(err)
						}
					}
					if err := os.WriteFile(filepath.Join(e.outside, "secret"), []byte("secret"), 0o640); err != nil {
						t.Fatal(err)
					}
					if err := unix.Setxattr(filepath.Join(e.outside, "secret"), "user.k", []byte("v"), 0); err != nil {
						t.Fatal(err)
					}
					if c.setup != nil {
						if err := c.setup(e); err != nil {
							t.Fatal(err)
						}
					}
					before := outsideState(t, e.outside)
					a, err := New(e.host)
					if err != nil {
						t.Fatal(err)
					}
					if transport == "direct" {
						e.root, err = a.Attach()
						if err != nil {
							t.Fatal(err)
						}
					} else {
						_, e.root = attachRemote(t, srv9ptest.Serve(t, "tcp", a))
					}
					c.run(t, e)
					e.root.Close()
					if after := outsideState(t, e.outside); after != before {
						t.Fatalf("outside changed:\nbefore:\n%s\nafter:\n%s", before, after)
					}
				})
			}
		})
	}
}

// tryLink does everything a client could try on a symlink to a file
// outside the export.
func tryLink(t *testing.T, root p9.File, name string) {
	t.Helper()
	q, f, err := root.Walk([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if q[0].Type != p9.TypeSymlink {
		t.Fatalf("walk to a symlink gave QID type %v", q[0].Type)
	}
	if _, a, _ := getattr(t, f); a.Size == uint64(len("secret")) && a.Mode.IsRegular() {
		t.Fatal("getattr followed the link")
	}
	for _, fl := range []p9.OpenFlags{p9.ReadOnly, p9.ReadWrite, p9.WriteOnly | fcall.LTrunc} {
		_, c, err := f.Walk(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Open(fl); err == nil {
			buf := make([]byte, 16)
			if n, _ := c.ReadAt(buf, 0); n > 0 {
				t.Errorf("read %q through the link", buf[:n])
			}
			c.WriteAt([]byte("pwned"), 0)
			t.Errorf("opened a symlink with %v", fl)
		}
		c.Close()
	}
	f.SetAttr(p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: 0o777})
	f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 0})
	f.SetAttr(p9.SetAttrMask{UID: true, GID: true}, p9.SetAttr{UID: 4321, GID: 4321})
	f.SetAttr(p9.SetAttrMask{ATime: true, MTime: true}, p9.SetAttr{})
	f.SetXattr("user.k", []byte("pwned"), 0)
	f.RemoveXattr("user.k")
	if v, err := f.GetXattr("user.k"); err == nil {
		t.Errorf("read the target's xattr through the link: %q", v)
	}
	if _, _, err := f.Walk([]string{"x"}); err == nil {
		t.Error("walked below a symlink")
	}
}

func getattr(t *testing.T, f p9.File) (p9.QID, p9.Attr, error) {
	q, _, a, err := f.GetAttr(p9.AttrMaskAll)
	return q, a, err
}
