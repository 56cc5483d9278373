//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"mfs/tests/vm/pattern"
)

// exportChecks is part 1: one export mounted directly. Each expectation is
// what Linux gives on a local file system (the tmpfs baseline runs the same
// code in the same boot).
var exportChecks = []check{
	{name: "create-write-read", fn: chkCreateWriteRead},
	{name: "append", fn: chkAppend},
	{name: "truncate", fn: chkTruncate},
	{name: "pread-pwrite-seek", fn: chkPreadPwrite},
	{name: "mkdir-rmdir", fn: chkMkdirRmdir},
	{name: "errnos", fn: chkErrnos},
	{name: "readdir-small", fn: chkReaddirSmall},
	{name: "rename-file-over-file", fn: chkRenameFileOverFile},
	{name: "rename-dir-over-empty-dir", fn: chkRenameDirOverDir},
	{name: "rename-across-dirs", fn: chkRenameAcrossDirs},
	{name: "rename-open-dir", fn: chkRenameOpenDir},
	{name: "unlink-open-file", fn: chkUnlinkOpen},
	{name: "hard-link", fn: chkHardLink},
	{name: "symlink-readlink", fn: chkSymlink},
	{name: "chmod", fn: chkChmod},
	{name: "chmod-setid", fn: chkChmodSetid},
	{name: "chown", fn: chkChown},
	{name: "utimensat", fn: chkUtimensat},
	{name: "mknod-fifo", fn: chkMknodFifo},
	{name: "statfs", fn: chkStatfs},
	{name: "fsync", fn: chkFsync},
	{name: "xattr", fn: chkXattr, noTmpfs: true},
	{name: "xattr-missing", fn: chkXattrMissing, noTmpfs: true},
	{name: "flock", fn: chkFlock},
	{name: "fcntl-setlk", fn: chkFcntlSetlk},
	{name: "fcntl-setlkw", fn: chkFcntlSetlkw},
	{name: "fcntl-getlk-conflict", fn: chkGetlkConflict},
	{name: "fcntl-getlk-unlocked", fn: chkGetlkUnlocked},
	{name: "host-sees-writes", fn: chkHostSeesWrites},
	{name: "guest-sees-host-writes", fn: chkGuestSeesHost},
	{name: "readdir-10000", fn: chkReaddir10000},
	{name: "large-file-64MiB", fn: func(e *env) { bigFile(e, 64<<20) }},
	{name: "concurrent-io", fn: chkConcurrent},
	{name: "remount", fn: chkRemount, noTmpfs: true},
}

// remoteChecks run through the namespace, on the serving node's own files
// (direct access) and on another node's (the proxy): everything of part 1
// but the slow bulk checks and the remount.
var remoteChecks = func() []check {
	var cs []check
	for _, c := range exportChecks {
		switch c.name {
		case "readdir-10000", "large-file-64MiB", "remount":
			continue
		}
		cs = append(cs, c)
	}
	return append(cs, check{name: "large-file-16MiB", fn: func(e *env) { bigFile(e, 16<<20) }})
}()

// smokeChecks run on every transport/msize/access combination (part 3).
var smokeChecks = []check{
	{name: "create-write-read", fn: chkCreateWriteRead},
	{name: "mkdir-rmdir", fn: chkMkdirRmdir},
	{name: "rename-file-over-file", fn: chkRenameFileOverFile},
	{name: "readdir-small", fn: chkReaddirSmall},
	{name: "readdir-1000", fn: func(e *env) { bigDir(e, 1000) }},
	{name: "large-file-16MiB", fn: func(e *env) { bigFile(e, 16<<20) }},
	{name: "flock", fn: chkFlock},
	{name: "xattr", fn: chkXattr, noTmpfs: true},
}

// mmapChecks need cache=mmap: with cache=none v9fs refuses shared writable
// mappings.
var mmapChecks = []check{
	{name: "mmap-read", fn: chkMmapRead},
	{name: "mmap-write", fn: chkMmapWrite},
}

func chkCreateWriteRead(e *env) {
	f := e.p("f")
	fd, err := unix.Open(f, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o640)
	ok(err, "create f")
	writeAll(fd, []byte("hello, mfs"), "f")
	ok(unix.Close(fd), "close f")
	st := lstat(f)
	eq(st.Mode, unix.S_IFREG|0o640, "mode of f")
	eq(st.Size, int64(10), "size of f")
	eq(st.Nlink, uint64(1), "nlink of f")
	eq(st.Uid, uint32(os.Geteuid()), "uid of f (created by uid %d)", os.Geteuid())
	wantContent(f, "hello, mfs")
	_, err = unix.Open(f, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o640)
	wantErr(err, unix.EEXIST, "O_CREAT|O_EXCL on existing f")
	wantHostContent(e, "f", "hello, mfs")
	hs, err := e.host.Stat(e.h("f"))
	ok(err, "host stat f")
	eq(hs.Mode, uint32(unix.S_IFREG|0o640), "host mode of f")
	// O_TRUNC empties it.
	fd, err = unix.Open(f, unix.O_WRONLY|unix.O_TRUNC, 0)
	ok(err, "open f O_TRUNC")
	unix.Close(fd)
	eq(lstat(f).Size, int64(0), "size after O_TRUNC")
}

