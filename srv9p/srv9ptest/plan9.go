package srv9ptest

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"9fans.net/go/plan9"
	plan9client "9fans.net/go/plan9/client"
	"golang.org/x/sys/unix"
)

// The 9P2000 operations of a 9p(1) user, through 9fans.net/go's
// plan9/client (the Go port of plan9port's lib9pclient, which 9p(1) and
// 9pfuse are built on): one table for every server that speaks 9P2000
// (srv9p's export, the namespace on /here and on another node).

// Plan9Tree makes the tree the dialect tests use in dir: a file, a
// directory, a relative symlink into the tree (as Debian's /bin), links
// that leave it, a fifo, and a directory of many entries.
func Plan9Tree(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "usr", "bin"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "usr", "bin", "tool"), []byte("tool"), 0o755))
	must(os.Symlink("usr/bin", filepath.Join(dir, "bin")))
	must(os.Symlink("..", filepath.Join(dir, "usr", "bin", "up")))
	must(os.Symlink("/etc", filepath.Join(dir, "abs")))
	must(os.Symlink("../..", filepath.Join(dir, "out")))
	must(os.Symlink("missing", filepath.Join(dir, "dangling")))
	must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "many"), 0o755))
	for i := range 1000 {
		must(os.WriteFile(filepath.Join(dir, "many", fmt.Sprintf("entry-with-a-long-name-%04d", i)), nil, 0o644))
	}
}

