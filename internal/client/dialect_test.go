package client

import (
	"errors"
	"fmt"
	"io"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/dial/dialtest"
	"mfs/internal/fcall"
)

// dialects are the three the client speaks.
var dialects = []fcall.Dialect{fcall.L, fcall.U, fcall.Plan9}

// loginName is the running user's login name: the owner of a RAMFS tree
// and the uname of its attaches.
func loginName(t testing.TB) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// serveRAMFS serves fs on a fresh listener until the test ends.
func serveRAMFS(t testing.TB, network string, fs *dialtest.RAMFS) target {
	t.Helper()
	ln := listen(t, network)
	done := make(chan error, 1)
	go func() { done <- fs.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("RAMFS.Serve: %v", err)
		}
	})
	return target{network, ln.Addr().String()}
}

// TestDialectVersion runs the client in each dialect against a 9P2000
// server (9fans.net/go's srv9p): 9P2000 is agreed on, and the other two
// fail at the Tversion, saying what the server answered.
func TestDialectVersion(t *testing.T) {
	for _, network := range networks {
		tg := serveRAMFS(t, network, dialtest.NewRAMFS(loginName(t)))
		for _, dl := range dialects {
			t.Run(network+"/"+dl.String(), func(t *testing.T) {
				c, err := New(tg.dial(t), Options{Dialect: dl, Timeout: 5 * time.Second})
				if dl == fcall.Plan9 {
					check(t, "new", err)
					defer c.Close()
					if c.Dialect() != fcall.Plan9 || c.MSize() != 64<<10+plan9.IOHDRSZ {
						t.Errorf("dialect %v msize %d, want 9P2000 and the server's %d", c.Dialect(), c.MSize(), 64<<10+plan9.IOHDRSZ)
					}
					root, err := c.Attach("", loginName(t), p9.NoUID)
					check(t, "attach", err)
					check(t, "clunk", root.Close())
					return
				}
				if err == nil {
					c.Close()
					t.Fatalf("New in %v against a 9P2000 server succeeded", dl)
				}
				var ve *VersionError
				want := fmt.Sprintf(`version: server answered version "9P2000": it does not speak %s`, dl)
				if !errors.As(err, &ve) || ve.Want != dl || ve.Answer != "9P2000" || err.Error() != want {
					t.Errorf("New: %v, want %q", err, want)
				}
			})
		}
	}
}

// plan9Env is what a 9P2000 case works with: the server's tree and a
// connection's attach of it.
type plan9Env struct {
	fs   *dialtest.RAMFS
	c    *Conn
	root *File
	tap  *tap
}

// plan9Case is one row of TestPlan9File.
type plan9Case struct {
	name  string
	msize uint32 // 0: the server's
	run   func(t *testing.T, e *plan9Env)
}

// TestPlan9File runs File's methods in 9P2000 against a 9P2000 server
// (9fans.net/go's srv9p, the Go port of plan9port's lib9p) and checks what
// its tree shows.
func TestPlan9File(t *testing.T) {
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			for _, tc := range plan9Cases {
				t.Run(tc.name, func(t *testing.T) {
					fs := dialtest.NewRAMFS(loginName(t))
					tg := serveRAMFS(t, network, fs)
					tp := &tap{Conn: tg.dial(t)}
					c := connect(t, tp, Options{Dialect: fcall.Plan9, MSize: tc.msize, Timeout: 5 * time.Second})
					root, err := c.Attach("", loginName(t), p9.NoUID)
					check(t, "attach", err)
					t.Cleanup(func() { root.Close() })
					tc.run(t, &plan9Env{fs: fs, c: c, root: root, tap: tp})
				})
			}
		})
	}
}

