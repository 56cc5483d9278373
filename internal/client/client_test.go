package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// env is what a file case works with: a connection to a srv9p export and
// the case's own directory, through the connection and on the host.
type env struct {
	tg   target
	host string // the case's directory on the host
	c    *Conn
	tap  *tap  // c's socket: the frames the client wrote and read
	dir  *File // the case's directory through c
}

// path is the host path of p below the case's directory.
func (e *env) path(p string) string { return filepath.Join(e.host, p) }

// second opens another connection to the same export, at the case's
// directory.
func (e *env) second(t *testing.T) *File {
	c := connect(t, e.tg.dial(t), Options{Timeout: 5 * time.Second})
	return walkTo(t, attach(t, c), filepath.Base(e.host))
}

// fileCase is one row of TestFile.
type fileCase struct {
	name string
	opts Options // Timeout defaults to 5 s
	run  func(t *testing.T, e *env)
}

// TestFile runs every File method against a srv9p export over loopback TCP
// and a unix socket, and compares with what the host disk shows.
func TestFile(t *testing.T) {
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			a, dir := newExport(t)
			tg := serve(t, network, a, nil)
			for _, tc := range fileCases {
				t.Run(tc.name, func(t *testing.T) {
					host := filepath.Join(dir, tc.name)
					check(t, "mkdir", os.Mkdir(host, 0o755))
					opts := tc.opts
					if opts.Timeout == 0 {
						opts.Timeout = 5 * time.Second
					}
					tp := &tap{Conn: tg.dial(t)}
					c := connect(t, tp, opts)
					e := &env{tg: tg, host: host, c: c, tap: tp, dir: walkTo(t, attach(t, c), tc.name)}
					tc.run(t, e)
				})
			}
		})
	}
}

var fileCases = []fileCase{
	{name: "walk", run: testWalk},
	{name: "walk-chunks", run: testWalkChunks},
	{name: "getattr", run: testGetAttr},
	{name: "setattr", run: testSetAttr},
	{name: "read-write", opts: Options{MSize: 64 << 10}, run: testReadWrite},
	{name: "create", run: testCreate},
	{name: "mkdir", run: testMkdir},
	{name: "symlink-readlink", run: testSymlink},
	{name: "mknod-fifo", run: testMknod},
	{name: "link", run: testLink},
	{name: "renameat", run: testRenameAt},
	{name: "rename", run: testRename},
	{name: "unlinkat", run: testUnlinkAt},
	{name: "readdir", run: testReaddir},
	{name: "statfs", run: testStatFS},
	{name: "fsync", run: testFSync},
	{name: "xattr", run: testXattr},
	{name: "lock", run: testLock},
	{name: "lockwait", run: testLockWait},
	{name: "close", run: testClose},
	{name: "remove", run: testRemove},
}

func writeHost(t *testing.T, p string, data []byte) {
	t.Helper()
	check(t, "host write", os.WriteFile(p, data, 0o644))
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	check(t, "host lstat", unix.Lstat(p, &st))
	return st
}