func chkAppend(e *env) {
	f := e.p("a")
	writeFile(f, []byte("one\n"), 0o644)
	fd, err := unix.Open(f, unix.O_WRONLY|unix.O_APPEND, 0)
	ok(err, "open O_APPEND")
	// pwrite on an O_APPEND fd appends on Linux, whatever the offset.
	writeAll(fd, []byte("two\n"), "append two")
	_, err = unix.Pwrite(fd, []byte("three\n"), 0)
	ok(err, "pwrite O_APPEND")
	unix.Close(fd)
	wantContent(f, "one\ntwo\nthree\n")
	wantHostContent(e, "a", "one\ntwo\nthree\n")
}

func chkTruncate(e *env) {
	f := e.p("t")
	writeFile(f, []byte("abcdef"), 0o644)
	ok(unix.Truncate(f, 3), "truncate to 3")
	wantContent(f, "abc")
	fd, err := unix.Open(f, unix.O_RDWR, 0)
	ok(err, "open")
	ok(unix.Ftruncate(fd, 6), "ftruncate to 6")
	unix.Close(fd)
	wantContent(f, "abc\x00\x00\x00")
	eq(lstat(f).Size, int64(6), "size after growing")
	wantHostContent(e, "t", "abc\x00\x00\x00")
	wantErr(unix.Truncate(f, -1), unix.EINVAL, "truncate to -1")
	wantErr(unix.Truncate(e.dir, 0), unix.EISDIR, "truncate a directory")
}

func chkPreadPwrite(e *env) {
	f := e.p("p")
	fd, err := unix.Open(f, unix.O_CREAT|unix.O_RDWR, 0o644)
	ok(err, "create")
	defer unix.Close(fd)
	_, err = unix.Pwrite(fd, []byte("XY"), 1<<20)
	ok(err, "pwrite at 1 MiB")
	eq(lstat(f).Size, int64(1<<20+2), "size after pwrite past the end")
	buf := make([]byte, 4)
	n, err := unix.Pread(fd, buf, 1<<20-2)
	ok(err, "pread")
	eq(string(buf[:n]), "\x00\x00XY", "pread across the hole")
	n, err = unix.Pread(fd, buf, 1<<21)
	ok(err, "pread past EOF")
	eq(n, 0, "bytes read past EOF")
	off, err := unix.Seek(fd, 0, unix.SEEK_END)
	ok(err, "lseek SEEK_END")
	eq(off, int64(1<<20+2), "SEEK_END offset")
}

func chkMkdirRmdir(e *env) {
	d := e.p("d")
	ok(unix.Mkdir(d, 0o750), "mkdir d")
	st := lstat(d)
	eq(st.Mode, unix.S_IFDIR|0o750, "mode of d")
	wantErr(unix.Mkdir(d, 0o755), unix.EEXIST, "mkdir d again")
	writeFile(d+"/f", []byte("x"), 0o644)
	wantErr(unix.Rmdir(d), unix.ENOTEMPTY, "rmdir non-empty d")
	wantErr(unix.Rmdir(d+"/f"), unix.ENOTDIR, "rmdir a file")
	wantErr(unix.Unlink(d), unix.EISDIR, "unlink a directory")
	ok(unix.Unlink(d+"/f"), "unlink d/f")
	ok(unix.Rmdir(d), "rmdir d")
	var st2 unix.Stat_t
	wantErr(unix.Lstat(d, &st2), unix.ENOENT, "lstat removed d")
	wantErr(unix.Rmdir(d), unix.ENOENT, "rmdir d again")
	ok(unix.Mkdir(d, 0o755), "mkdir d after rmdir")
	ok(unix.Mkdir(d+"/sub", 0o755), "mkdir d/sub")
	eq(lstat(d).Nlink, uint64(3), "nlink of a dir with one subdir")
}