var plan9Cases = []plan9Case{
	{name: "walk", run: testPlan9Walk},
	{name: "stat", run: testPlan9Stat},
	{name: "read-write", msize: 8192, run: testPlan9ReadWrite},
	{name: "create", run: testPlan9Create},
	{name: "mkdir", run: testPlan9Mkdir},
	{name: "remove", run: testPlan9Remove},
	{name: "rename", run: testPlan9Rename},
	{name: "setattr", run: testPlan9SetAttr},
	{name: "readdir", msize: 4096, run: testPlan9Readdir},
	{name: "errors", run: testPlan9Errors},
	{name: "lacks", run: testPlan9Lacks},
}

// lookup returns the stat and data of p on the server, failing the test
// if p is not there.
func (e *plan9Env) lookup(t *testing.T, p string) (plan9.Dir, []byte) {
	t.Helper()
	d, data, ok := e.fs.Lookup(p)
	if !ok {
		t.Fatalf("%s: not on the server", p)
	}
	return d, data
}

func testPlan9Walk(t *testing.T, e *plan9Env) {
	check(t, "mkdir", e.fs.Mkdir("a", 0o755))
	check(t, "mkdir", e.fs.Mkdir("a/b", 0o755))
	check(t, "write", e.fs.WriteFile("a/b/f", 0o644, []byte("x")))
	qids, f, err := e.root.Walk([]string{"a", "b", "f"})
	check(t, "walk", err)
	defer f.Close()
	want, _ := e.lookup(t, "a/b/f")
	if len(qids) != 3 || qids[0].Type != p9.TypeDir || qids[2].Path != want.Qid.Path || f.(*File).qid.Path != want.Qid.Path {
		t.Errorf("walk a/b/f: qids %v, file qid %v; want the file's path %d last", qids, f.(*File).qid, want.Qid.Path)
	}
	// A walk that stops after its first name is ENOENT and leaves no fid.
	before := fidsInUse(e.c)
	_, _, err = e.root.Walk([]string{"a", "nope", "f"})
	wantErrno(t, "walk a/nope/f", err, linux.ENOENT)
	if fidsInUse(e.c) != before {
		t.Errorf("a failed walk kept a fid: %d in use, want %d", fidsInUse(e.c), before)
	}
	// A clone, and a walk from an open directory (which 9P2000 allows only
	// from a fid not open: the client walks from its clone).
	_, d, err := e.root.Walk([]string{"a"})
	check(t, "walk a", err)
	defer d.Close()
	_, _, err = d.Open(p9.ReadOnly)
	check(t, "open a", err)
	qids, g, err := d.Walk([]string{"b", "f"})
	check(t, "walk from the open a", err)
	g.Close()
	if len(qids) != 2 || qids[1].Path != want.Qid.Path {
		t.Errorf("walk from the open a: %v", qids)
	}
	qids, g, valid, attr, err := d.WalkGetAttr([]string{"b"})
	check(t, "walkgetattr from the open a", err)
	g.Close()
	if len(qids) != 1 || !valid.Mode || !attr.Mode.IsDir() {
		t.Errorf("walkgetattr b: %v %v %v", qids, valid, attr.Mode)
	}
}