// inode is the QID path of f, which srv9p makes the host inode number on
// the export's own device.
func inode(t *testing.T, f *File) uint64 {
	t.Helper()
	qid, _, _, err := f.GetAttr(p9.AttrMask{Mode: true})
	check(t, "getattr", err)
	return qid.Path
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func testWalk(t *testing.T, e *env) {
	check(t, "host", os.MkdirAll(e.path("a/b/c"), 0o755))
	writeHost(t, e.path("a/b/c/f"), []byte("x"))
	qids, nf, err := e.dir.Walk([]string{"a", "b", "c", "f"})
	check(t, "walk a/b/c/f", err)
	defer nf.Close()
	if len(qids) != 4 {
		t.Fatalf("walk a/b/c/f: %d qids, want 4", len(qids))
	}
	for i, want := range []p9.QIDType{p9.TypeDir, p9.TypeDir, p9.TypeDir, p9.TypeRegular} {
		if qids[i].Type != want {
			t.Errorf("qid %d type %v, want %v", i, qids[i].Type, want)
		}
	}
	if got, want := inode(t, nf.(*File)), lstat(t, e.path("a/b/c/f")).Ino; got != want {
		t.Errorf("walked to inode %d, host has %d", got, want)
	}
	if q := nf.(*File).qid; q != qids[3] {
		t.Errorf("File.QID %v, want the last walked %v", q, qids[3])
	}

	// A walk of no names clones the fid.
	qids, clone, err := e.dir.Walk(nil)
	check(t, "clone", err)
	if len(qids) != 0 || clone.(*File).fid == e.dir.fid || clone.(*File).qid != e.dir.qid {
		t.Errorf("clone: %d qids, fid %d (dir %d), qid %v (dir %v)", len(qids), clone.(*File).fid, e.dir.fid, clone.(*File).qid, e.dir.qid)
	}
	check(t, "clone close", clone.Close())

	// WalkGetAttr is a walk and a getattr.
	wq, wf, valid, attr, err := e.dir.WalkGetAttr([]string{"a", "b"})
	check(t, "walkgetattr", err)
	if !valid.Mode || !attr.Mode.IsDir() || len(wq) != 2 || wq[1].Path != lstat(t, e.path("a/b")).Ino {
		t.Errorf("walkgetattr a/b: valid %v mode %v qids %v", valid, attr.Mode, wq)
	}
	wf.Close()

	// A walk that stops short is ENOENT and leaves no fid behind, on
	// either side.
	for _, names := range [][]string{{"nope"}, {"a", "nope"}, {"a", "b", "c", "f", "g"}} {
		before := fidsInUse(e.c)
		fid := peekFid(e.c)
		_, nf, err := e.dir.Walk(names)
		if !errors.Is(err, linux.ENOENT) && !errors.Is(err, linux.ENOTDIR) {
			t.Errorf("walk %q: %v, want ENOENT (or ENOTDIR)", names, err)
		}
		if nf != nil {
			t.Errorf("walk %q: got a file with the error", names)
		}
		if n := fidsInUse(e.c); n != before {
			t.Errorf("walk %q: %d fids in use, %d before", names, n, before)
		}
		if serverHas(t, e.c, fid) {
			t.Errorf("walk %q: the server still has fid %d", names, fid)
		}
	}
}

func testWalkChunks(t *testing.T, e *env) {
	const depth = 40
	names := make([]string, depth)
	for i := range names {
		names[i] = fmt.Sprintf("d%02d", i)
	}
	check(t, "host", os.MkdirAll(e.path(strings.Join(names, "/")), 0o755))
	for _, n := range []int{15, 16, 17, 32, 33, 40} {
		qids, nf, err := e.dir.Walk(names[:n])
		check(t, fmt.Sprintf("walk %d names", n), err)
		if len(qids) != n {
			t.Errorf("walk %d names: %d qids", n, len(qids))
		}
		if got, want := inode(t, nf.(*File)), lstat(t, e.path(strings.Join(names[:n], "/"))).Ino; got != want {
			t.Errorf("walk %d names: inode %d, host %d", n, got, want)
		}
		nf.Close()
	}
	// Twalks of at most 16 names each.
	var walks []int
	for _, f := range e.tap.out.all() {
		if w, ok := f.msg.(*fcall.Twalk); ok {
			walks = append(walks, len(w.Names))
		}
	}
	for _, n := range walks {
		if n > fcall.MaxWalk {
			t.Errorf("a Twalk of %d names went out", n)
		}
	}
	// A walk that fails in its second or third chunk: ENOENT, the fid the
	// first chunks made is clunked and its number reused.
	for _, bad := range []int{0, 15, 16, 20, 33, 39} {
		ns := slices.Clone(names)
		ns[bad] = "missing"
		before := fidsInUse(e.c)
		fid := peekFid(e.c)
		_, _, err := e.dir.Walk(ns)
		wantErrno(t, fmt.Sprintf("walk missing at %d", bad), err, linux.ENOENT)
		if n := fidsInUse(e.c); n != before {
			t.Errorf("walk missing at %d: %d fids in use, %d before", bad, n, before)
		}
		if serverHas(t, e.c, fid) {
			t.Errorf("walk missing at %d: the server still has fid %d", bad, fid)
		}
	}
}

func testGetAttr(t *testing.T, e *env) {
	writeHost(t, e.path("f"), randomBytes(12345))
	check(t, "host chmod", os.Chmod(e.path("f"), 0o640))
	mt := time.Unix(1_600_000_000, 123456789)
	check(t, "host chtimes", os.Chtimes(e.path("f"), mt, mt))
	for _, name := range []string{"f", ""} {
		f := walkTo(t, e.dir, name)
		qid, valid, attr, err := f.GetAttr(p9.AttrMaskAll)
		check(t, "getattr", err)
		st := lstat(t, e.path(name))
		if !valid.Mode || !valid.Size || !valid.MTime || !valid.NLink || !valid.UID {
			t.Errorf("%q: valid %v", name, valid)
		}
		if uint32(attr.Mode) != st.Mode || attr.Size != uint64(st.Size) || qid.Path != st.Ino ||
			uint64(attr.NLink) != st.Nlink || uint32(attr.UID) != st.Uid || uint32(attr.GID) != st.Gid ||
			attr.Blocks != uint64(st.Blocks) ||
			attr.MTimeSeconds != uint64(st.Mtim.Sec) || attr.MTimeNanoSeconds != uint64(st.Mtim.Nsec) {
			t.Errorf("%q: attr %+v, host %+v", name, attr, st)
		}
		if wantDir := name == ""; qid.Type == p9.TypeDir != wantDir {
			t.Errorf("%q: qid type %v", name, qid.Type)
		}
	}
}

func testSetAttr(t *testing.T, e *env) {
	writeHost(t, e.path("f"), randomBytes(1000))
	check(t, "host", os.Mkdir(e.path("d"), 0o755))
	f := walkTo(t, e.dir, "f")
	d := walkTo(t, e.dir, "d")
	perms := []struct {
		f    *File
		name string
		mode p9.FileMode
	}{
		{f, "f", 0o4755}, {f, "f", 0o2750}, {f, "f", 0o600}, {d, "d", 0o2775}, {d, "d", 0o1777},
	}
	for _, p := range perms {
		check(t, "chmod", p.f.SetAttr(p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: p.mode}))
		if got := lstat(t, e.path(p.name)).Mode & 0o7777; got != uint32(p.mode) {
			t.Errorf("chmod %s %o: host mode %o", p.name, p.mode, got)
		}
		_, _, attr, err := p.f.GetAttr(p9.AttrMask{Mode: true})
		check(t, "getattr", err)
		if uint32(attr.Mode)&0o7777 != uint32(p.mode) {
			t.Errorf("chmod %s %o: getattr mode %o", p.name, p.mode, attr.Mode)
		}
	}

	// Truncate down and up.
	for _, size := range []uint64{10, 0, 5000} {
		check(t, "truncate", f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{Size: size}))
		if got := lstat(t, e.path("f")).Size; got != int64(size) {
			t.Errorf("truncate %d: host size %d", size, got)
		}
	}

	// Given times, and the server's now.
	check(t, "set times", f.SetAttr(p9.SetAttrMask{ATime: true, MTime: true, ATimeNotSystemTime: true, MTimeNotSystemTime: true},
		p9.SetAttr{ATimeSeconds: 1_000_000_000, ATimeNanoSeconds: 5, MTimeSeconds: 1_234_567_890, MTimeNanoSeconds: 987654321}))
	st := lstat(t, e.path("f"))
	if st.Atim.Sec != 1_000_000_000 || st.Atim.Nsec != 5 || st.Mtim.Sec != 1_234_567_890 || st.Mtim.Nsec != 987654321 {
		t.Errorf("set times: host atime %v mtime %v", st.Atim, st.Mtim)
	}
	before := time.Now().Add(-2 * time.Second)
	check(t, "touch", f.SetAttr(p9.SetAttrMask{MTime: true}, p9.SetAttr{}))
	st = lstat(t, e.path("f"))
	if mt := time.Unix(st.Mtim.Sec, st.Mtim.Nsec); mt.Before(before) || mt.After(time.Now().Add(2*time.Second)) {
		t.Errorf("mtime set to now: host has %v", mt)
	}
	if got := lstat(t, e.path("f")).Atim; got.Sec != 1_000_000_000 {
		t.Errorf("setting mtime alone changed atime to %v", got)
	}
}

