package export

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// TestReadOnly checks that every mutating operation of a read-only export
// fails with EROFS and leaves the tree as it was, while reads work.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if err := srv9ptest.Build("f file content", "d dir", "f dir/inner x", "l link file")(dir); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(dir, "file"), "user.k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	before, err := srv9ptest.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(dir, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	walk := func(t *testing.T, root p9.File, name string) p9.File {
		f, err := srv9ptest.Walk(root, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	ops := []struct {
		name string
		op   func(t *testing.T, root p9.File) error
	}{
		{"chmod", func(t *testing.T, r p9.File) error {
			return walk(t, r, "file").SetAttr(p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: 0o777})
		}},
		{"truncate", func(t *testing.T, r p9.File) error {
			return walk(t, r, "file").SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{})
		}},
		{"utimes", func(t *testing.T, r p9.File) error {
			return walk(t, r, "file").SetAttr(p9.SetAttrMask{ATime: true, MTime: true}, p9.SetAttr{})
		}},
		{"chown", func(t *testing.T, r p9.File) error {
			return walk(t, r, "file").SetAttr(p9.SetAttrMask{UID: true}, p9.SetAttr{UID: 1})
		}},
		{"open-write", func(t *testing.T, r p9.File) error { _, _, err := walk(t, r, "file").Open(p9.WriteOnly); return err }},
		{"open-rdwr", func(t *testing.T, r p9.File) error { _, _, err := walk(t, r, "file").Open(p9.ReadWrite); return err }},
		{"open-trunc", func(t *testing.T, r p9.File) error {
			_, _, err := walk(t, r, "file").Open(p9.ReadOnly | fcall.LTrunc)
			return err
		}},
		{"create", func(t *testing.T, r p9.File) error {
			_, err := srv9ptest.Create(r, "new", p9.ReadWrite, 0o644)
			return err
		}},
		{"mkdir", func(t *testing.T, r p9.File) error { _, err := r.Mkdir("new", 0o755, p9.NoUID, p9.NoGID); return err }},
		{"symlink", func(t *testing.T, r p9.File) error { _, err := r.Symlink("x", "new", p9.NoUID, p9.NoGID); return err }},
		{"link", func(t *testing.T, r p9.File) error { return r.Link(walk(t, r, "file"), "new") }},
		{"mknod", func(t *testing.T, r p9.File) error {
			_, err := r.Mknod("new", p9.ModeNamedPipe|0o644, 0, 0, p9.NoUID, p9.NoGID)
			return err
		}},
		{"rename", func(t *testing.T, r p9.File) error { return r.RenameAt("file", r, "new") }},
		{"unlink", func(t *testing.T, r p9.File) error { return r.UnlinkAt("file", 0) }},
		{"rmdir", func(t *testing.T, r p9.File) error { return walk(t, r, "dir").UnlinkAt("inner", 0) }},
		{"setxattr", func(t *testing.T, r p9.File) error { return walk(t, r, "file").SetXattr("user.k", []byte("w"), 0) }},
		{"removexattr", func(t *testing.T, r p9.File) error { return walk(t, r, "file").RemoveXattr("user.k") }},
	}
	for _, transport := range []string{"direct", "unix"} {
		t.Run(transport, func(t *testing.T) {
			attach := func(t *testing.T) p9.File {
				f, err := a.Attach()
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			if transport != "direct" {
				addr := srv9ptest.Serve(t, transport, a)
				attach = func(t *testing.T) p9.File { _, r := attachRemote(t, addr); return r }
			}
			for _, o := range ops {
				t.Run(o.name, func(t *testing.T) {
					err := o.op(t, attach(t))
					if errors.Is(err, linux.ENOSYS) && transport != "direct" {
						t.Skip("no such message in the p9 client")
					}
					if srv9ptest.Errno(err) != unix.EROFS {
						t.Fatalf("got %v, want EROFS", err)
					}
				})
			}
			t.Run("reads", func(t *testing.T) {
				f := walk(t, attach(t), "file")
				if _, _, err := f.Open(p9.ReadOnly); err != nil {
					t.Fatal(err)
				}
				if b, err := srv9ptest.ReadAll(f); err != nil || string(b) != "content" {
					t.Fatalf("read %q, %v", b, err)
				}
				if ents, err := srv9ptest.ReadDir(attach(t), 4096); err != nil || len(ents) != 5 {
					t.Fatalf("readdir %v, %v", ents, err)
				}
			})
		})
	}
	if after, _ := srv9ptest.Tree(dir); after != before {
		t.Fatalf("read-only export changed:\n%s\n->\n%s", before, after)
	}
}