// DialPlan9 connects 9fans.net/go's client and attaches as uname.
func DialPlan9(t *testing.T, addr, uname, aname string) *plan9client.Fsys {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := plan9client.NewConn(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fs, err := c.Attach(nil, uname, aname)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// Plan9Ops runs the operations a 9p(1) user does through fs, whose
// attach root is host directory dir made by dialectTree. The namespace's
// tests run it over /here and /2.
func Plan9Ops(t *testing.T, fs *plan9client.Fsys, prefix, dir string) {
	p := func(name string) string { return prefix + name }
	t.Run("list", func(t *testing.T) {
		fid, err := fs.Open(p(""), plan9.OREAD)
		if err != nil {
			t.Fatal(err)
		}
		defer fid.Close()
		dirs, err := fid.Dirreadall()
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*plan9.Dir{}
		var names []string
		for _, d := range dirs {
			byName[d.Name] = d
			names = append(names, d.Name)
		}
		sort.Strings(names)
		want := []string{"abs", "bin", "dangling", "fifo", "hello.txt", "many", "out", "usr"}
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("listing = %v, want %v", names, want)
		}
		if d := byName["hello.txt"]; d == nil || d.Length != 6 || d.Mode != 0o644 || d.Uid != "root" || d.Mode&plan9.DMDIR != 0 {
			t.Errorf("hello.txt: %+v", d)
		}
		if d := byName["bin"]; d == nil || d.Mode&plan9.DMDIR == 0 || d.Qid.Type&plan9.QTDIR == 0 {
			t.Errorf("bin (a symlink to usr/bin, followed) = %+v, want a directory", d)
		}
		for _, n := range []string{"abs", "out", "dangling", "fifo"} {
			if d := byName[n]; d == nil || d.Mode&plan9.DMDIR != 0 {
				t.Errorf("%s = %+v, want a plain entry", n, d)
			}
		}
	})
	t.Run("read", func(t *testing.T) {
		for name, want := range map[string]string{"hello.txt": "hello\n", "bin/tool": "tool", "usr/bin/up/bin/tool": "tool", "usr/bin/up/../hello.txt": "hello\n", "usr/bin/../bin/tool": "tool", "usr/../../" + prefix + "hello.txt": "hello\n"} {
			fid, err := fs.Open(p(name), plan9.OREAD)
			if err != nil {
				t.Errorf("open %s: %v", name, err)
				continue
			}
			b, err := io.ReadAll(fid)
			fid.Close()
			if err != nil || string(b) != want {
				t.Errorf("read %s = %q, %v, want %q", name, b, err, want)
			}
		}
	})
	t.Run("special", func(t *testing.T) {
		for _, name := range []string{"abs", "out", "dangling", "fifo"} {
			fid, err := fs.Open(p(name), plan9.OREAD)
			if err == nil {
				fid.Close()
				t.Errorf("open %s worked, want an error", name)
				continue
			}
			if name == "fifo" && err.Error() != "no access to special file" {
				t.Errorf("open fifo: %q, want \"no access to special file\"", err)
			}
		}
	})
	t.Run("missing", func(t *testing.T) {
		// The first name of the walk fails: the server's Rerror reaches
		// the caller (a later name's failure is a short Rwalk, which the
		// client words itself).
		_, err := fs.Stat("no-such-file")
		if err == nil || err.Error() != "file does not exist" {
			t.Errorf("stat of a missing file: %v, want \"file does not exist\"", err)
		}
	})
	t.Run("create-write-wstat-remove", func(t *testing.T) {
		fid, err := fs.Create(p("new.txt"), plan9.ORDWR, 0o664)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fid.Write([]byte("0123456789")); err != nil {
			t.Fatal(err)
		}
		fid.Close()
		if _, err := fs.Create(p("new.txt"), plan9.OWRITE, 0o664); err == nil || err.Error() != "file exists" {
			t.Errorf("create of an existing file: %v, want \"file exists\"", err)
		}
		d, err := fs.Stat(p("new.txt"))
		if err != nil || d.Length != 10 || d.Name != "new.txt" {
			t.Fatalf("stat new.txt = %+v, %v", d, err)
		}
		var w plan9.Dir
		w.Null()
		w.Name = "renamed.txt"
		w.Mode = 0o600
		w.Length = 4
		if err := fs.Wstat(p("new.txt"), &w); err != nil {
			t.Fatalf("wstat: %v", err)
		}
		st, err := os.Stat(filepath.Join(dir, "renamed.txt"))
		if err != nil || st.Mode().Perm() != 0o600 || st.Size() != 4 {
			t.Fatalf("after wstat the host has %v, %v; want renamed.txt 0600 of 4 bytes", st, err)
		}
		w.Null()
		w.Mtime = 1000000000
		if err := fs.Wstat(p("renamed.txt"), &w); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(filepath.Join(dir, "renamed.txt")); st.ModTime().Unix() != 1000000000 {
			t.Errorf("mtime = %v", st.ModTime())
		}
		w.Null()
		w.Mode = plan9.DMDIR | 0o755
		if err := fs.Wstat(p("renamed.txt"), &w); err == nil {
			t.Errorf("wstat turning a file into a directory worked")
		}
		if err := fs.Remove(p("renamed.txt")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "renamed.txt")); !os.IsNotExist(err) {
			t.Errorf("after remove: %v", err)
		}
	})
	t.Run("mkdir-rmdir", func(t *testing.T) {
		fid, err := fs.Create(p("newdir"), plan9.OREAD, plan9.DMDIR|0o775)
		if err != nil {
			t.Fatal(err)
		}
		fid.Close()
		f2, err := fs.Create(p("newdir/inner"), plan9.OWRITE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f2.Close()
		if err := fs.Remove(p("newdir")); err == nil || err.Error() != "directory is not empty" {
			t.Errorf("remove of a full directory: %v", err)
		}
		if err := fs.Remove(p("newdir/inner")); err != nil {
			t.Fatal(err)
		}
		if err := fs.Remove(p("newdir")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("append-exclusive", func(t *testing.T) {
		for _, perm := range []plan9.Perm{plan9.DMAPPEND | 0o644, plan9.DMEXCL | 0o644} {
			if fid, err := fs.Create(p("plan9-only"), plan9.OWRITE, perm); err == nil {
				fid.Close()
				t.Errorf("create with %v worked", perm)
			} else if !strings.Contains(err.Error(), "no Linux form") {
				t.Errorf("create with %v: %q", perm, err)
			}
		}
		if _, err := os.Lstat(filepath.Join(dir, "plan9-only")); !os.IsNotExist(err) {
			t.Errorf("refused create left a file: %v", err)
		}
	})
	t.Run("many", func(t *testing.T) {
		fid, err := fs.Open(p("many"), plan9.OREAD)
		if err != nil {
			t.Fatal(err)
		}
		defer fid.Close()
		reads, seen := 0, map[string]bool{}
		for {
			dirs, err := fid.Dirread()
			if err == io.EOF || (err == nil && len(dirs) == 0) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			reads++
			for _, d := range dirs {
				if seen[d.Name] {
					t.Errorf("%s listed twice", d.Name)
				}
				seen[d.Name] = true
			}
		}
		if len(seen) != 1000 || reads < 2 {
			t.Errorf("listed %d entries in %d reads, want 1000 in several", len(seen), reads)
		}
		// A seek to 0 starts the listing again.
		if _, err := fid.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		again, err := fid.Dirread()
		if err != nil || len(again) == 0 || !seen[again[0].Name] {
			t.Errorf("after a seek to 0: %d entries, %v", len(again), err)
		}
	})
}