func testReadWrite(t *testing.T, e *env) {
	const size = 3 << 20
	if e.c.MSize() != 64<<10 {
		t.Fatalf("msize %d, asked for %d", e.c.MSize(), 64<<10)
	}
	chunk := int(e.c.MSize()) - fcall.IOHeaderSize
	data := randomBytes(size)
	writeHost(t, e.path("r"), data)

	r := openAt(t, e.dir, "r", p9.ReadOnly)
	buf := make([]byte, size)
	n, err := r.ReadAt(buf, 0)
	check(t, "read", err)
	if n != size || !bytes.Equal(buf, data) {
		t.Fatalf("read %d bytes, want %d identical", n, size)
	}
	// The Treads: each at most msize-24, contiguous, covering the file.
	var off uint64
	treads := 0
	for _, f := range e.tap.out.all() {
		if m, ok := f.msg.(*fcall.Tread); ok && m.Fid == r.fid {
			treads++
			if int(m.Count) > chunk || m.Offset != off {
				t.Errorf("Tread %d: offset %d count %d, want offset %d count <= %d", treads, m.Offset, m.Count, off, chunk)
			}
			off += uint64(m.Count)
		}
	}
	if want := (size + chunk - 1) / chunk; treads != want || off != size {
		t.Errorf("%d Treads covering %d bytes, want %d covering %d", treads, off, want, size)
	}

	// Unaligned reads and the end of the file.
	part := make([]byte, 777_777)
	n, err = r.ReadAt(part, 1_000_003)
	if err != nil || n != len(part) || !bytes.Equal(part, data[1_000_003:1_000_003+len(part)]) {
		t.Errorf("read at 1000003: %d, %v", n, err)
	}
	n, err = r.ReadAt(part[:100], size-10)
	if err != nil || n != 10 || !bytes.Equal(part[:10], data[size-10:]) {
		t.Errorf("read across the end: %d, %v; want 10, nil", n, err)
	}
	if n, err := r.ReadAt(part[:100], size); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v; want 0, EOF", n, err)
	}
	if n, err := r.ReadAt(nil, 0); n != 0 || err != nil {
		t.Errorf("read of nothing: %d, %v", n, err)
	}
	_, err = r.WriteAt([]byte("x"), 0)
	wantErrno(t, "write to a read-only fid", err, linux.EBADF)

	// Writes, split the same way.
	writeHost(t, e.path("w"), nil)
	w := openAt(t, e.dir, "w", p9.WriteOnly)
	data = randomBytes(size)
	n, err = w.WriteAt(data, 0)
	if err != nil || n != size {
		t.Fatalf("write: %d, %v", n, err)
	}
	got, err := os.ReadFile(e.path("w"))
	check(t, "host read", err)
	if !bytes.Equal(got, data) {
		t.Fatalf("host has %d bytes, not the %d written", len(got), size)
	}
	woff, twrites := 0, 0
	for _, f := range e.tap.out.all() {
		if m, ok := f.msg.(*fcall.Twrite); ok && m.Fid == w.fid {
			twrites++
			if len(m.Data) > chunk || f.size > int(e.c.MSize()) || m.Offset != uint64(woff) || !bytes.Equal(m.Data, data[woff:woff+len(m.Data)]) {
				t.Errorf("Twrite %d: offset %d, %d bytes, frame %d", twrites, m.Offset, len(m.Data), f.size)
			}
			woff += len(m.Data)
		}
	}
	if want := (size + chunk - 1) / chunk; twrites != want || woff != size {
		t.Errorf("%d Twrites covering %d bytes, want %d covering %d", twrites, woff, want, size)
	}
	// A write past the end leaves a hole.
	if n, err := w.WriteAt([]byte("tail"), 5<<20); n != 4 || err != nil {
		t.Errorf("write at 5 MiB: %d, %v", n, err)
	}
	if st := lstat(t, e.path("w")); st.Size != 5<<20+4 {
		t.Errorf("host size %d after a write at 5 MiB", st.Size)
	}
	_, err = w.ReadAt(buf[:10], 0)
	wantErrno(t, "read from a write-only fid", err, linux.EBADF)
}

