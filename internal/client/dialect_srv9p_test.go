package client

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// dialectEnv is what a row of TestDialectSrv9p works with: a connection in
// one dialect to a srv9p export, and the export's directory on the host.
type dialectEnv struct {
	dl   fcall.Dialect
	c    *Conn
	root *File
	host string
}

func (e *dialectEnv) path(p string) string { return filepath.Join(e.host, p) }

// walk walks the root to the slash-separated p; closed when the test ends.
func (e *dialectEnv) walk(t *testing.T, p string) *File {
	t.Helper()
	return walkTo(t, e.root, p)
}

// TestDialectSrv9p runs File's methods in each dialect against mfs's own
// server (srv9p, which speaks all three) and compares with the host disk:
// what 9P2000.L does, 9P2000.u and 9P2000 do on their messages, or fail
// with a dialectError where they have none.
func TestDialectSrv9p(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *dialectEnv)
	}{
		{"stat", testDialectStat},
		{"read-write-create", testDialectReadWrite},
		{"setattr", testDialectSetAttr},
		{"rename-unlink", testDialectRenameUnlink},
		{"readdir", testDialectReaddir},
		{"links-and-devices", testDialectLinks},
		{"errors", testDialectErrors},
	}
	uid := p9.UID(os.Getuid())
	for _, dl := range dialects {
		t.Run(dl.String(), func(t *testing.T) {
			a, dir := newExport(t)
			tg := serve(t, "unix", a, nil)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					host := filepath.Join(dir, tc.name)
					check(t, "mkdir", os.Mkdir(host, 0o755))
					c := connect(t, tg.dial(t), Options{Dialect: dl, Timeout: 5 * time.Second})
					root, err := c.Attach(tc.name, loginName(t), uid)
					check(t, "attach", err)
					t.Cleanup(func() { root.Close() })
					tc.run(t, &dialectEnv{dl: dl, c: c, root: root, host: host})
				})
			}
		})
	}
}

func testDialectStat(t *testing.T, e *dialectEnv) {
	writeHost(t, e.path("f"), []byte("hello"))
	check(t, "chmod", unix.Chmod(e.path("f"), 0o4751))
	check(t, "mkdir", os.Mkdir(e.path("d"), 0o710))
	check(t, "fifo", unix.Mkfifo(e.path("p"), 0o600))
	wantMode := map[string]p9.FileMode{"f": p9.ModeRegular | 0o4751, "d": p9.ModeDirectory | 0o710, "p": p9.ModeNamedPipe | 0o600}
	if e.dl == fcall.Plan9 {
		// 9P2000 has no setuid bit and no fifo: a fifo is a file.
		wantMode["f"], wantMode["p"] = p9.ModeRegular|0o751, p9.ModeRegular|0o600
	}
	for name, mode := range wantMode {
		_, f, valid, attr, err := e.root.WalkGetAttr([]string{name})
		check(t, "walkgetattr "+name, err)
		f.Close()
		st := lstat(t, e.path(name))
		if name == "d" && e.dl != fcall.L {
			st.Size = 0 // a directory's length is 0 (stat(5))
		}
		if attr.Mode != mode || attr.Size != uint64(st.Size) || uint32(attr.UID) != st.Uid || uint32(attr.GID) != st.Gid ||
			attr.MTimeSeconds != uint64(st.Mtim.Sec) || !valid.Mode || !valid.UID || !valid.GID {
			t.Errorf("%s: mode %v size %d uid %d gid %d mtime %d (valid %v); host mode %o size %d uid %d gid %d mtime %d",
				name, attr.Mode, attr.Size, attr.UID, attr.GID, attr.MTimeSeconds, valid, st.Mode, st.Size, st.Uid, st.Gid, st.Mtim.Sec)
		}
	}
}

func testDialectReadWrite(t *testing.T, e *dialectEnv) {
	f, _, _, err := e.root.Create("new", p9.ReadWrite, 0o640, p9.NoUID, p9.NoGID)
	check(t, "create", err)
	defer f.Close()
	data := []byte(strings.Repeat("0123456789", 100_000))
	if n, err := f.WriteAt(data, 0); err != nil || n != len(data) {
		t.Fatalf("write: %d, %v", n, err)
	}
	got := make([]byte, len(data))
	if n, err := f.ReadAt(got, 0); err != nil || n != len(data) || string(got) != string(data) {
		t.Errorf("read back: %d, %v", n, err)
	}
	if b, err := os.ReadFile(e.path("new")); err != nil || string(b) != string(data) {
		t.Errorf("host has %d bytes (%v)", len(b), err)
	}
	if st := lstat(t, e.path("new")); st.Mode&0o7777 != 0o640 {
		t.Errorf("created with mode %o", st.Mode)
	}
	qid, err := e.root.Mkdir("sub", 0o750, p9.NoUID, p9.NoGID)
	check(t, "mkdir", err)
	if st := lstat(t, e.path("sub")); st.Mode != unix.S_IFDIR|0o750 || qid.Type != p9.TypeDir {
		t.Errorf("mkdir: host mode %o, qid %v", st.Mode, qid)
	}
	// Open with O_TRUNC truncates.
	g := e.walk(t, "new")
	_, _, err = g.Open(p9.WriteOnly | unix.O_TRUNC)
	check(t, "open O_TRUNC", err)
	if st := lstat(t, e.path("new")); st.Size != 0 {
		t.Errorf("after O_TRUNC: %d bytes", st.Size)
	}
}