func chkErrnos(e *env) {
	_, err := unix.Open(e.p("nope"), unix.O_RDONLY, 0)
	wantErr(err, unix.ENOENT, "open missing file")
	_, err = unix.Open(e.p("nodir/f"), unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErr(err, unix.ENOENT, "create in a missing dir")
	writeFile(e.p("file"), []byte("x"), 0o644)
	_, err = unix.Open(e.p("file/f"), unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErr(err, unix.ENOTDIR, "create below a file")
	_, err = unix.Open(e.dir, unix.O_WRONLY, 0)
	wantErr(err, unix.EISDIR, "open a directory for writing")
	_, err = unix.Open(e.p("file"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	wantErr(err, unix.ENOTDIR, "O_DIRECTORY on a file")
	wantErr(unix.Unlink(e.p("nope")), unix.ENOENT, "unlink missing")
	long := strings.Repeat("n", 256)
	_, err = unix.Open(e.p(long), unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErr(err, unix.ENAMETOOLONG, "create a 256-byte name")
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir d")
	wantErr(unix.Rmdir(e.p("d/.")), unix.EINVAL, "rmdir d/.")
	fd, err := unix.Open(e.p("file"), unix.O_RDONLY, 0)
	ok(err, "open file read-only")
	_, err = unix.Write(fd, []byte("x"))
	wantErr(err, unix.EBADF, "write to a read-only fd")
	unix.Close(fd)
}

func chkReaddirSmall(e *env) {
	for _, n := range []string{"b", "a", "c"} {
		writeFile(e.p(n), []byte(n), 0o644)
	}
	ok(unix.Mkdir(e.p("sub"), 0o755), "mkdir sub")
	eq(joinSorted(readdirNames(e.dir)), ". .. a b c sub", "entries")
	eq(joinSorted(readdirNames(e.p("sub"))), ". ..", "entries of an empty dir")
	// Types from readdir, as ls -l and find rely on them.
	ents, err := os.ReadDir(e.dir)
	ok(err, "ReadDir")
	for _, d := range ents {
		want := os.FileMode(0)
		if d.Name() == "sub" {
			want = os.ModeDir
		}
		eq(d.Type(), want, "d_type of %s", d.Name())
	}
}

func chkRenameFileOverFile(e *env) {
	a, b := e.p("a"), e.p("b")
	writeFile(a, []byte("AAA"), 0o644)
	writeFile(b, []byte("B"), 0o644)
	ino := lstat(a).Ino
	ok(unix.Rename(a, b), "rename a over b")
	wantContent(b, "AAA")
	var st unix.Stat_t
	wantErr(unix.Lstat(a, &st), unix.ENOENT, "lstat a after rename")
	eq(lstat(b).Ino, ino, "inode number of b (was a's)")
	wantHostContent(e, "b", "AAA")
	_, err := e.host.Stat(e.h("a"))
	wantErr(err, unix.ENOENT, "host stat a after rename")
	// Renaming a file onto itself is a no-op.
	ok(unix.Rename(b, b), "rename b onto itself")
	wantContent(b, "AAA")
}

func chkRenameDirOverDir(e *env) {
	ok(unix.Mkdir(e.p("d1"), 0o755), "mkdir d1")
	writeFile(e.p("d1/f"), []byte("in d1"), 0o644)
	ok(unix.Mkdir(e.p("d2"), 0o755), "mkdir d2")
	ok(unix.Rename(e.p("d1"), e.p("d2")), "rename d1 over empty d2")
	wantContent(e.p("d2/f"), "in d1")
	ok(unix.Mkdir(e.p("d3"), 0o755), "mkdir d3")
	writeFile(e.p("d3/g"), []byte("g"), 0o644)
	// Linux answers ENOTEMPTY (POSIX allows EEXIST); tmpfs and ext4 say ENOTEMPTY.
	wantErr(unix.Rename(e.p("d2"), e.p("d3")), unix.ENOTEMPTY, "rename dir over non-empty dir")
	writeFile(e.p("file"), []byte("x"), 0o644)
	wantErr(unix.Rename(e.p("d2"), e.p("file")), unix.ENOTDIR, "rename dir over file")
	wantErr(unix.Rename(e.p("file"), e.p("d3")), unix.EISDIR, "rename file over dir")
	wantErr(unix.Rename(e.p("d2"), e.p("d2/f/x")), unix.ENOTDIR, "rename dir below a file")
	wantErr(unix.Rename(e.p("d3"), e.p("d3/sub")), unix.EINVAL, "rename dir into itself")
}

func chkRenameAcrossDirs(e *env) {
	ok(unix.Mkdir(e.p("x"), 0o755), "mkdir x")
	ok(unix.Mkdir(e.p("y"), 0o755), "mkdir y")
	writeFile(e.p("x/f"), []byte("moved"), 0o644)
	ok(unix.Rename(e.p("x/f"), e.p("y/g")), "rename x/f to y/g")
	eq(joinSorted(readdirNames(e.p("x"))), ". ..", "x after the move")
	eq(joinSorted(readdirNames(e.p("y"))), ". .. g", "y after the move")
	wantContent(e.p("y/g"), "moved")
	wantHostContent(e, "y/g", "moved")
	// A directory with contents moves too, and its files follow.
	ok(unix.Mkdir(e.p("x/dd"), 0o755), "mkdir x/dd")
	writeFile(e.p("x/dd/h"), []byte("h"), 0o644)
	ok(unix.Rename(e.p("x/dd"), e.p("y/dd")), "rename x/dd to y/dd")
	wantContent(e.p("y/dd/h"), "h")
	wantHostContent(e, "y/dd/h", "h")
}

// chkRenameOpenDir: a file open below a directory stays usable when the
// directory is renamed (a weak spot of path-based servers such as diod).
func chkRenameOpenDir(e *env) {
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir d")
	writeFile(e.p("d/f"), []byte("12345"), 0o644)
	fd, err := unix.Open(e.p("d/f"), unix.O_RDWR, 0)
	ok(err, "open d/f")
	defer unix.Close(fd)
	ok(unix.Rename(e.p("d"), e.p("e")), "rename d to e")
	_, err = unix.Pwrite(fd, []byte("ab"), 0)
	ok(err, "write through the fd opened before the rename")
	var st unix.Stat_t
	ok(unix.Fstat(fd, &st), "fstat after the rename")
	eq(st.Size, int64(5), "size by fstat")
	wantContent(e.p("e/f"), "ab345")
	wantHostContent(e, "e/f", "ab345")
	ok(unix.Mkdir(e.p("e/new"), 0o755), "mkdir e/new after the rename")
}

// chkUnlinkOpenFile: an open file outlives its name (QEMU's 9p and diod
// get this wrong).
func chkUnlinkOpen(e *env) {
	f := e.p("u")
	writeFile(f, []byte("still here"), 0o644)
	fd, err := unix.Open(f, unix.O_RDWR, 0)
	ok(err, "open")
	defer unix.Close(fd)
	ok(unix.Unlink(f), "unlink while open")
	var st unix.Stat_t
	wantErr(unix.Lstat(f, &st), unix.ENOENT, "lstat after unlink")
	buf := make([]byte, 32)
	n, err := unix.Pread(fd, buf, 0)
	ok(err, "read the unlinked file")
	eq(string(buf[:n]), "still here", "content of the unlinked file")
	_, err = unix.Pwrite(fd, []byte("STILL"), 0)
	ok(err, "write the unlinked file")
	ok(unix.Fstat(fd, &st), "fstat the unlinked file")
	eq(st.Nlink, uint64(0), "nlink of the unlinked file")
	eq(st.Size, int64(10), "size of the unlinked file")
	_, err = e.host.Stat(e.h("u"))
	wantErr(err, unix.ENOENT, "host stat after unlink")
}

func chkHardLink(e *env) {
	a, b := e.p("a"), e.p("b")
	writeFile(a, []byte("linked"), 0o644)
	ok(unix.Link(a, b), "link a b")
	sa, sb := lstat(a), lstat(b)
	eq(sa.Nlink, uint64(2), "nlink of a")
	eq(sb.Nlink, uint64(2), "nlink of b")
	eq(sb.Ino, sa.Ino, "inode number of b")
	writeFile(b, []byte("through b"), 0o644)
	wantContent(a, "through b")
	ok(unix.Unlink(a), "unlink a")
	eq(lstat(b).Nlink, uint64(1), "nlink of b after unlinking a")
	hs, err := e.host.Stat(e.h("b"))
	ok(err, "host stat b")
	eq(hs.Nlink, uint64(1), "host nlink of b")
	wantErr(unix.Link(b, b), unix.EEXIST, "link onto an existing name")
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir d")
	wantErr(unix.Link(e.p("d"), e.p("d2")), unix.EPERM, "hard link to a directory")
}

func chkSymlink(e *env) {
	writeFile(e.p("target"), []byte("via link"), 0o644)
	ok(unix.Symlink("target", e.p("l")), "symlink")
	buf := make([]byte, 256)
	n, err := unix.Readlink(e.p("l"), buf)
	ok(err, "readlink")
	eq(string(buf[:n]), "target", "readlink")
	st := lstat(e.p("l"))
	eq(st.Mode&unix.S_IFMT, uint32(unix.S_IFLNK), "lstat type")
	eq(st.Size, int64(len("target")), "lstat size of a symlink")
	wantContent(e.p("l"), "via link")
	ok(unix.Symlink("../../no/such/place", e.p("dangling")), "dangling symlink")
	n, err = unix.Readlink(e.p("dangling"), buf)
	ok(err, "readlink dangling")
	eq(string(buf[:n]), "../../no/such/place", "readlink dangling")
	_, err = unix.Open(e.p("dangling"), unix.O_RDONLY, 0)
	wantErr(err, unix.ENOENT, "open a dangling symlink")
	wantErr(unix.Symlink("x", e.p("l")), unix.EEXIST, "symlink over an existing name")
	_, err = unix.Readlink(e.p("target"), buf)
	wantErr(err, unix.EINVAL, "readlink a regular file")
	_, err = unix.Open(e.p("l"), unix.O_RDONLY|unix.O_NOFOLLOW, 0)
	wantErr(err, unix.ELOOP, "O_NOFOLLOW on a symlink")
}

func chkChmod(e *env) {
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	for _, m := range []uint32{0o600, 0o741, 0o1777, 0} {
		ok(unix.Chmod(f, m), "chmod %o", m)
		eq(lstat(f).Mode, unix.S_IFREG|m, "mode after chmod %o", m)
	}
	if os.Geteuid() != 0 {
		_, err := unix.Open(f, unix.O_RDONLY, 0)
		wantErr(err, unix.EACCES, "open a mode 0 file as its owner, not root")
		ok(unix.Chmod(f, 0o400), "chmod 400")
	}
	fd, err := unix.Open(f, unix.O_RDONLY, 0)
	ok(err, "open (root ignores mode 0)")
	ok(unix.Fchmod(fd, 0o640), "fchmod 640")
	unix.Close(fd)
	eq(lstat(f).Mode, uint32(unix.S_IFREG|0o640), "mode after fchmod")
	hs, err := e.host.Stat(e.h("f"))
	ok(err, "host stat")
	eq(hs.Mode, uint32(unix.S_IFREG|0o640), "host mode")
	ok(unix.Mkdir(e.p("d"), 0o700), "mkdir")
	ok(unix.Chmod(e.p("d"), 0o755), "chmod dir")
	eq(lstat(e.p("d")).Mode, uint32(unix.S_IFDIR|0o755), "dir mode")
}

// chkChmodSetid: the setuid and setgid bits survive chmod by root.
func chkChmodSetid(e *env) {
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	for _, m := range []uint32{0o4755, 0o2711, 0o6750} {
		ok(unix.Chmod(f, m), "chmod %o", m)
		eq(lstat(f).Mode, unix.S_IFREG|m, "mode after chmod %o", m)
	}
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir")
	ok(unix.Chmod(e.p("d"), 0o2775), "chmod 2775 dir")
	eq(lstat(e.p("d")).Mode, uint32(unix.S_IFDIR|0o2775), "dir mode after chmod 2775")
}

func chkChown(e *env) {
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	if os.Geteuid() != 0 {
		wantErr(unix.Chown(f, 1000, 2000), unix.EPERM, "chown 1000:2000 as uid %d", os.Geteuid())
		needRoot("chown to another owner (EPERM, checked)")
	}
	ok(unix.Chown(f, 1000, 2000), "chown 1000:2000")
	st := lstat(f)
	eq(st.Uid, uint32(1000), "uid")
	eq(st.Gid, uint32(2000), "gid")
	ok(unix.Chown(f, -1, 3000), "chown -1:3000")
	st = lstat(f)
	eq(st.Uid, uint32(1000), "uid kept by chown -1")
	eq(st.Gid, uint32(3000), "gid")
	hs, err := e.host.Stat(e.h("f"))
	ok(err, "host stat")
	eq(hs.UID, uint32(1000), "host uid")
	eq(hs.GID, uint32(3000), "host gid")
	ok(unix.Symlink("f", e.p("l")), "symlink")
	ok(unix.Lchown(e.p("l"), 1001, 1001), "lchown the symlink")
	eq(lstat(e.p("l")).Uid, uint32(1001), "uid of the symlink")
	eq(lstat(f).Uid, uint32(1000), "uid of the target after lchown")
}

func chkUtimensat(e *env) {
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	ts := []unix.Timespec{{Sec: 1000000000, Nsec: 123456789}, {Sec: 1200000000, Nsec: 987654321}}
	ok(unix.UtimesNanoAt(unix.AT_FDCWD, f, ts, 0), "utimensat")
	// v9fs leaves s_time_gran at 1 s, so the kernel truncates the times
	// to whole seconds before it sends Tsetattr.
	want := ts
	if e.fs == fs9P {
		want = []unix.Timespec{{Sec: ts[0].Sec}, {Sec: ts[1].Sec}}
	}
	st := lstat(f)
	eq(st.Atim, want[0], "atime")
	eq(st.Mtim, want[1], "mtime")
	// UTIME_OMIT keeps atime; mtime changes alone.
	ts2 := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Sec: 1300000000}}
	ok(unix.UtimesNanoAt(unix.AT_FDCWD, f, ts2, 0), "utimensat UTIME_OMIT")
	st = lstat(f)
	eq(st.Atim, want[0], "atime after UTIME_OMIT")
	eq(st.Mtim, ts2[1], "mtime")
	ok(unix.Symlink("f", e.p("l")), "symlink")
	ok(unix.UtimesNanoAt(unix.AT_FDCWD, e.p("l"), ts, unix.AT_SYMLINK_NOFOLLOW), "utimensat AT_SYMLINK_NOFOLLOW")
	eq(lstat(e.p("l")).Mtim, want[1], "mtime of the symlink")
	eq(lstat(f).Mtim, ts2[1], "mtime of the target after changing the link's")
	// A write moves mtime past the old value.
	writeFile(f, []byte("y"), 0o644)
	if st := lstat(f); st.Mtim.Sec <= ts2[1].Sec {
		fail("mtime after a write: %v, not after %v", st.Mtim, ts2[1])
	}
}

func chkMknodFifo(e *env) {
	f := e.p("fifo")
	ok(unix.Mkfifo(f, 0o620), "mkfifo")
	st := lstat(f)
	eq(st.Mode, uint32(unix.S_IFIFO|0o620), "mode of the fifo")
	// The fifo works (v9fs makes it a local pipe on the client).
	fd, err := unix.Open(f, unix.O_RDWR|unix.O_NONBLOCK, 0)
	ok(err, "open the fifo")
	defer unix.Close(fd)
	writeAll(fd, []byte("through"), "fifo")
	buf := make([]byte, 16)
	n, err := unix.Read(fd, buf)
	ok(err, "read the fifo")
	eq(string(buf[:n]), "through", "read from the fifo")
	hs, err := e.host.Stat(e.h("fifo"))
	ok(err, "host stat fifo")
	eq(hs.Mode&unix.S_IFMT, uint32(unix.S_IFIFO), "host type of fifo")
	wantErr(unix.Mkfifo(f, 0o600), unix.EEXIST, "mkfifo again")
}

func chkStatfs(e *env) {
	var s unix.Statfs_t
	ok(unix.Statfs(e.dir, &s), "statfs")
	if e.fs == fsTmpfs {
		eq(s.Type, int64(0x01021994), "f_type (TMPFS_MAGIC)")
	}
	if s.Bsize <= 0 || s.Blocks == 0 || s.Bfree > s.Blocks || s.Bavail > s.Bfree {
		fail("implausible statfs: bsize %d blocks %d bfree %d bavail %d", s.Bsize, s.Blocks, s.Bfree, s.Bavail)
	}
	if e.fs == fsTmpfs {
		return
	}
	if e.fs == fsFUSE {
		// The numbers are those of the owning node's disk, where the
		// host view is; f_type is FUSE's own.
		eq(s.Type, int64(0x65735546), "f_type (FUSE_SUPER_MAGIC)")
		var hs unix.Statfs_t
		ok(unix.Statfs(e.host.(localView).path(e.rel), &hs), "host statfs")
		eq(fmt.Sprintf("%d %d %d", s.Bsize, s.Blocks, s.Files), fmt.Sprintf("%d %d %d", hs.Bsize, hs.Blocks, hs.Files), "bsize blocks files (mount) vs host")
		out, err := exec.Command("df", e.dir).CombinedOutput()
		ok(err, "df: %s", out)
		return
	}
	// The numbers are the host file system's. v9fs reports the server's
	// f_type as it is: V9FS_MAGIC (diod) or the host's own (QEMU) are
	// both seen in the wild.
	f, err := e.host.(*oracle).do("STATFS", e.rel)
	ok(err, "host statfs")
	if len(f) != 4 {
		fail("oracle: bad STATFS reply %q", f)
	}
	if t := strconv.FormatInt(s.Type, 10); t != f[0] && s.Type != 0x01021997 {
		fail("f_type %#x: neither V9FS_MAGIC nor the host's %s", s.Type, f[0])
	}
	eq(strings.Join(f[1:], " "), fmt.Sprintf("%d %d %d", s.Bsize, s.Blocks, s.Files), "bsize blocks files (guest) vs host")
	out, err := exec.Command("df", e.dir).CombinedOutput()
	ok(err, "df: %s", out)
}

func chkFsync(e *env) {
	f := e.p("f")
	fd, err := unix.Open(f, unix.O_CREAT|unix.O_WRONLY, 0o644)
	ok(err, "create")
	writeAll(fd, []byte("synced"), "f")
	ok(unix.Fsync(fd), "fsync")
	ok(unix.Fdatasync(fd), "fdatasync")
	unix.Close(fd)
	dfd, err := unix.Open(e.dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	ok(err, "open dir")
	ok(unix.Fsync(dfd), "fsync a directory")
	unix.Close(dfd)
	sfd := mustOpen(f)
	ok(unix.Syncfs(sfd), "syncfs")
	unix.Close(sfd)
	wantHostContent(e, "f", "synced")
}

func mustOpen(path string) int {
	fd, err := unix.Open(path, unix.O_RDONLY, 0)
	ok(err, "open %s", path)
	return fd
}

func chkXattr(e *env) {
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	ok(unix.Setxattr(f, "user.mfs", []byte("v1"), unix.XATTR_CREATE), "setxattr user.mfs XATTR_CREATE")
	wantErr(unix.Setxattr(f, "user.mfs", []byte("v2"), unix.XATTR_CREATE), unix.EEXIST, "setxattr XATTR_CREATE on an existing name")
	wantErr(unix.Setxattr(f, "user.none", []byte("v"), unix.XATTR_REPLACE), unix.ENODATA, "setxattr XATTR_REPLACE on a missing name")
	n, err := unix.Getxattr(f, "user.mfs", nil)
	ok(err, "getxattr size probe")
	eq(n, 2, "size probe of user.mfs")
	buf := make([]byte, 64)
	n, err = unix.Getxattr(f, "user.mfs", buf)
	ok(err, "getxattr user.mfs")
	eq(string(buf[:n]), "v1", "value of user.mfs")
	_, err = unix.Getxattr(f, "user.mfs", make([]byte, 1))
	wantErr(err, unix.ERANGE, "getxattr into a too small buffer")
	ok(unix.Setxattr(f, "user.mfs", []byte("value two"), unix.XATTR_REPLACE), "setxattr XATTR_REPLACE")
	// (No empty value: v9fs sends Txattrcreate with size 0, which 9P
	// servers take as a removal, as QEMU's does.)
	ok(unix.Setxattr(f, "user.other", []byte("o"), 0), "setxattr user.other")
	n, err = unix.Getxattr(f, "user.mfs", buf)
	ok(err, "getxattr after replace")
	eq(string(buf[:n]), "value two", "value after replace")
	n, err = unix.Listxattr(f, buf)
	ok(err, "listxattr")
	var names []string
	for _, s := range strings.Split(string(buf[:n]), "\x00") {
		if strings.HasPrefix(s, "user.") {
			names = append(names, s)
		}
	}
	eq(joinSorted(names), "user.mfs user.other", "listxattr (user.*)")
	hv, err := e.host.Getxattr(e.h("f"), "user.mfs")
	ok(err, "host getxattr")
	eq(string(hv), "value two", "host's user.mfs")
	ok(unix.Removexattr(f, "user.mfs"), "removexattr")
	n, err = unix.Listxattr(f, buf)
	ok(err, "listxattr after removexattr")
	if strings.Contains(string(buf[:n]), "user.mfs\x00") {
		fail("listxattr still has user.mfs after removexattr")
	}
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir")
	ok(unix.Setxattr(e.p("d"), "user.dir", []byte("on a dir"), 0), "setxattr on a directory")
	n, err = unix.Getxattr(e.p("d"), "user.dir", buf)
	ok(err, "getxattr on a directory")
	eq(string(buf[:n]), "on a dir", "dir xattr")
}

// chkXattrMissing: asking for an attribute that is not there is ENODATA,
// before and after a removal.
func chkXattrMissing(e *env) {
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	buf := make([]byte, 64)
	_, err := unix.Getxattr(f, "user.missing", buf)
	wantErr(err, unix.ENODATA, "getxattr a missing name")
	ok(unix.Setxattr(f, "user.gone", []byte("v"), 0), "setxattr")
	ok(unix.Removexattr(f, "user.gone"), "removexattr")
	_, err = unix.Getxattr(f, "user.gone", buf)
	wantErr(err, unix.ENODATA, "getxattr after removexattr")
	wantErr(unix.Removexattr(f, "user.gone"), unix.ENODATA, "removexattr again")
}

func chkHostSeesWrites(e *env) {
	f := e.p("w")
	fd, err := unix.Open(f, unix.O_CREAT|unix.O_WRONLY, 0o644)
	ok(err, "create")
	defer unix.Close(fd)
	// Without close or fsync: cache=none writes reach the server at once.
	writeAll(fd, []byte("first"), "w")
	wantHostContent(e, "w", "first")
	_, err = unix.Pwrite(fd, []byte("FI"), 0)
	ok(err, "pwrite")
	wantHostContent(e, "w", "FIrst")
}

func chkGuestSeesHost(e *env) {
	ok(e.host.WriteFile(e.h("hw"), []byte("from the host")), "host write")
	wantContent(e.p("hw"), "from the host")
	ok(e.host.WriteFile(e.h("hw"), []byte("changed")), "host rewrite")
	wantContent(e.p("hw"), "changed")
	eq(lstat(e.p("hw")).Size, int64(7), "size after the host's change")
	names := readdirNames(e.dir)
	eq(joinSorted(names), ". .. hw", "entries after the host created hw")
}

func chkReaddir10000(e *env) { bigDir(e, 10000) }

// bigDir has the host create n files (creating them through v9fs costs
// several round trips each, minutes under an emulated CPU) and lists them
// with getdents and with busybox ls: every name exactly once.
func bigDir(e *env, n int) {
	d := e.p("many")
	ok(unix.Mkdir(d, 0o755), "mkdir")
	ok(e.host.MakeFiles(e.h("many"), n), "host creates %d files", n)
	start := time.Now()
	names := readdirNames(d)
	fmt.Printf("# getdents of %d entries took %v\n", n, time.Since(start).Round(time.Millisecond))
	seen := map[string]int{}
	for _, nm := range names {
		seen[nm]++
	}
	for nm, c := range seen {
		if c != 1 {
			fail("readdir returned %s %d times", nm, c)
		}
	}
	eq(len(names), n+2, "readdir entries including . and ..")
	for i := 0; i < n; i++ {
		if seen[fmt.Sprintf("file-%05d", i)] != 1 {
			fail("readdir lacks file-%05d", i)
		}
	}
	// busybox ls stats every entry (three round trips each under
	// cache=none: 30 s for 10,000 under an emulated CPU), so the large
	// directory is counted by the shell's glob (getdents only) and the
	// smaller ones with ls | wc -l.
	lsCmd, want := "set -o pipefail; ls "+d+" | wc -l", n
	if n > 1000 {
		lsCmd = "set -- " + d + "/*; echo $#"
	}
	start = time.Now()
	out, err := exec.Command("sh", "-c", lsCmd).Output()
	fmt.Printf("# %s took %v\n", lsCmd, time.Since(start).Round(time.Millisecond))
	ok(err, "%s", lsCmd)
	eq(strings.TrimSpace(string(out)), strconv.Itoa(want), "%s", lsCmd)
}

// bigFile writes size bytes of pattern in 1 MiB writes, reads them back and
// compares, asks the host to verify its copy, and reads at odd offsets and
// lengths across message boundaries.
func bigFile(e *env, size int64) {
	f := e.p("big")
	fd, err := unix.Open(f, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, 0o644)
	ok(err, "create")
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		pattern.Fill(buf, off)
		writeAll(fd, buf, "big")
	}
	ok(unix.Close(fd), "close")
	eq(lstat(f).Size, size, "size")
	rfd, err := unix.Open(f, unix.O_RDONLY, 0)
	ok(err, "open")
	defer unix.Close(rfd)
	got := make([]byte, len(buf))
	for off := int64(0); off < size; off += int64(len(buf)) {
		n, err := unix.Pread(rfd, got, off)
		ok(err, "pread at %d", off)
		pattern.Fill(buf, off)
		if n != len(buf) || !bytes.Equal(got[:n], buf) {
			fail("read back at %d: %d bytes, content differs: %v", off, n, !bytes.Equal(got[:n], buf[:n]))
		}
	}
	ok(e.host.CheckPattern(e.h("big"), size), "host's copy")
	for _, off := range []int64{1, 4095, 1<<20 - 3, size - 100} {
		n, err := unix.Pread(rfd, got[:300000], off)
		ok(err, "pread at %d", off)
		base := off &^ (pattern.Chunk - 1)
		exp := make([]byte, 300000+pattern.Chunk)
		pattern.Fill(exp, base)
		wantN := min(int64(300000), size-off)
		eq(int64(n), wantN, "pread length at %d", off)
		if !bytes.Equal(got[:n], exp[off-base:off-base+int64(n)]) {
			fail("pread at %d returned wrong bytes", off)
		}
	}
}

// chkConcurrent runs eight writers/readers and a lister at once, so that
// the kernel has several requests (tags) in flight on the one connection.
func chkConcurrent(e *env) {
	const workers, size = 8, 4 << 20
	errs := make(chan error, workers+1)
	for w := 0; w < workers; w++ {
		go func(w int) {
			errs <- func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("worker %d: %v", w, r)
					}
				}()
				f := e.p(fmt.Sprintf("c%d", w))
				buf := make([]byte, 256<<10)
				fd, err := unix.Open(f, unix.O_CREAT|unix.O_RDWR|unix.O_TRUNC, 0o644)
				ok(err, "create %s", f)
				defer unix.Close(fd)
				for off := int64(0); off < size; off += int64(len(buf)) {
					pattern.Fill(buf, off+int64(w)<<32)
					_, err := unix.Pwrite(fd, buf, off)
					ok(err, "pwrite %s at %d", f, off)
				}
				got := make([]byte, len(buf))
				for off := int64(0); off < size; off += int64(len(buf)) {
					n, err := unix.Pread(fd, got, off)
					ok(err, "pread %s at %d", f, off)
					pattern.Fill(buf, off+int64(w)<<32)
					if n != len(buf) || !bytes.Equal(got, buf) {
						fail("%s at %d: read back differs (%d bytes)", f, off, n)
					}
				}
				return nil
			}()
		}(w)
	}
	go func() {
		errs <- func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("lister: %v", r)
				}
			}()
			for i := 0; i < 50; i++ {
				readdirNames(e.dir)
			}
			return nil
		}()
	}()
	var first error
	for i := 0; i < workers+1; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		fail("%v", first)
	}
}

func sortStrings(s []string) { sort.Strings(s) }