func testCreate(t *testing.T, e *env) {
	nf, qid, _, err := e.dir.Create("new", p9.ReadWrite, 0o640, p9.NoUID, p9.NoGID)
	check(t, "create", err)
	defer nf.Close()
	st := lstat(t, e.path("new"))
	if st.Mode != unix.S_IFREG|0o640 || qid.Type != p9.TypeRegular {
		t.Errorf("create: host mode %o, qid %v", st.Mode, qid)
	}
	if n, err := nf.WriteAt([]byte("hello"), 0); n != 5 || err != nil {
		t.Errorf("write to the created file: %d, %v", n, err)
	}
	if got, _ := os.ReadFile(e.path("new")); string(got) != "hello" {
		t.Errorf("host has %q", got)
	}
	// The directory's fid is still the directory.
	dq, _, _, err := e.dir.GetAttr(p9.AttrMask{Mode: true})
	if err != nil || dq.Type != p9.TypeDir {
		t.Errorf("directory after create: %v, %v", dq, err)
	}
	walkTo(t, e.dir, "new")
	nf2, _, _, err := e.dir.Create("new2", p9.WriteOnly, 0o600, p9.NoUID, p9.NoGID)
	check(t, "second create", err)
	nf2.Close()
	if st := lstat(t, e.path("new2")); st.Mode != unix.S_IFREG|0o600 {
		t.Errorf("new2: host mode %o", st.Mode)
	}
	before := fidsInUse(e.c)
	_, _, _, err = e.dir.Create("new", p9.ReadWrite, 0o640, p9.NoUID, p9.NoGID)
	wantErrno(t, "create over an existing file", err, linux.EEXIST)
	if n := fidsInUse(e.c); n != before {
		t.Errorf("failed create: %d fids in use, %d before", n, before)
	}
}

func testMkdir(t *testing.T, e *env) {
	qid, err := e.dir.Mkdir("d", 0o750, p9.NoUID, p9.NoGID)
	check(t, "mkdir", err)
	if st := lstat(t, e.path("d")); st.Mode != unix.S_IFDIR|0o750 || qid.Type != p9.TypeDir {
		t.Errorf("mkdir: host mode %o, qid %v", st.Mode, qid)
	}
	_, err = e.dir.Mkdir("d", 0o750, p9.NoUID, p9.NoGID)
	wantErrno(t, "mkdir again", err, linux.EEXIST)
	_, err = e.dir.Mkdir("a/b", 0o750, p9.NoUID, p9.NoGID)
	wantErrno(t, "mkdir of a path", err, linux.EINVAL)
}

func testSymlink(t *testing.T, e *env) {
	qid, err := e.dir.Symlink("some/where/else", "sl", p9.NoUID, p9.NoGID)
	check(t, "symlink", err)
	if got, err := os.Readlink(e.path("sl")); err != nil || got != "some/where/else" || qid.Type != p9.TypeSymlink {
		t.Errorf("symlink: host has %q (%v), qid %v", got, err, qid)
	}
	check(t, "host symlink", os.Symlink("../x/y", e.path("hl")))
	for name, want := range map[string]string{"sl": "some/where/else", "hl": "../x/y"} {
		if got, err := walkTo(t, e.dir, name).Readlink(); got != want || err != nil {
			t.Errorf("readlink %s: %q, %v; want %q", name, got, err, want)
		}
	}
	writeHost(t, e.path("f"), nil)
	_, err = walkTo(t, e.dir, "f").Readlink()
	wantErrno(t, "readlink of a file", err, linux.EINVAL)
}

func testMknod(t *testing.T, e *env) {
	qid, err := e.dir.Mknod("fifo", p9.ModeNamedPipe|0o640, 0, 0, p9.NoUID, p9.NoGID)
	check(t, "mknod", err)
	if st := lstat(t, e.path("fifo")); st.Mode != unix.S_IFIFO|0o640 {
		t.Errorf("mknod: host mode %o (qid %v)", st.Mode, qid)
	}
	_, _, attr, err := walkTo(t, e.dir, "fifo").GetAttr(p9.AttrMask{Mode: true})
	if err != nil || !attr.Mode.IsNamedPipe() {
		t.Errorf("getattr of the fifo: %v, %v", attr.Mode, err)
	}
}

func testLink(t *testing.T, e *env) {
	writeHost(t, e.path("f"), []byte("data"))
	f := walkTo(t, e.dir, "f")
	check(t, "link", e.dir.Link(f, "hard"))
	a, b := lstat(t, e.path("f")), lstat(t, e.path("hard"))
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("link: inodes %d and %d, nlink %d", a.Ino, b.Ino, a.Nlink)
	}
	_, _, attr, err := f.GetAttr(p9.AttrMask{NLink: true})
	if err != nil || uint64(attr.NLink) != 2 {
		t.Errorf("getattr after link: nlink %d, %v", attr.NLink, err)
	}
	wantErrno(t, "link over an existing name", e.dir.Link(f, "hard"), linux.EEXIST)

	// A closed target is EBADF, even when its fid number has been given
	// to another file since.
	writeHost(t, e.path("g"), []byte("other"))
	g := walkTo(t, e.dir, "f")
	check(t, "close", g.Close())
	walkTo(t, e.dir, "g") // may reuse g's fid number
	wantErrno(t, "link of a closed file", e.dir.Link(g, "hard2"), linux.EBADF)
	if exists(e.path("hard2")) {
		t.Errorf("link of a closed file made hard2")
	}
}

func testRenameAt(t *testing.T, e *env) {
	writeHost(t, e.path("a"), []byte("content"))
	check(t, "host", os.Mkdir(e.path("sub"), 0o755))
	sub := walkTo(t, e.dir, "sub")
	ino := lstat(t, e.path("a")).Ino
	check(t, "renameat", e.dir.RenameAt("a", sub, "b"))
	if exists(e.path("a")) || lstat(t, e.path("sub/b")).Ino != ino {
		t.Errorf("renameat: a still there or sub/b not the same file")
	}
	check(t, "renameat in place", sub.RenameAt("b", sub, "c"))
	if got, _ := os.ReadFile(e.path("sub/c")); string(got) != "content" {
		t.Errorf("sub/c has %q", got)
	}
	wantErrno(t, "renameat of a missing name", e.dir.RenameAt("a", sub, "x"), linux.ENOENT)

	closed := walkTo(t, e.dir, "sub")
	check(t, "close", closed.Close())
	walkTo(t, e.dir, "") // may reuse closed's fid number
	wantErrno(t, "renameat into a closed directory", sub.RenameAt("c", closed, "d"), linux.EBADF)
	if !exists(e.path("sub/c")) {
		t.Errorf("renameat into a closed directory moved sub/c")
	}
}

