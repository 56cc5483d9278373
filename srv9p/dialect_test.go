package srv9p_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"9fans.net/go/plan9"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
	"mfs/srv9p"
	"mfs/srv9p/export"
	"mfs/srv9p/srv9ptest"
)

// Tests of 9P2000 and 9P2000.u: the version strings, 9fans.net/go's
// plan9/client (the Go port of plan9port's lib9pclient, behind 9p(1)) as
// a real 9P2000 client, and 9P2000.u message by message.

func TestDialectVersion(t *testing.T) {
	a, _ := newExport(t)
	addr := srv9ptest.Serve(t, "tcp", a)
	tests := []struct{ ask, want string }{
		{"9P2000", "9P2000"},
		{"9P2000.u", "9P2000.u"},
		{"9P2000.L", "9P2000.L"},
		{"9P2000.L.Google.7", "9P2000.L"},
		{"9P2000.x", "9P2000"},
		{"9P1999", "unknown"},
		{"", "unknown"},
	}
	r := srv9ptest.DialRaw(t, addr)
	for _, tt := range tests {
		rep, err := r.RPCTag(fcall.NoTag, &fcall.Tversion{Msize: 8192, Version: tt.ask})
		if err != nil {
			t.Fatalf("Tversion %q: %v", tt.ask, err)
		}
		if v := rep.(*fcall.Rversion).Version; v != tt.want {
			t.Errorf("Tversion %q answered %q, want %q", tt.ask, v, tt.want)
		}
	}
}

func TestPlan9Client(t *testing.T) {
	a, dir := newExport(t)
	srv9ptest.Plan9Tree(t, dir)
	addr := srv9ptest.Serve(t, "tcp", a)
	srv9ptest.Plan9Ops(t, srv9ptest.DialPlan9(t, addr, "root", ""), "", dir)
}

// TestPlan9Identity: the uname of a 9P2000 attach is looked up in the
// node's passwd; a name it does not know is the anonymous user.
func TestPlan9Identity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as other users")
	}
	a, dir := newExport(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	addr := srv9ptest.Serve(t, "tcp", a)
	for _, tt := range []struct {
		uname string
		uid   uint32
		name  string
	}{{"root", 0, "root"}, {"nobody", 65534, "nobody"}, {"no-such-user-here", 65534, "nobody"}} {
		fs := srv9ptest.DialPlan9(t, addr, tt.uname, "")
		fid, err := fs.Create(tt.uname, plan9.OWRITE, 0o644)
		if err != nil {
			t.Fatalf("%s: create: %v", tt.uname, err)
		}
		fid.Close()
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, tt.uname), &st); err != nil || st.Uid != tt.uid {
			t.Errorf("file created as uname %q is owned by %d (%v), want %d", tt.uname, st.Uid, err, tt.uid)
		}
		d, err := fs.Stat(tt.uname)
		if err != nil || d.Uid != tt.name {
			t.Errorf("stat as %q: uid %q, %v; want %q", tt.uname, d.Uid, err, tt.name)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "private"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := srv9ptest.DialPlan9(t, addr, "nobody", "")
	if _, err := fs.Open("private", plan9.OREAD); err == nil || err.Error() != "permission denied" {
		t.Errorf("nobody opening root's 0600 file: %v, want \"permission denied\"", err)
	}
}