func testDialectSetAttr(t *testing.T, e *dialectEnv) {
	writeHost(t, e.path("f"), []byte("0123456789"))
	check(t, "mkdir", os.Mkdir(e.path("d"), 0o755))
	f, d := e.walk(t, "f"), e.walk(t, "d")
	check(t, "chmod", f.SetAttr(p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: 0o2640}))
	check(t, "chmod dir", d.SetAttr(p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: 0o700}))
	check(t, "truncate", f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 3}))
	mtime := uint64(time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC).Unix())
	check(t, "times", f.SetAttr(p9.SetAttrMask{MTime: true, MTimeNotSystemTime: true, ATime: true, ATimeNotSystemTime: true},
		p9.SetAttr{MTimeSeconds: mtime, ATimeSeconds: mtime}))
	st := lstat(t, e.path("f"))
	wantMode := uint32(0o2640)
	if e.dl == fcall.Plan9 {
		wantMode = 0o640
	}
	if st.Mode&0o7777 != wantMode || st.Size != 3 || uint64(st.Mtim.Sec) != mtime || uint64(st.Atim.Sec) != mtime {
		t.Errorf("host f: mode %o size %d mtime %d atime %d", st.Mode, st.Size, st.Mtim.Sec, st.Atim.Sec)
	}
	if st := lstat(t, e.path("d")); st.Mode != unix.S_IFDIR|0o700 {
		t.Errorf("host d: mode %o", st.Mode)
	}
	// A group this host names, given by number (9P2000 sends the name).
	if os.Geteuid() == 0 {
		if g, err := user.LookupGroupId("1"); err == nil {
			check(t, "chgrp "+g.Name, f.SetAttr(p9.SetAttrMask{GID: true}, p9.SetAttr{GID: 1}))
			if st := lstat(t, e.path("f")); st.Gid != 1 {
				t.Errorf("chgrp: host gid %d", st.Gid)
			}
		}
	}
	o := openAt(t, e.root, "f", p9.WriteOnly)
	check(t, "fsync", o.FSync())
}

func testDialectRenameUnlink(t *testing.T, e *dialectEnv) {
	writeHost(t, e.path("a"), []byte("a"))
	check(t, "mkdir", os.Mkdir(e.path("other"), 0o755))
	check(t, "mkdir", os.Mkdir(e.path("full"), 0o755))
	writeHost(t, e.path("full/x"), nil)
	check(t, "renameat within", e.root.RenameAt("a", e.root, "b"))
	if _, err := os.Stat(e.path("b")); err != nil {
		t.Errorf("b: %v", err)
	}
	err := e.root.RenameAt("b", e.walk(t, "other"), "b")
	if e.dl == fcall.L {
		check(t, "renameat across", err)
		check(t, "back", e.walk(t, "other").RenameAt("b", e.root, "b"))
	} else {
		wantErrno(t, "renameat across", err, linux.EXDEV)
	}
	wantErrno(t, "unlinkat a directory without AT_REMOVEDIR", e.root.UnlinkAt("other", 0), linux.EISDIR)
	wantErrno(t, "unlinkat a full directory", e.root.UnlinkAt("full", unix.AT_REMOVEDIR), linux.ENOTEMPTY)
	check(t, "unlinkat b", e.root.UnlinkAt("b", 0))
	check(t, "unlinkat other", e.root.UnlinkAt("other", unix.AT_REMOVEDIR))
	for _, p := range []string{"b", "other"} {
		if _, err := os.Lstat(e.path(p)); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want gone", p, err)
		}
	}
}

func testDialectReaddir(t *testing.T, e *dialectEnv) {
	const n = 2000
	want := map[string]int{}
	for i := range n {
		name := fmt.Sprintf("file-%04d%s", i, strings.Repeat("x", i%50))
		writeHost(t, e.path(name), nil)
		want[name] = 1
	}
	check(t, "mkdir", os.Mkdir(e.path("zdir"), 0o755))
	want["zdir"] = 1
	for _, count := range []uint32{1, 7, 1 << 20} {
		d := openAt(t, e.root, "", p9.ReadOnly)
		got := map[string]int{}
		var off uint64
		for calls := 0; ; calls++ {
			ents, err := d.Readdir(off, count)
			check(t, "readdir", err)
			if uint32(len(ents)) > count {
				t.Fatalf("count %d: %d entries", count, len(ents))
			}
			if len(ents) == 0 || (count == 1 && calls == 100) {
				break
			}
			for _, de := range ents {
				if de.Name == "." || de.Name == ".." {
					continue
				}
				got[de.Name]++
				if wantDir := de.Name == "zdir"; (de.QID.Type&p9.TypeDir != 0) != wantDir || (uint8(de.Type) == unix.DT_DIR) != wantDir {
					t.Errorf("%s: qid type %v, type %d", de.Name, de.QID.Type, de.Type)
				}
			}
			off = ents[len(ents)-1].Offset
		}
		if count == 1 {
			if len(got) < 98 {
				t.Errorf("count 1: %d names in 100 calls", len(got))
			}
			continue
		}
		if !mapsEqual(got, want) {
			t.Errorf("count %d: %d names, want each of %d once", count, len(got), len(want))
		}
		// Walks from the open directory go on.
		_, f, err := d.Walk([]string{"zdir"})
		check(t, "walk from the open directory", err)
		f.Close()
	}
}