// testRename: File.Rename sends a Trename of the file's fid into the new
// directory. srv9p answers it ENOSYS (node.go: it implements renameat only,
// which is what the Linux client uses), and nothing moves.
func testRename(t *testing.T, e *env) {
	writeHost(t, e.path("f"), []byte("content"))
	check(t, "host", os.Mkdir(e.path("sub"), 0o755))
	f := walkTo(t, e.dir, "f")
	sub := walkTo(t, e.dir, "sub")
	wantErrno(t, "rename", f.Rename(sub, "g"), linux.ENOSYS)
	var sent *fcall.Trename
	for _, fr := range e.tap.out.all() {
		if m, ok := fr.msg.(*fcall.Trename); ok {
			sent = m
		}
	}
	if sent == nil || sent.Fid != f.fid || sent.Dfid != sub.fid || sent.Name != "g" {
		t.Errorf("rename sent %+v, want Trename fid %d dfid %d name g", sent, f.fid, sub.fid)
	}
	if !exists(e.path("f")) || exists(e.path("sub/g")) {
		t.Errorf("a failed rename moved f")
	}
	// The fid is still the file.
	if got, want := inode(t, f), lstat(t, e.path("f")).Ino; got != want {
		t.Errorf("getattr after rename: inode %d, want %d", got, want)
	}
}

func testUnlinkAt(t *testing.T, e *env) {
	writeHost(t, e.path("f"), nil)
	check(t, "host", os.Mkdir(e.path("d"), 0o755))
	check(t, "host", os.MkdirAll(e.path("full/x"), 0o755))
	check(t, "unlink f", e.dir.UnlinkAt("f", 0))
	check(t, "rmdir d", e.dir.UnlinkAt("d", unix.AT_REMOVEDIR))
	if exists(e.path("f")) || exists(e.path("d")) {
		t.Errorf("unlinkat left f or d")
	}
	wantErrno(t, "rmdir full", e.dir.UnlinkAt("full", unix.AT_REMOVEDIR), linux.ENOTEMPTY)
	wantErrno(t, "unlink missing", e.dir.UnlinkAt("missing", 0), linux.ENOENT)
	if !exists(e.path("full/x")) {
		t.Errorf("failed rmdir removed full/x")
	}
}