// TestDialectU runs 9P2000.u message by message: numeric ids, the
// extension of symlinks and devices, creating them, a hard link by fid,
// errno in Rerror, and a walk of "..".
func TestDialectU(t *testing.T) {
	a, dir := newExport(t)
	srv9ptest.Plan9Tree(t, dir)
	addr := srv9ptest.Serve(t, "tcp", a)
	r := srv9ptest.DialRawDialect(t, addr, fcall.U)
	rpc := func(m fcall.Msg) fcall.Msg {
		t.Helper()
		rep, err := r.RPC(m)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		return rep
	}
	rpc(&fcall.Tattach{Fid: 1, Afid: fcall.NoFid, Uname: "", NUname: 0})
	stat := func(path ...string) fcall.Dir {
		t.Helper()
		rpc(&fcall.Twalk{Fid: 1, NewFid: 2, Names: path})
		d := rpc(&fcall.Tstat{Fid: 2}).(*fcall.Rstat).Stat
		rpc(&fcall.Tclunk{Fid: 2})
		return d
	}
	if d := stat("bin"); d.Mode&fcall.DMSYMLINK == 0 || d.Extension != "usr/bin" || d.NUID != 0 || d.UID != "root" {
		t.Errorf("stat bin = %+v, want a symlink to usr/bin owned by 0", d)
	}
	if d := stat("fifo"); d.Mode&fcall.DMNAMEDPIPE == 0 {
		t.Errorf("stat fifo = %+v", d)
	}
	if d := stat("usr", "..", "hello.txt"); d.Length != 6 {
		t.Errorf("stat usr/../hello.txt = %+v", d)
	}
	if d := stat("..", "..", "hello.txt"); d.Length != 6 {
		t.Errorf("stat ../../hello.txt (the root is its own parent) = %+v", d)
	}
	// Partial walk: the qids of the names that exist, newfid not made.
	rep := rpc(&fcall.Twalk{Fid: 1, NewFid: 3, Names: []string{"usr", "bin", "nothing"}})
	if q := rep.(*fcall.Rwalk).QIDs; len(q) != 2 {
		t.Errorf("partial walk answered %d qids, want 2", len(q))
	}
	if _, err := r.RPC(&fcall.Tclunk{Fid: 3}); err == nil {
		t.Errorf("a partial walk made newfid")
	}
	_, err := r.RPC(&fcall.Twalk{Fid: 1, NewFid: 3, Names: []string{"nothing"}})
	var er *srv9ptest.ErrorReply
	if !errors.As(err, &er) || er.Errno != linux.ENOENT || er.Ename != "file does not exist" {
		t.Errorf("walk to a missing name: %v, want Rerror \"file does not exist\" errno ENOENT", err)
	}

	mk := func(name string, perm uint32, ext string) {
		t.Helper()
		rpc(&fcall.Twalk{Fid: 1, NewFid: 4})
		rpc(&fcall.Tcreate{Fid: 4, Name: name, Perm: perm, Mode: fcall.OREAD, Extension: ext})
		rpc(&fcall.Tclunk{Fid: 4})
	}
	mk("link", fcall.DMSYMLINK|0o777, "hello.txt")
	if got, err := os.Readlink(filepath.Join(dir, "link")); err != nil || got != "hello.txt" {
		t.Errorf("symlink made: %q, %v", got, err)
	}
	mk("pipe", fcall.DMNAMEDPIPE|0o640, "")
	if st, err := os.Lstat(filepath.Join(dir, "pipe")); err != nil || st.Mode()&os.ModeNamedPipe == 0 || st.Mode().Perm() != 0o640 {
		t.Errorf("fifo made: %v, %v", st, err)
	}
	mk("null", fcall.DMDEVICE|0o666, "c 1 3")
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "null"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		t.Errorf("device made: %+v, %v", st, err)
	}
	if d := stat("null"); d.Extension != "c 1 3" || d.Mode&fcall.DMDEVICE == 0 {
		t.Errorf("stat null = %+v", d)
	}
	rpc(&fcall.Twalk{Fid: 1, NewFid: 5, Names: []string{"hello.txt"}})
	mk("hard", fcall.DMLINK, "5\n")
	var a1, a2 unix.Stat_t
	unix.Lstat(filepath.Join(dir, "hello.txt"), &a1)
	unix.Lstat(filepath.Join(dir, "hard"), &a2)
	if a1.Ino != a2.Ino {
		t.Errorf("hard link is another inode")
	}
	mk("setgid", fcall.DMDIR|fcall.DMSETGID|0o2775, "")
	if st, err := os.Stat(filepath.Join(dir, "setgid")); err != nil || st.Mode()&os.ModeSetgid == 0 || !st.IsDir() {
		t.Errorf("setgid directory made: %v, %v", st, err)
	}
	// Opening a symlink is refused in every dialect.
	rpc(&fcall.Twalk{Fid: 1, NewFid: 6, Names: []string{"link"}})
	if _, err := r.RPC(&fcall.Topen{Fid: 6, Mode: fcall.OREAD}); !errors.Is(err, linux.EPERM) {
		t.Errorf("open of a symlink: %v", err)
	}
	// ORCLOSE: the file goes at the clunk.
	rpc(&fcall.Twalk{Fid: 1, NewFid: 7})
	rpc(&fcall.Tcreate{Fid: 7, Name: "temp", Perm: 0o644, Mode: fcall.OWRITE | fcall.ORCLOSE})
	if _, err := os.Lstat(filepath.Join(dir, "temp")); err != nil {
		t.Fatalf("ORCLOSE file not there while open: %v", err)
	}
	rpc(&fcall.Tclunk{Fid: 7})
	if _, err := os.Lstat(filepath.Join(dir, "temp")); !os.IsNotExist(err) {
		t.Errorf("ORCLOSE file still there after the clunk: %v", err)
	}
	// Directory offsets: whole entries at the offsets handed out; a read
	// at an offset inside an entry is refused; a count too small for one
	// entry is an error, not an end.
	rpc(&fcall.Twalk{Fid: 1, NewFid: 8, Names: []string{"many"}})
	rpc(&fcall.Topen{Fid: 8, Mode: fcall.OREAD})
	first := rpc(&fcall.Tread{Fid: 8, Offset: 0, Count: 4000}).(*fcall.Rread).Data
	firstDirs, err := fcall.DecodeDirs(fcall.U, first)
	if err != nil || len(firstDirs) < 2 {
		t.Fatalf("first directory read: %d entries, %v", len(firstDirs), err)
	}
	second := rpc(&fcall.Tread{Fid: 8, Offset: uint64(len(first)), Count: 4000}).(*fcall.Rread).Data
	one := fcall.DirSize(fcall.U, &firstDirs[0])
	again := rpc(&fcall.Tread{Fid: 8, Offset: uint64(one), Count: 4000}).(*fcall.Rread).Data
	if d, err := fcall.DecodeDirs(fcall.U, again); err != nil || d[0].Name != firstDirs[1].Name {
		t.Errorf("read at the second entry's offset: %v", err)
	}
	if d, _ := fcall.DecodeDirs(fcall.U, second); len(d) == 0 || d[0].Name == firstDirs[0].Name {
		t.Errorf("second read repeats the first")
	}
	if _, err := r.RPC(&fcall.Tread{Fid: 8, Offset: uint64(one) + 1, Count: 4000}); !errors.Is(err, linux.ESPIPE) {
		t.Errorf("read inside an entry: %v, want ESPIPE", err)
	}
	if _, err := r.RPC(&fcall.Tread{Fid: 8, Offset: 0, Count: 10}); !errors.Is(err, linux.EINVAL) {
		t.Errorf("read of 10 bytes: %v, want EINVAL", err)
	}
	// The 9P2000.L messages are not part of 9P2000.u.
	if _, err := r.RPC(&fcall.Tgetattr{Fid: 1, Mask: p9.AttrMask{Mode: true}}); !errors.Is(err, linux.ENOSYS) {
		t.Errorf("Tgetattr in 9P2000.u: %v, want ENOSYS", err)
	}
}