// TestExclude checks that excluded paths cannot be walked to, are not
// listed, and cannot be made again or renamed onto.
func TestExclude(t *testing.T) {
	dir := t.TempDir()
	if err := srv9ptest.Build("d hidden", "f hidden/x", "d sub", "f sub/secret s", "f sub/visible v", "f abs")(dir); err != nil {
		t.Fatal(err)
	}
	a, err := New(dir, Exclude("hidden", "sub/secret", "/abs", "sub/not-yet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, transport := range []string{"direct", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			var root p9.File
			if transport == "direct" {
				root, _ = a.Attach()
			} else {
				_, root = attachRemote(t, srv9ptest.Serve(t, "tcp", a))
			}
			for _, p := range []string{"hidden", "hidden/x", "sub/secret", "abs", "sub/not-yet"} {
				if f, err := srv9ptest.Walk(root, p); srv9ptest.Errno(err) != unix.ENOENT {
					if f != nil {
						f.Close()
					}
					t.Errorf("walk %s: %v, want ENOENT", p, err)
				}
			}
			names := func(p string) []string {
				d, err := srv9ptest.Walk(root, p)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				ents, err := srv9ptest.ReadDir(d, 4096)
				if err != nil {
					t.Fatal(err)
				}
				var l []string
				for _, e := range ents {
					l = append(l, e.Name)
				}
				slices.Sort(l)
				return l
			}
			if got := names(""); !slices.Equal(got, []string{".", "..", "sub"}) {
				t.Errorf("root lists %v", got)
			}
			if got := names("sub"); !slices.Equal(got, []string{".", "..", "visible"}) {
				t.Errorf("sub lists %v", got)
			}
			sub, err := srv9ptest.Walk(root, "sub")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			for name, op := range map[string]func() error{
				"create": func() error { _, err := srv9ptest.Create(sub, "not-yet", p9.ReadWrite, 0o644); return err },
				"mkdir":  func() error { _, err := sub.Mkdir("not-yet", 0o755, p9.NoUID, p9.NoGID); return err },
				"rename": func() error { return sub.RenameAt("visible", sub, "secret") },
			} {
				if err := op(); srv9ptest.Errno(err) != unix.EACCES {
					t.Errorf("%s onto an excluded name: %v, want EACCES", name, err)
				}
			}
			if err := sub.UnlinkAt("secret", 0); srv9ptest.Errno(err) != unix.ENOENT {
				t.Errorf("unlink an excluded name: %v, want ENOENT", err)
			}
			if err := sub.RenameAt("secret", sub, "stolen"); srv9ptest.Errno(err) != unix.ENOENT {
				t.Errorf("rename an excluded name away: %v, want ENOENT", err)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sub", "secret")); err != nil || string(b) != "s" {
		t.Fatalf("excluded file changed: %q, %v", b, err)
	}
	if _, err := New(dir, Exclude("nope/deeper")); err == nil {
		t.Error("an exclude whose parent does not exist was accepted")
	}
}

func TestDefaultExcludes(t *testing.T) {
	for _, tc := range []struct {
		root string
		want []string
	}{
		{"/", []string{"/proc", "/sys", "/dev"}},
		{"//", []string{"/proc", "/sys", "/dev"}},
		{"/tmp", nil},
		{"relative", nil},
	} {
		if got := DefaultExcludes(tc.root); !slices.Equal(got, tc.want) {
			t.Errorf("DefaultExcludes(%q) = %v, want %v", tc.root, got, tc.want)
		}
	}
	// A read-only whole-root export really leaves them out.
	a, err := New("/", ReadOnly(), Exclude(DefaultExcludes("/")...))
	if err != nil {
		t.Fatal(err)
	}
	root, err := a.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, p := range []string{"proc", "sys", "dev"} {
		if _, f, err := root.Walk([]string{p}); err == nil {
			f.Close()
			t.Errorf("walked to /%s", p)
		}
	}
	if _, f, err := root.Walk([]string{"etc"}); err != nil {
		t.Errorf("walk /etc: %v", err)
	} else {
		f.Close()
	}
}