func testReaddir(t *testing.T, e *env) {
	const n = 10_000
	check(t, "host", os.Mkdir(e.path("big"), 0o755))
	want := map[string]int{".": 1, "..": 1}
	for i := range n {
		name := fmt.Sprintf("file-%05d", i)
		if i%1000 == 0 {
			name = strings.Repeat("long", 30) + name
		}
		fd, err := unix.Open(e.path("big/"+name), unix.O_CREAT|unix.O_WRONLY, 0o644)
		check(t, "host create", err)
		unix.Close(fd)
		want[name] = 1
	}
	d := openAt(t, e.dir, "big", p9.ReadOnly)

	// Readdir: at most count entries a call, every name exactly once.
	for _, count := range []uint32{1, 7, 100, 20_000} {
		got := map[string]int{}
		var off uint64
		calls := 0
		for {
			if count == 1 && calls == 50 {
				break // one at a time is checked on the first entries
			}
			ents, err := d.Readdir(off, count)
			check(t, "readdir", err)
			calls++
			if uint32(len(ents)) > count {
				t.Fatalf("readdir count %d: %d entries", count, len(ents))
			}
			if len(ents) == 0 {
				break
			}
			for _, de := range ents {
				got[de.Name]++
				if strings.HasSuffix(de.Name, "0") && strings.Contains(de.Name, "file-") && (de.QID.Type != p9.TypeRegular || de.Type != unix.DT_REG) {
					t.Errorf("%s: qid type %v, type %d", de.Name, de.QID.Type, de.Type)
				}
			}
			off = ents[len(ents)-1].Offset
		}
		if count == 1 {
			if len(got) != 50 {
				t.Errorf("readdir count 1: %d names in 50 calls", len(got))
			}
			continue
		}
		if !mapsEqual(got, want) {
			t.Errorf("readdir count %d: %d names in %d calls, want each of %d once", count, len(got), calls, len(want))
		}
	}

	// ReaddirBytes: the entries fit the byte budget.
	for _, budget := range []uint32{4096, 1 << 20} {
		got := map[string]int{}
		var off uint64
		for {
			ents, err := d.ReaddirBytes(off, budget)
			check(t, "readdirbytes", err)
			if len(ents) == 0 {
				break
			}
			size := 0
			for i := range ents {
				got[ents[i].Name]++
				size += fcall.DirentSize(&ents[i])
			}
			if size > int(budget) {
				t.Fatalf("readdirbytes %d: %d bytes of entries", budget, size)
			}
			off = ents[len(ents)-1].Offset
		}
		if !mapsEqual(got, want) {
			t.Errorf("readdirbytes %d: %d names, want each of %d once", budget, len(got), len(want))
		}
	}
	_, err := walkTo(t, e.dir, "big").Readdir(0, 10)
	wantErrno(t, "readdir of an unopened directory", err, linux.EBADF)
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testStatFS(t *testing.T, e *env) {
	st, err := e.dir.StatFS()
	check(t, "statfs", err)
	var host unix.Statfs_t
	check(t, "host statfs", unix.Statfs(e.host, &host))
	if st.Type != uint32(host.Type) || st.BlockSize != uint32(host.Bsize) || st.Blocks != host.Blocks ||
		st.Files != host.Files || st.NameLength != uint32(host.Namelen) {
		t.Errorf("statfs %+v, host %+v", st, host)
	}
}

func testFSync(t *testing.T, e *env) {
	writeHost(t, e.path("f"), nil)
	f := openAt(t, e.dir, "f", p9.ReadWrite)
	if _, err := f.WriteAt([]byte("synced"), 0); err != nil {
		t.Fatal(err)
	}
	check(t, "fsync", f.FSync())
	if got, _ := os.ReadFile(e.path("f")); string(got) != "synced" {
		t.Errorf("host has %q", got)
	}
}

func testXattr(t *testing.T, e *env) {
	writeHost(t, e.path("f"), nil)
	f := walkTo(t, e.dir, "f")
	big := randomBytes(3000) // ext4 keeps a file's xattrs in one block
	check(t, "setxattr", f.SetXattr("user.mfs", []byte("value"), 0))
	check(t, "setxattr big", f.SetXattr("user.big", big, 0))
	buf := make([]byte, 20_000)
	if n, err := unix.Lgetxattr(e.path("f"), "user.mfs", buf); err != nil || string(buf[:n]) != "value" {
		t.Errorf("host user.mfs: %q, %v", buf[:n], err)
	}
	if n, err := unix.Lgetxattr(e.path("f"), "user.big", buf); err != nil || !bytes.Equal(buf[:n], big) {
		t.Errorf("host user.big: %d bytes, %v", n, err)
	}
	check(t, "host setxattr", unix.Lsetxattr(e.path("f"), "user.host", []byte("from host"), 0))
	for name, want := range map[string][]byte{"user.mfs": []byte("value"), "user.big": big, "user.host": []byte("from host")} {
		if got, err := f.GetXattr(name); err != nil || !bytes.Equal(got, want) {
			t.Errorf("getxattr %s: %d bytes, %v", name, len(got), err)
		}
	}
	names, err := f.ListXattrs()
	check(t, "listxattr", err)
	var user []string
	for _, n := range names {
		if strings.HasPrefix(n, "user.") {
			user = append(user, n)
		}
	}
	slices.Sort(user)
	if !slices.Equal(user, []string{"user.big", "user.host", "user.mfs"}) {
		t.Errorf("listxattr: %q", names)
	}
	wantErrno(t, "create an existing xattr", f.SetXattr("user.mfs", []byte("x"), p9.XattrCreate), linux.EEXIST)
	wantErrno(t, "replace a missing xattr", f.SetXattr("user.none", []byte("x"), p9.XattrReplace), linux.ENODATA)
	check(t, "removexattr", f.RemoveXattr("user.mfs"))
	if _, err := unix.Lgetxattr(e.path("f"), "user.mfs", buf); err != unix.ENODATA {
		t.Errorf("host user.mfs after remove: %v", err)
	}
	_, err = f.GetXattr("user.mfs")
	wantErrno(t, "getxattr of a removed xattr", err, linux.ENODATA)
	_, err = f.GetXattr("user.missing")
	wantErrno(t, "getxattr of a missing xattr", err, linux.ENODATA)
	wantErrno(t, "removexattr of a missing xattr", f.RemoveXattr("user.missing"), linux.ENODATA)
	if n := pending(e.c); n != 0 {
		t.Errorf("%d calls still pending", n)
	}
}

func testLock(t *testing.T, e *env) {
	writeHost(t, e.path("f"), nil)
	f1 := openAt(t, e.dir, "f", p9.ReadWrite)
	f2 := openAt(t, e.second(t), "f", p9.ReadWrite)
	lock := func(f *File, typ p9.LockType, start, length uint64) p9.LockStatus {
		t.Helper()
		st, err := f.Lock(1, typ, 0, start, length, "test")
		check(t, "lock", err)
		return st
	}
	if st := lock(f1, p9.WriteLock, 0, 100); st != p9.LockStatusOK {
		t.Fatalf("first write lock: %v", st)
	}
	for _, c := range []struct {
		typ           p9.LockType
		start, length uint64
		want          p9.LockStatus
	}{
		{p9.WriteLock, 0, 100, p9.LockStatusBlocked},
		{p9.ReadLock, 50, 10, p9.LockStatusBlocked},
		{p9.WriteLock, 0, 0, p9.LockStatusBlocked},
		{p9.WriteLock, 200, 10, p9.LockStatusOK},
	} {
		if st := lock(f2, c.typ, c.start, c.length); st != c.want {
			t.Errorf("second conn lock %v %d+%d: %v, want %v", c.typ, c.start, c.length, st, c.want)
		}
	}
	// Tgetlock reports the holder.
	got, err := f2.GetLock(LockInfo{Type: p9.WriteLock, Start: 0, Length: 100, PID: 2, Client: "test"})
	check(t, "getlock", err)
	if got.Type != p9.WriteLock || got.Start != 0 || got.Length != 100 {
		t.Errorf("getlock: %+v, want the write lock 0+100", got)
	}
	got, err = f1.GetLock(LockInfo{Type: p9.ReadLock, Start: 205, Length: 1})
	check(t, "getlock", err)
	if got.Type != p9.WriteLock || got.Start != 200 || got.Length != 10 {
		t.Errorf("getlock: %+v, want the write lock 200+10", got)
	}
	got, err = f1.GetLock(LockInfo{Type: p9.WriteLock, Start: 500, Length: 10})
	if err != nil || got.Type != p9.Unlock {
		t.Errorf("getlock of a free range: %+v, %v", got, err)
	}
	// Unlocked, the other conn gets it.
	lock(f1, p9.Unlock, 0, 100)
	if st := lock(f2, p9.WriteLock, 0, 100); st != p9.LockStatusOK {
		t.Errorf("lock after unlock: %v", st)
	}
	if st := lock(f1, p9.ReadLock, 0, 1); st != p9.LockStatusBlocked {
		t.Errorf("lock while the other holds it: %v", st)
	}
	// Locks need an open fid.
	_, err = walkTo(t, e.dir, "f").Lock(1, p9.WriteLock, 0, 0, 0, "test")
	wantErrno(t, "lock of an unopened fid", err, linux.EBADF)
}

func testLockWait(t *testing.T, e *env) {
	writeHost(t, e.path("f"), nil)
	f1 := openAt(t, e.dir, "f", p9.ReadWrite)
	f2 := openAt(t, e.second(t), "f", p9.ReadWrite)
	c2 := f2.c
	hold := func() {
		t.Helper()
		if st, err := f1.Lock(1, p9.WriteLock, 0, 0, 0, "one"); st != p9.LockStatusOK || err != nil {
			t.Fatalf("f1 lock: %v, %v", st, err)
		}
	}
	release := func() {
		t.Helper()
		if st, err := f1.Lock(1, p9.Unlock, 0, 0, 0, "one"); st != p9.LockStatusOK || err != nil {
			t.Fatalf("f1 unlock: %v, %v", st, err)
		}
	}
	// free checks from f1 that f2 holds no lock.
	free := func(what string) {
		t.Helper()
		got, err := f1.GetLock(LockInfo{Type: p9.WriteLock})
		if err != nil || got.Type != p9.Unlock {
			t.Errorf("%s: the other conn holds %+v (%v)", what, got, err)
		}
	}
	type result struct {
		st  p9.LockStatus
		err error
	}
	wait := func(ctx context.Context) chan result {
		ch := make(chan result, 1)
		go func() {
			st, err := f2.LockWait(ctx, 2, p9.WriteLock, 0, 0, 0, "two")
			ch <- result{st, err}
		}()
		waitFor(t, 5*time.Second, "Tlock sent", func() bool { return pending(c2) > 0 })
		return ch
	}

	// It waits until the other conn unlocks.
	hold()
	ch := wait(context.Background())
	select {
	case r := <-ch:
		t.Fatalf("LockWait returned %v, %v while the lock was held", r.st, r.err)
	case <-time.After(100 * time.Millisecond): // a negative check: it is still waiting
	}
	release()
	select {
	case r := <-ch:
		if r.st != p9.LockStatusOK || r.err != nil {
			t.Fatalf("LockWait after unlock: %v, %v", r.st, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("LockWait still waiting 5 s after the unlock")
	}
	if st, _ := f1.Lock(1, p9.WriteLock, 0, 0, 0, "one"); st != p9.LockStatusBlocked {
		t.Errorf("f1 lock while f2 holds it: %v", st)
	}
	if st, err := f2.Lock(2, p9.Unlock, 0, 0, 0, "two"); st != p9.LockStatusOK || err != nil {
		t.Fatalf("f2 unlock: %v, %v", st, err)
	}

	// Cancelled while waiting: LockStatusBlocked at once, lock not taken.
	hold()
	ctx, cancel := context.WithCancel(context.Background())
	ch = wait(ctx)
	start := time.Now()
	cancel()
	select {
	case r := <-ch:
		if r.st != p9.LockStatusBlocked || r.err != nil {
			t.Errorf("cancelled LockWait: %v, %v; want Blocked, nil", r.st, r.err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("cancelled LockWait took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("cancelled LockWait did not return")
	}
	release()
	free("after a cancelled LockWait")

	// Cancelled before it starts: the same.
	hold()
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	st, err := f2.LockWait(ctx, 2, p9.WriteLock, 0, 0, 0, "two")
	if st != p9.LockStatusBlocked || err != nil || time.Since(start) > 2*time.Second {
		t.Errorf("LockWait with a done context: %v, %v after %v", st, err, time.Since(start))
	}
	release()
	free("after LockWait with a done context")
	// The Tflushes may still be on their way back; then nothing is left.
	waitFor(t, 5*time.Second, "no call pending on the second conn", func() bool { return pending(c2) == 0 })
}

func testClose(t *testing.T, e *env) {
	writeHost(t, e.path("f"), []byte("data"))
	check(t, "host", os.Mkdir(e.path("d"), 0o755))
	f := walkTo(t, e.dir, "f")
	fid := f.fid
	check(t, "close", f.Close())
	check(t, "second close", f.Close())
	if serverHas(t, e.c, fid) {
		t.Errorf("the server still has the closed fid %d", fid)
	}
	d := walkTo(t, e.dir, "d")
	buf := make([]byte, 10)
	ops := map[string]func() error{
		"walk":         func() error { _, _, err := f.Walk(nil); return err },
		"walkgetattr":  func() error { _, _, _, _, err := f.WalkGetAttr(nil); return err },
		"getattr":      func() error { _, _, _, err := f.GetAttr(p9.AttrMaskAll); return err },
		"setattr":      func() error { return f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{}) },
		"statfs":       func() error { _, err := f.StatFS(); return err },
		"open":         func() error { _, _, err := f.Open(p9.ReadOnly); return err },
		"read":         func() error { _, err := f.ReadAt(buf, 0); return err },
		"write":        func() error { _, err := f.WriteAt(buf, 0); return err },
		"fsync":        func() error { return f.FSync() },
		"lock":         func() error { _, err := f.Lock(1, p9.WriteLock, 0, 0, 0, ""); return err },
		"lockwait":     func() error { _, err := f.LockWait(context.Background(), 1, p9.WriteLock, 0, 0, 0, ""); return err },
		"getlock":      func() error { _, err := f.GetLock(LockInfo{Type: p9.WriteLock}); return err },
		"create":       func() error { _, _, _, err := f.Create("x", p9.ReadWrite, 0o644, p9.NoUID, p9.NoGID); return err },
		"mkdir":        func() error { _, err := f.Mkdir("x", 0o755, p9.NoUID, p9.NoGID); return err },
		"symlink":      func() error { _, err := f.Symlink("t", "x", p9.NoUID, p9.NoGID); return err },
		"mknod":        func() error { _, err := f.Mknod("x", p9.ModeNamedPipe|0o644, 0, 0, p9.NoUID, p9.NoGID); return err },
		"link":         func() error { return f.Link(d, "x") },
		"link-target":  func() error { return d.Link(f, "x") },
		"rename":       func() error { return f.Rename(d, "x") },
		"rename-dir":   func() error { return d.Rename(f, "x") },
		"renameat":     func() error { return f.RenameAt("x", d, "y") },
		"renameat-dir": func() error { return e.dir.RenameAt("f", f, "y") },
		"unlinkat":     func() error { return f.UnlinkAt("x", 0) },
		"readdir":      func() error { _, err := f.Readdir(0, 10); return err },
		"readdirbytes": func() error { _, err := f.ReaddirBytes(0, 4096); return err },
		"readlink":     func() error { _, err := f.Readlink(); return err },
		"getxattr":     func() error { _, err := f.GetXattr("user.x"); return err },
		"listxattrs":   func() error { _, err := f.ListXattrs(); return err },
		"setxattr":     func() error { return f.SetXattr("user.x", []byte("v"), 0) },
		"removexattr":  func() error { return f.RemoveXattr("user.x") },
	}
	for name, op := range ops {
		before := fidsInUse(e.c)
		wantErrno(t, name+" after close", op(), linux.EBADF)
		if n := fidsInUse(e.c); n != before {
			t.Errorf("%s after close: %d fids in use, %d before", name, n, before)
		}
	}
	if !exists(e.path("f")) || exists(e.path("d/x")) || exists(e.path("d/y")) {
		t.Errorf("an operation on a closed file changed the tree")
	}
}

// testRemove: Tremove forgets the fid whatever the answer; srv9p answers
// EOPNOTSUPP (the Linux client uses Tunlinkat) and removes nothing.
func testRemove(t *testing.T, e *env) {
	writeHost(t, e.path("f"), nil)
	before := fidsInUse(e.c)
	_, nf, err := e.dir.Walk([]string{"f"})
	check(t, "walk", err)
	f := nf.(*File)
	wantErrno(t, "remove", f.Remove(), linux.EOPNOTSUPP)
	if !exists(e.path("f")) {
		t.Errorf("srv9p removed f")
	}
	if serverHas(t, e.c, f.fid) {
		t.Errorf("the server still has the removed fid %d", f.fid)
	}
	if n := fidsInUse(e.c); n != before {
		t.Errorf("%d fids in use after remove, %d before", n, before)
	}
	wantErrno(t, "second remove", f.Remove(), linux.EBADF)
	_, _, _, err = f.GetAttr(p9.AttrMask{Mode: true})
	wantErrno(t, "getattr after remove", err, linux.EBADF)
}

// TestFids: after a thousand walk and clunk cycles the client still uses
// a handful of fid numbers (the free list reuses them).
func TestFids(t *testing.T) {
	a, dir := newExport(t)
	writeHost(t, filepath.Join(dir, "f"), nil)
	c := connect(t, serve(t, "unix", a, nil).dial(t), Options{Timeout: 5 * time.Second})
	root := attach(t, c)
	for i := range 1000 {
		_, f, err := root.Walk([]string{"f"})
		check(t, "walk", err)
		if i%2 == 0 {
			_, _, err = f.Open(p9.ReadOnly)
			check(t, "open", err)
		}
		check(t, "clunk", f.Close())
		if i%100 == 0 {
			_, _, err := root.Walk([]string{"missing"})
			wantErrno(t, "walk missing", err, linux.ENOENT)
		}
	}
	c.mu.Lock()
	next := c.nextFid
	c.mu.Unlock()
	if next > 4 {
		t.Errorf("after 1000 walk+clunk cycles the next new fid is %d", next)
	}
	if n := fidsInUse(c); n != 1 {
		t.Errorf("%d fids in use, want 1 (the root)", n)
	}
}

// TestConformance runs the srv9p conformance table through the client.
func TestConformance(t *testing.T) {
	a, dir := newExport(t)
	tg := serve(t, "tcp", a, nil)
	c := connect(t, tg.dial(t), Options{Timeout: 5 * time.Second})
	srv9ptest.Run(t, func(t *testing.T) p9.File {
		root, err := c.Attach("", "root", p9.NoUID)
		check(t, "attach", err)
		return root
	}, dir)
}

// TestShortReplies: replies of a bare header (Rclunk, Rsetattr, Rfsync,
// Runlinkat, Rrenameat, Rxattrcreate, Rflush: 7 bytes) are taken as soon
// as they come, not when more bytes follow them.
func TestShortReplies(t *testing.T) {
	a, dir := newExport(t)
	writeHost(t, filepath.Join(dir, "f"), nil)
	c := connect(t, serve(t, "unix", a, nil).dial(t), Options{Timeout: 3 * time.Second})
	root := attach(t, c)
	f := openAt(t, root, "f", p9.ReadWrite)
	for _, o := range []struct {
		name string
		op   func() error
	}{
		{"setattr", func() error { return f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{Size: 1}) }},
		{"fsync", f.FSync},
		{"setxattr", func() error { return f.SetXattr("user.a", []byte("b"), 0) }},
		{"renameat", func() error { return root.RenameAt("f", root, "g") }},
		{"unlinkat", func() error { return root.UnlinkAt("g", 0) }},
		{"clunk", f.Close},
	} {
		name, op := o.name, o.op
		start := time.Now()
		if err := within(t, 2*time.Second, op); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v", name, d)
		}
	}
}