func testPlan9Stat(t *testing.T, e *plan9Env) {
	check(t, "mkdir", e.fs.Mkdir("d", 0o750))
	check(t, "write", e.fs.WriteFile("d/f", 0o640, []byte("hello")))
	u, err := user.Current()
	check(t, "user", err)
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	tests := []struct {
		path string
		mode p9.FileMode
		size uint64
	}{
		{"d", p9.ModeDirectory | 0o750, 0},
		{"d/f", p9.ModeRegular | 0o640, 5},
	}
	for _, tt := range tests {
		qids, f, valid, attr, err := e.root.WalkGetAttr(strings.Split(tt.path, "/"))
		check(t, "walkgetattr "+tt.path, err)
		qid, valid2, attr2, err := f.GetAttr(p9.AttrMaskAll)
		f.Close()
		check(t, "getattr "+tt.path, err)
		d, _ := e.lookup(t, tt.path)
		if attr != attr2 || valid != valid2 || qid != qids[len(qids)-1] {
			t.Errorf("%s: WalkGetAttr %v %+v, GetAttr %v %+v", tt.path, valid, attr, valid2, attr2)
		}
		if attr.Mode != tt.mode || attr.Size != tt.size || uint64(attr.UID) != uid || attr.MTimeSeconds != uint64(d.Mtime) ||
			attr.ATimeSeconds != uint64(d.Atime) || qid.Path != d.Qid.Path || attr.NLink != 1 {
			t.Errorf("%s: mode %v size %d uid %d mtime %d qid %v nlink %d; want %v %d %d %d %d 1",
				tt.path, attr.Mode, attr.Size, attr.UID, attr.MTimeSeconds, qid, attr.NLink, tt.mode, tt.size, uid, d.Mtime, d.Qid.Path)
		}
		if !valid.Mode || !valid.Size || !valid.MTime || !valid.UID || valid.NLink || valid.CTime || valid.RDev {
			t.Errorf("%s: valid %v", tt.path, valid)
		}
	}
}

func testPlan9ReadWrite(t *testing.T, e *plan9Env) {
	data := make([]byte, 100_000) // many msize-8192 Twrites and Treads
	for i := range data {
		data[i] = byte(i * 7)
	}
	check(t, "write", e.fs.WriteFile("f", 0o644, nil))
	_, f, err := e.root.Walk([]string{"f"})
	check(t, "walk", err)
	defer f.Close()
	_, iounit, err := f.Open(p9.ReadWrite)
	check(t, "open", err)
	n, err := f.WriteAt(data, 0)
	if err != nil || n != len(data) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if _, got := e.lookup(t, "f"); !slices.Equal(got, data) {
		t.Errorf("the server has %d bytes, not what was written", len(got))
	}
	got := make([]byte, len(data)+10)
	n, err = f.ReadAt(got, 0)
	if err != nil || n != len(data) || !slices.Equal(got[:n], data) {
		t.Errorf("read: %d, %v (iounit %d)", n, err, iounit)
	}
	if _, err := f.ReadAt(got, int64(len(data))); err != io.EOF {
		t.Errorf("read at the end: %v, want EOF", err)
	}
	for _, fr := range e.tap.out.all() {
		if fr.typ == fcall.MsgTwrite && fr.size > 8192 {
			t.Fatalf("a Twrite of %d bytes on msize 8192", fr.size)
		}
	}
	// Open with O_TRUNC is Topen with OTRUNC.
	_, g, err := e.root.Walk([]string{"f"})
	check(t, "walk", err)
	defer g.Close()
	_, _, err = g.Open(p9.WriteOnly | unix.O_TRUNC)
	check(t, "open O_TRUNC", err)
	if d, _ := e.lookup(t, "f"); d.Length != 0 {
		t.Errorf("after Topen with OTRUNC: length %d", d.Length)
	}
}

func testPlan9Create(t *testing.T, e *plan9Env) {
	f, qid, _, err := e.root.Create("new", p9.ReadWrite, 0o640, p9.NoUID, p9.NoGID)
	check(t, "create", err)
	defer f.Close()
	if _, err := f.WriteAt([]byte("made"), 0); err != nil {
		t.Fatalf("write the new file: %v", err)
	}
	d, data := e.lookup(t, "new")
	if d.Mode != 0o640 || string(data) != "made" || qid.Path != d.Qid.Path || f.(*File).qid != qid {
		t.Errorf("created: mode %v data %q qid %v (server %v)", d.Mode, data, qid, d.Qid)
	}
	// The root is still the directory: it creates again.
	g, _, _, err := e.root.Create("second", p9.WriteOnly, 0o600, p9.NoUID, p9.NoGID)
	check(t, "create from the same directory", err)
	g.Close()
	_, _, _, err = e.root.Create("new", p9.WriteOnly, 0o600, p9.NoUID, p9.NoGID)
	wantErrno(t, "create over an existing name", err, linux.EEXIST)
}