// TestPlan9AbsoluteLinks: in 9P2000 an absolute symlink whose target is
// below the export's own directory is followed; one elsewhere is not.
func TestPlan9AbsoluteLinks(t *testing.T) {
	a, dir := newExport(t)
	srv9ptest.Plan9Tree(t, dir)
	if err := os.Symlink(filepath.Join(dir, "usr", "bin"), filepath.Join(dir, "absin")); err != nil {
		t.Fatal(err)
	}
	fs := srv9ptest.DialPlan9(t, srv9ptest.Serve(t, "tcp", a), "root", "")
	fid, err := fs.Open("absin/tool", plan9.OREAD)
	if err != nil {
		t.Fatalf("open absin/tool: %v", err)
	}
	fid.Close()
	if d, err := fs.Stat("absin"); err != nil || d.Mode&plan9.DMDIR == 0 {
		t.Errorf("stat absin = %+v, %v; want the directory it leads to", d, err)
	}
	if fid, err := fs.Open("abs", plan9.OREAD); err == nil {
		fid.Close()
		t.Errorf("abs (to /etc, outside the export) opened")
	}
}

// TestPlan9Wstat: a chmod from 9P2000 keeps the bits 9P2000 cannot say
// (setgid, sticky); DMAPPEND is refused; owner and group by name; an
// unknown name is an error that names it; the "don't touch" Dir changes
// nothing.
func TestPlan9Wstat(t *testing.T) {
	a, dir := newExport(t)
	sticky := filepath.Join(dir, "sticky")
	if err := os.Mkdir(sticky, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(sticky, 0o3775); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := srv9ptest.DialPlan9(t, srv9ptest.Serve(t, "tcp", a), "root", "")
	var w plan9.Dir
	w.Null()
	w.Mode = plan9.DMDIR | 0o700
	if err := fs.Wstat("sticky", &w); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(sticky); st.Mode()&(os.ModeSetgid|os.ModeSticky) != os.ModeSetgid|os.ModeSticky || st.Mode().Perm() != 0o700 {
		t.Errorf("after a 9P2000 chmod 0700 the directory is %v, want setgid and sticky kept", st.Mode())
	}
	w.Null()
	w.Mode = plan9.DMAPPEND | 0o644
	if err := fs.Wstat("f", &w); err == nil || !strings.Contains(err.Error(), "no Linux form") {
		t.Errorf("wstat to DMAPPEND: %v", err)
	}
	w.Null()
	w.Uid, w.Gid = "nobody", "nogroup"
	if err := fs.Wstat("f", &w); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "f"), &st); err != nil || st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("after wstat uid nobody gid nogroup: %d:%d (%v)", st.Uid, st.Gid, err)
	}
	w.Null()
	w.Uid = "no-such-user-here"
	if err := fs.Wstat("f", &w); err == nil || err.Error() != "unknown user" {
		t.Errorf("wstat to an unknown user: %v", err)
	}
	before, _ := os.Stat(filepath.Join(dir, "f"))
	w.Null()
	if err := fs.Wstat("f", &w); err != nil {
		t.Errorf("wstat of nothing: %v", err)
	}
	if after, _ := os.Stat(filepath.Join(dir, "f")); after.Mode() != before.Mode() || after.ModTime() != before.ModTime() || after.Size() != before.Size() {
		t.Errorf("wstat of nothing changed %v to %v", before, after)
	}
}