func testDialectLinks(t *testing.T, e *dialectEnv) {
	writeHost(t, e.path("f"), []byte("data"))
	f := e.walk(t, "f")
	_, serr := e.root.Symlink("f", "l", p9.NoUID, p9.NoGID)
	_, merr := e.root.Mknod("p", p9.ModeNamedPipe|0o600, 0, 0, p9.NoUID, p9.NoGID)
	lerr := e.root.Link(f, "h")
	if e.dl == fcall.Plan9 {
		for what, err := range map[string]error{"symlinks": serr, "special files": merr, "hard links": lerr} {
			var de *dialectError
			if !errors.As(err, &de) || err.Error() != "no "+what+" in 9P2000" {
				t.Errorf("%s: %v, want a dialectError", what, err)
			}
		}
		return
	}
	check(t, "symlink", serr)
	check(t, "mknod", merr)
	check(t, "link", lerr)
	if target, err := os.Readlink(e.path("l")); err != nil || target != "f" {
		t.Errorf("host l: %q, %v", target, err)
	}
	if got, err := e.walk(t, "l").Readlink(); err != nil || got != "f" {
		t.Errorf("readlink: %q, %v", got, err)
	}
	if _, err := f.Readlink(); !errors.Is(err, linux.EINVAL) {
		t.Errorf("readlink of a file: %v, want EINVAL", err)
	}
	if st := lstat(t, e.path("p")); st.Mode != unix.S_IFIFO|0o600 {
		t.Errorf("host p: mode %o", st.Mode)
	}
	if a, b := lstat(t, e.path("f")), lstat(t, e.path("h")); a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("h is not f: inodes %d %d, nlink %d", a.Ino, b.Ino, a.Nlink)
	}
	_, l, _, attr, err := e.root.WalkGetAttr([]string{"l"})
	check(t, "walkgetattr l", err)
	l.Close()
	if !attr.Mode.IsSymlink() {
		t.Errorf("l: mode %v", attr.Mode)
	}
	if os.Geteuid() == 0 {
		_, err := e.root.Mknod("c", p9.ModeCharacterDevice|0o600, 1, 3, p9.NoUID, p9.NoGID)
		check(t, "mknod c 1 3", err)
		_, dev, valid, attr, err := e.root.WalkGetAttr([]string{"c"})
		check(t, "walkgetattr c", err)
		dev.Close()
		if st := lstat(t, e.path("c")); st.Mode != unix.S_IFCHR|0o600 || st.Rdev != unix.Mkdev(1, 3) ||
			attr.Mode != p9.ModeCharacterDevice|0o600 || uint64(attr.RDev) != unix.Mkdev(1, 3) || !valid.RDev {
			t.Errorf("c: host mode %o rdev %#x; attr %v rdev %#x", st.Mode, st.Rdev, attr.Mode, attr.RDev)
		}
	}
}

func testDialectErrors(t *testing.T, e *dialectEnv) {
	_, _, err := e.root.Walk([]string{"missing"})
	wantErrno(t, "walk missing", err, linux.ENOENT)
	var se *serverError
	switch e.dl {
	case fcall.Plan9:
		if !errors.As(err, &se) || err.Error() != "file does not exist" {
			t.Errorf("9P2000 walk missing: %v (%T), want the server's words", err, err)
		}
	default:
		if err != linux.ENOENT {
			t.Errorf("walk missing: %v (%T), want the bare errno", err, err)
		}
	}
	_, err = e.root.StatFS()
	if e.dl == fcall.L {
		check(t, "statfs", err)
	} else if !errors.Is(err, linux.ENOSYS) || err.Error() != "no statfs in "+e.dl.String() {
		t.Errorf("statfs: %v", err)
	}
	_, err = e.root.Lock(1, p9.WriteLock, 0, 0, 0, "c")
	if e.dl != fcall.L && err.Error() != "no locks in "+e.dl.String() {
		t.Errorf("lock: %v", err)
	}
	_, err = e.root.ListXattrs()
	if e.dl != fcall.L && (!errors.Is(err, linux.EOPNOTSUPP) || err.Error() != "no xattrs in "+e.dl.String()) {
		t.Errorf("xattrs: %v", err)
	}
}