func testPlan9Mkdir(t *testing.T, e *plan9Env) {
	before := fidsInUse(e.c)
	qid, err := e.root.Mkdir("dir", 0o751, p9.NoUID, p9.NoGID)
	check(t, "mkdir", err)
	d, _ := e.lookup(t, "dir")
	if d.Mode != plan9.DMDIR|0o751 || qid.Type != p9.TypeDir || qid.Path != d.Qid.Path {
		t.Errorf("mkdir: mode %v qid %v", d.Mode, qid)
	}
	if fidsInUse(e.c) != before {
		t.Errorf("mkdir kept a fid")
	}
	_, err = e.root.Mkdir("dir", 0o755, p9.NoUID, p9.NoGID)
	wantErrno(t, "mkdir again", err, linux.EEXIST)
}

func testPlan9Remove(t *testing.T, e *plan9Env) {
	check(t, "mkdir", e.fs.Mkdir("d", 0o755))
	check(t, "write", e.fs.WriteFile("d/f", 0o644, nil))
	check(t, "write", e.fs.WriteFile("g", 0o644, nil))
	tests := []struct {
		name  string
		flags uint32
		want  error // nil: removed
	}{
		{"d", unix.AT_REMOVEDIR, linux.ENOTEMPTY},
		{"d", 0, linux.EISDIR},
		{"g", unix.AT_REMOVEDIR, linux.ENOTDIR},
		{"g", 0, nil},
		{"missing", 0, linux.ENOENT},
	}
	for _, tt := range tests {
		err := e.root.UnlinkAt(tt.name, tt.flags)
		if tt.want == nil {
			check(t, "unlinkat "+tt.name, err)
			if _, _, ok := e.fs.Lookup(tt.name); ok {
				t.Errorf("%s is still there", tt.name)
			}
			continue
		}
		wantErrno(t, fmt.Sprintf("unlinkat %s %#x", tt.name, tt.flags), err, tt.want.(linux.Errno))
	}
	_, d, err := e.root.Walk([]string{"d"})
	check(t, "walk", err)
	check(t, "unlinkat d/f", d.UnlinkAt("f", 0))
	d.Close()
	check(t, "unlinkat d", e.root.UnlinkAt("d", unix.AT_REMOVEDIR))
	if _, _, ok := e.fs.Lookup("d"); ok {
		t.Error("d is still there")
	}
}

func testPlan9Rename(t *testing.T, e *plan9Env) {
	check(t, "mkdir", e.fs.Mkdir("d", 0o755))
	check(t, "write", e.fs.WriteFile("d/a", 0o644, []byte("a")))
	check(t, "write", e.fs.WriteFile("d/taken", 0o644, nil))
	check(t, "mkdir", e.fs.Mkdir("other", 0o755))
	_, d, err := e.root.Walk([]string{"d"})
	check(t, "walk", err)
	defer d.Close()
	_, d2, err := e.root.Walk([]string{"d"}) // another fid of the same directory
	check(t, "walk", err)
	defer d2.Close()
	_, o, err := e.root.Walk([]string{"other"})
	check(t, "walk", err)
	defer o.Close()

	check(t, "renameat within d", d.RenameAt("a", d2, "b"))
	if _, data := e.lookup(t, "d/b"); string(data) != "a" {
		t.Errorf("d/b has %q", data)
	}
	if _, _, ok := e.fs.Lookup("d/a"); ok {
		t.Error("d/a is still there")
	}
	wantErrno(t, "renameat onto an existing name", d.RenameAt("b", d, "taken"), linux.EEXIST)
	wantErrno(t, "renameat across directories", d.RenameAt("b", o, "b"), linux.EXDEV)
	_, b, err := d.Walk([]string{"b"})
	check(t, "walk", err)
	defer b.Close()
	wantErrno(t, "rename of a fid", b.Rename(o, "b"), linux.EXDEV)
	e.lookup(t, "d/b")
}