// TestDialectStalePaths: fids name files by path in 9P2000 and .u. After
// a Twstat renames a directory, the connection's fids below it follow it;
// a path made stale by another connection never renames or removes
// another file (ESTALE).
func TestDialectStalePaths(t *testing.T) {
	a, dir := newExport(t)
	addr := srv9ptest.Serve(t, "tcp", a)
	r := srv9ptest.DialRawDialect(t, addr, fcall.U)
	rpc := func(r *srv9ptest.Raw, m fcall.Msg) fcall.Msg {
		t.Helper()
		rep, err := r.RPC(m)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		return rep
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d", "f"), []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	rpc(r, &fcall.Tattach{Fid: 1, Afid: fcall.NoFid, NUname: 0})
	rpc(r, &fcall.Twalk{Fid: 1, NewFid: 4, Names: []string{"d"}})
	rpc(r, &fcall.Twalk{Fid: 1, NewFid: 5, Names: []string{"d", "f"}})
	w := fcall.NoTouchDir()
	w.Name = "e"
	rpc(r, &fcall.Twstat{Fid: 4, Stat: w})
	// A new d/f, as the kernel's test makes, must not be touched.
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d", "f"), []byte("second"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.Name = "g"
	rpc(r, &fcall.Twstat{Fid: 5, Stat: w})
	if b, err := os.ReadFile(filepath.Join(dir, "e", "g")); err != nil || string(b) != "first" {
		t.Errorf("e/g = %q, %v; want the renamed d/f", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "d", "f")); err != nil || string(b) != "second" {
		t.Errorf("the new d/f = %q, %v; want it untouched", b, err)
	}
	// Another connection renames e away and puts another file at e/g:
	// fid 5's path is stale, and removing through it touches nothing.
	if err := os.Rename(filepath.Join(dir, "e"), filepath.Join(dir, "x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "e", "g"), []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RPC(&fcall.Tremove{Fid: 5}); !errors.Is(err, linux.ESTALE) {
		t.Errorf("remove through a stale path: %v, want ESTALE", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "e", "g")); err != nil || string(b) != "other" {
		t.Errorf("e/g = %q, %v after the refused remove", b, err)
	}
}

// TestStatEntries: the export's StatEntries answers what WalkGetAttr of
// the same name does, for every kind of entry, and refuses the same names
// ("." and ".." it refuses: they are no entry's).
func TestStatEntries(t *testing.T) {
	a, dir := newExport(t, export.Exclude("hidden"))
	srv9ptest.Plan9Tree(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "hidden"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	root, err := a.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	srv9ptest.CheckStatEntries[srv9p.EntryStat](t, root, "null", "hidden")
}