func testPlan9SetAttr(t *testing.T, e *plan9Env) {
	check(t, "mkdir", e.fs.Mkdir("d", 0o755))
	check(t, "write", e.fs.WriteFile("f", 0o644, []byte("0123456789")))
	walk := func(p string) p9.File {
		_, f, err := e.root.Walk([]string{p})
		check(t, "walk "+p, err)
		t.Cleanup(func() { f.Close() })
		return f
	}
	f, d := walk("f"), walk("d")
	mtime := uint64(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).Unix())
	tests := []struct {
		what  string
		file  p9.File
		valid p9.SetAttrMask
		attr  p9.SetAttr
		check func(st plan9.Dir, data []byte) bool
	}{
		{"chmod", f, p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: 0o600},
			func(st plan9.Dir, _ []byte) bool { return st.Mode == 0o600 }},
		{"chmod a directory", d, p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: 0o700},
			func(st plan9.Dir, _ []byte) bool { return st.Mode == plan9.DMDIR|0o700 }},
		{"truncate", f, p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 4},
			func(st plan9.Dir, data []byte) bool { return st.Length == 4 && string(data) == "0123" }},
		{"mtime and atime", f, p9.SetAttrMask{MTime: true, MTimeNotSystemTime: true, ATime: true, ATimeNotSystemTime: true},
			p9.SetAttr{MTimeSeconds: mtime, ATimeSeconds: mtime + 1},
			func(st plan9.Dir, _ []byte) bool { return uint64(st.Mtime) == mtime && uint64(st.Atime) == mtime+1 }},
		{"mtime now", f, p9.SetAttrMask{MTime: true}, p9.SetAttr{},
			func(st plan9.Dir, _ []byte) bool { return time.Since(time.Unix(int64(st.Mtime), 0)) < time.Minute }},
		{"group by name", f, p9.SetAttrMask{GID: true}, p9.SetAttr{GID: 4242},
			func(st plan9.Dir, _ []byte) bool { return st.Gid == groupName(4242) }},
		{"mode and size at once", f, p9.SetAttrMask{Permissions: true, Size: true}, p9.SetAttr{Permissions: 0o640, Size: 0},
			func(st plan9.Dir, data []byte) bool { return st.Mode == 0o640 && len(data) == 0 }},
	}
	for _, tt := range tests {
		check(t, tt.what, tt.file.SetAttr(tt.valid, tt.attr))
		p := "f"
		if tt.file == d {
			p = "d"
		}
		if st, data := e.lookup(t, p); !tt.check(st, data) {
			t.Errorf("%s: the server has mode %v length %d mtime %d atime %d gid %q", tt.what, st.Mode, st.Length, st.Mtime, st.Atime, st.Gid)
		}
	}
	// The owner: 9P2000 names it; this server refuses ("wstat prohibited").
	wantErrno(t, "chown", f.SetAttr(p9.SetAttrMask{UID: true}, p9.SetAttr{UID: 4242}), linux.EPERM)
	// Nothing to set sends nothing; FSync is the Twstat that sets nothing.
	n := len(e.tap.out.all())
	check(t, "setattr of nothing", f.SetAttr(p9.SetAttrMask{CTime: true}, p9.SetAttr{}))
	if len(e.tap.out.all()) != n {
		t.Error("a setattr of nothing went out")
	}
	check(t, "fsync", f.FSync())
}

func testPlan9Readdir(t *testing.T, e *plan9Env) {
	const n = 300 // about 30 KB of stat entries: several Treads on msize 4096
	want := map[string]int{}
	for i := range n {
		name := fmt.Sprintf("entry-%03d-%s", i, strings.Repeat("x", i%40))
		if i%50 == 0 {
			check(t, "mkdir", e.fs.Mkdir(name, 0o755))
		} else {
			check(t, "write", e.fs.WriteFile(name, 0o644, nil))
		}
		want[name] = 1
	}
	for _, count := range []uint32{1, 7, 1 << 20} {
		_, d, err := e.root.Walk(nil)
		check(t, "clone", err)
		_, _, err = d.Open(p9.ReadOnly)
		check(t, "open", err)
		got := map[string]int{}
		var off uint64
		calls := 0
		for {
			ents, err := d.Readdir(off, count)
			check(t, "readdir", err)
			calls++
			if uint32(len(ents)) > count {
				t.Fatalf("readdir count %d: %d entries", count, len(ents))
			}
			if len(ents) == 0 {
				break
			}
			for i, de := range ents {
				got[de.Name]++
				isDir := strings.HasPrefix(de.Name, "entry-") && de.Name[6:9] != "" && atoi(de.Name[6:9])%50 == 0
				wantType := uint8(unix.DT_REG)
				if isDir {
					wantType = unix.DT_DIR
				}
				if (de.QID.Type&p9.TypeDir != 0) != isDir || uint8(de.Type) != wantType {
					t.Errorf("%s: qid type %v, type %d", de.Name, de.QID.Type, de.Type)
				}
				if i > 0 && de.Offset <= ents[i-1].Offset {
					t.Errorf("offsets go back: %d after %d", de.Offset, ents[i-1].Offset)
				}
			}
			off = ents[len(ents)-1].Offset
		}
		d.Close()
		if !mapsEqual(got, want) {
			t.Errorf("readdir count %d: %d names in %d calls, want each of %d once", count, len(got), calls, len(want))
		}
		if count == 1<<20 && calls < 6 {
			t.Errorf("readdir: %d calls on msize 4096, want several Treads", calls)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func testPlan9Errors(t *testing.T, e *plan9Env) {
	_, _, err := e.root.Walk([]string{"missing"})
	var se *serverError
	if !errors.As(err, &se) || se.Ename != "file not found" || err.Error() != "file not found" {
		t.Errorf("walk missing: %v (%T), want the server's \"file not found\"", err, err)
	}
	wantErrno(t, "walk missing", err, linux.ENOENT)
	// A string no table knows is EIO, and its words stay.
	check(t, "write", e.fs.WriteFile("f", 0o644, nil))
	_, f, err := e.root.Walk([]string{"f"})
	check(t, "walk", err)
	defer f.Close()
	_, _, err = f.Walk([]string{"x"})
	if !errors.As(err, &se) || se.Ename != "walk in non-directory" {
		t.Errorf("walk from a file: %v", err)
	}
	wantErrno(t, "walk from a file", err, linux.ENOTDIR)
	_, err = f.WriteAt([]byte("x"), 0)
	if !errors.As(err, &se) || se.Ename != "not open for write" || !errors.Is(err, linux.EBADF) {
		t.Errorf("write to an unopened file: %v", err)
	}
}

func testPlan9Lacks(t *testing.T, e *plan9Env) {
	check(t, "write", e.fs.WriteFile("f", 0o644, nil))
	_, f, err := e.root.Walk([]string{"f"})
	check(t, "walk", err)
	defer f.Close()
	n := len(e.tap.out.all())
	tests := []struct {
		what  string
		errno linux.Errno
		err   error
	}{
		{"statfs", linux.ENOSYS, func() error { _, err := f.StatFS(); return err }()},
		{"xattrs", linux.EOPNOTSUPP, func() error { _, err := f.GetXattr("user.x"); return err }()},
		{"xattrs", linux.EOPNOTSUPP, f.SetXattr("user.x", []byte("v"), 0)},
		{"xattrs", linux.EOPNOTSUPP, func() error { _, err := f.ListXattrs(); return err }()},
		{"locks", linux.ENOSYS, func() error { _, err := f.Lock(1, p9.WriteLock, 0, 0, 0, "c"); return err }()},
		{"locks", linux.ENOSYS, func() error { _, err := f.(*File).GetLock(LockInfo{Type: p9.WriteLock}); return err }()},
		{"symlinks", linux.ENOSYS, func() error { _, err := e.root.Symlink("f", "l", p9.NoUID, p9.NoGID); return err }()},
		{"symlinks", linux.ENOSYS, func() error { _, err := f.Readlink(); return err }()},
		{"hard links", linux.ENOSYS, e.root.Link(f, "h")},
		{"special files", linux.ENOSYS, func() error {
			_, err := e.root.Mknod("p", p9.ModeNamedPipe|0o644, 0, 0, p9.NoUID, p9.NoGID)
			return err
		}()},
	}
	for _, tt := range tests {
		var de *dialectError
		want := "no " + tt.what + " in 9P2000"
		if !errors.As(tt.err, &de) || tt.err.Error() != want || !errors.Is(tt.err, tt.errno) {
			t.Errorf("%s: %v, want %q wrapping %v", tt.what, tt.err, want, tt.errno)
		}
	}
	if len(e.tap.out.all()) != n {
		t.Errorf("%d frames went out for operations 9P2000 lacks", len(e.tap.out.all())-n)
	}
}

// TestDialectVersionAnswers: New sends the dialect's version string and
// takes only an answer naming that dialect.
func TestDialectVersionAnswers(t *testing.T) {
	tests := []struct {
		ask    fcall.Dialect
		answer fcall.Msg
		want   string // "" for success, else the error
	}{
		{fcall.L, &fcall.Rversion{Msize: 8192, Version: "9P2000.L"}, ""},
		{fcall.L, &fcall.Rversion{Msize: 8192, Version: "9P2000.L.Google.7"}, ""},
		{fcall.U, &fcall.Rversion{Msize: 8192, Version: "9P2000.u"}, ""},
		{fcall.Plan9, &fcall.Rversion{Msize: 8192, Version: "9P2000"}, ""},
		{fcall.U, &fcall.Rversion{Msize: 8192, Version: "9P2000"}, `version: server answered version "9P2000": it does not speak 9P2000.u`},
		{fcall.U, &fcall.Rversion{Msize: 8192, Version: "9P2000.L"}, `version: server answered version "9P2000.L": it does not speak 9P2000.u`},
		{fcall.Plan9, &fcall.Rversion{Msize: 8192, Version: "unknown"}, `version: server answered version "unknown": it does not speak 9P2000`},
		{fcall.Plan9, &fcall.Rversion{Msize: 8192, Version: "9P2000.u"}, `version: server answered version "9P2000.u": it does not speak 9P2000`},
		{fcall.Plan9, &fcall.Rerror{Ename: "no version"}, "version: no version"},
		{fcall.L, &fcall.Rerror{Ename: "no version"}, "version: no version"},
		{fcall.U, &fcall.Rlerror{Errno: 71}, "version: protocol error"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%v", tt.ask, tt.answer), func(t *testing.T) {
			nc, fk := fakeServer(t, func(f *fake) {
				if tag, _, ok := f.next(); ok {
					dl := fcall.Plan9
					if tt.answer.Type() == fcall.MsgRlerror {
						dl = fcall.L
					}
					f.nc.Write(fcall.Append(nil, dl, tag, tt.answer))
				}
			})
			c, err := New(nc, Options{Dialect: tt.ask, Timeout: 2 * time.Second})
			if err == nil {
				defer c.Close()
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("New: %v, want %q", err, tt.want)
			}
			if reqs := fk.requests(); len(reqs) == 0 || reqs[0].(*fcall.Tversion).Version != tt.ask.String() {
				t.Errorf("Tversion sent: %v, want version %q", reqs, tt.ask)
			}
		})
	}
}
