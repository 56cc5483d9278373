//go:build linux

package main

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// legacyChecks run on mounts with version=9p2000.u and version=9p2000:
// what a user of either dialect does every day, each expectation the one
// tmpfs gives (the baseline runs the same code), except where the dialect
// cannot say it. There the check says so: symlinks and setuid bits do not
// exist in 9P2000 (the kernel refuses them before anything is sent), and
// a 9P2000 stat has owners only as names, so v9fs shows every file as the
// mount's dfltuid. Those parts are skipped with a reason in the TAP line.
// Through 9P2000 and 9P2000.u the kernel sends no Tlcreate, Trenameat or
// Tunlinkat: it creates with Tcreate, renames and chmods with Twstat
// (within one directory only) and removes with Tremove on a fid of the
// file itself, and errors come back as Rerror strings (in 9P2000 the
// kernel maps the words to errnos).
var legacyChecks = []check{
	{name: "create-write-read", fn: chkLegacyCreate},
	{name: "mkdir-readdir", fn: chkLegacyMkdir},
	{name: "rename", fn: chkLegacyRename},
	{name: "rename-dir-open-file", fn: chkLegacyRenameOpenDir},
	{name: "chmod", fn: chkLegacyChmod},
	{name: "chmod-setid", fn: chkLegacyChmodSetid},
	{name: "large-file-4MiB", fn: chkLegacyBig},
	{name: "rm-rmdir", fn: chkLegacyRemove},
	{name: "enoent", fn: chkLegacyENOENT},
	{name: "symlink-readlink", fn: chkLegacySymlink},
	{name: "link-fifo-device", fn: chkLegacySpecial},
	{name: "owner-host", fn: chkLegacyOwnerHost},
	{name: "owner-guest", fn: chkLegacyOwnerGuest},
}

// noPlan9 skips the rest of a check on a 9P2000 mount, for why.
func noPlan9(e *env, why string) {
	if e.dialect() == dialectPlan9 {
		skip("9P2000 %s", why)
	}
}

func chkLegacyCreate(e *env) {
	f := e.p("f")
	fd, err := unix.Open(f, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o640)
	ok(err, "create f")
	writeAll(fd, []byte("hello, old dialects"), "f")
	ok(unix.Close(fd), "close f")
	st := lstat(f)
	eq(st.Mode, unix.S_IFREG|0o640, "mode of f")
	eq(st.Size, int64(19), "size of f")
	wantContent(f, "hello, old dialects")
	_, err = unix.Open(f, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o640)
	wantErr(err, unix.EEXIST, "O_CREAT|O_EXCL on existing f")
	wantHostContent(e, "f", "hello, old dialects")
	hs, err := e.host.Stat(e.h("f"))
	ok(err, "host stat f")
	eq(hs.Mode, uint32(unix.S_IFREG|0o640), "host mode of f")
	eq(hs.Size, int64(19), "host size of f")
	// A write in the middle, read back through a second open file.
	fd, err = unix.Open(f, unix.O_RDWR, 0)
	ok(err, "open f read-write")
	_, err = unix.Pwrite(fd, []byte("HELLO"), 0)
	ok(err, "pwrite at 0")
	buf := make([]byte, 64)
	n, err := unix.Pread(fd, buf, 7)
	ok(err, "pread at 7")
	eq(string(buf[:n]), "old dialects", "pread at 7")
	ok(unix.Close(fd), "close")
	wantContent(f, "HELLO, old dialects")
	wantHostContent(e, "f", "HELLO, old dialects")
	// O_TRUNC empties it (Topen with OTRUNC).
	fd, err = unix.Open(f, unix.O_WRONLY|unix.O_TRUNC, 0)
	ok(err, "open f O_TRUNC")
	unix.Close(fd)
	eq(lstat(f).Size, int64(0), "size after O_TRUNC")
	wantHostContent(e, "f", "")
}

// chkLegacyMkdir: mkdir, and a directory read (Tread of Dir entries in
// these dialects) with the entries' types. Plan 9 servers list no "."
// and "..", and v9fs adds none in these dialects, so those two are left
// out of the comparison.
func chkLegacyMkdir(e *env) {
	d := e.p("d")
	ok(unix.Mkdir(d, 0o750), "mkdir d")
	eq(lstat(d).Mode, uint32(unix.S_IFDIR|0o750), "mode of d")
	hs, err := e.host.Stat(e.h("d"))
	ok(err, "host stat d")
	eq(hs.Mode, uint32(unix.S_IFDIR|0o750), "host mode of d")
	wantErr(unix.Mkdir(d, 0o755), unix.EEXIST, "mkdir d again")
	writeFile(d+"/f", []byte("in d"), 0o644)
	ok(unix.Mkdir(d+"/sub", 0o755), "mkdir d/sub")
	eq(joinSorted(withoutDots(readdirNames(d))), "f sub", "entries of d")
	eq(joinSorted(withoutDots(readdirNames(d+"/sub"))), "", "entries of the empty d/sub")
	ents := readDirTypes(d)
	eq(ents["f"], uint8(unix.DT_REG), "d_type of d/f")
	eq(ents["sub"], uint8(unix.DT_DIR), "d_type of d/sub")
	wantContent(d+"/f", "in d")
	wantHostContent(e, "d/f", "in d")
}

func withoutDots(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "." && n != ".." {
			out = append(out, n)
		}
	}
	return out
}

// readDirTypes is d_type by name, from getdents64.
func readDirTypes(path string) map[string]uint8 {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	ok(err, "open dir %s", path)
	defer unix.Close(fd)
	types := map[string]uint8{}
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		ok(err, "getdents %s", path)
		if n == 0 {
			return types
		}
		for b := buf[:n]; len(b) > 0; {
			reclen := int(b[16]) | int(b[17])<<8
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			types[string(name)] = b[18]
			b = b[reclen:]
		}
	}
}

// chkLegacyRename: renames within a directory (a Twstat of the name): to
// a new name, over an existing file (which goes, as rename(2) says), a
// directory with its contents; the file keeps its inode number.
func chkLegacyRename(e *env) {
	a, b, c := e.p("a"), e.p("b"), e.p("c")
	writeFile(a, []byte("AAA"), 0o644)
	ino := lstat(a).Ino
	ok(unix.Rename(a, b), "rename a to b")
	var st unix.Stat_t
	wantErr(unix.Lstat(a, &st), unix.ENOENT, "lstat a after the rename")
	wantContent(b, "AAA")
	eq(lstat(b).Ino, ino, "inode number of b (was a's)")
	wantHostContent(e, "b", "AAA")
	_, err := e.host.Stat(e.h("a"))
	wantErr(err, unix.ENOENT, "host stat a after the rename")
	writeFile(c, []byte("C"), 0o644)
	ok(unix.Rename(b, c), "rename b over c")
	wantContent(c, "AAA")
	wantErr(unix.Lstat(b, &st), unix.ENOENT, "lstat b after the rename over c")
	wantHostContent(e, "c", "AAA")
	eq(joinSorted(withoutDots(readdirNames(e.dir))), "c", "entries after the renames")
	ok(unix.Mkdir(e.p("d1"), 0o755), "mkdir d1")
	writeFile(e.p("d1/f"), []byte("in d1"), 0o644)
	ok(unix.Rename(e.p("d1"), e.p("d2")), "rename d1 to d2")
	wantContent(e.p("d2/f"), "in d1")
	wantHostContent(e, "d2/f", "in d1")
	_, err = e.host.Stat(e.h("d1"))
	wantErr(err, unix.ENOENT, "host stat d1 after the rename")
}

// chkLegacyRenameOpenDir: a file stays itself after its directory is
// renamed while the file is open, and a new file where it used to be is
// another file: renaming and removing the open one (through the fid
// v9fs holds for it since before the directory's rename) must not touch
// the new one. A server that names files by path must follow the rename.
func chkLegacyRenameOpenDir(e *env) {
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir d")
	writeFile(e.p("d/f"), []byte("first"), 0o644)
	fd, err := unix.Open(e.p("d/f"), unix.O_RDWR, 0)
	ok(err, "open d/f")
	defer unix.Close(fd)
	ok(unix.Rename(e.p("d"), e.p("e")), "rename d to e")
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir a new d")
	writeFile(e.p("d/f"), []byte("second"), 0o644)
	_, err = unix.Pwrite(fd, []byte("FIRST"), 0)
	ok(err, "write through the fd opened before the rename")
	wantContent(e.p("e/f"), "FIRST")
	ok(unix.Rename(e.p("e/f"), e.p("e/g")), "rename e/f to e/g")
	// The host first: it sees by name what the server did.
	wantHostContent(e, "e/g", "FIRST")
	wantHostContent(e, "d/f", "second")
	wantContent(e.p("e/g"), "FIRST")
	wantContent(e.p("d/f"), "second")
	ok(unix.Unlink(e.p("e/g")), "unlink e/g")
	var st unix.Stat_t
	wantErr(unix.Lstat(e.p("e/g"), &st), unix.ENOENT, "lstat e/g after unlink")
	wantContent(e.p("d/f"), "second")
	_, err = e.host.Stat(e.h("e/g"))
	wantErr(err, unix.ENOENT, "host stat e/g after unlink")
	wantHostContent(e, "d/f", "second")
}

// chkLegacyChmod: permission bits by chmod and fchmod (a Twstat of the
// mode), on a file and a directory, as the host sees them.
func chkLegacyChmod(e *env) {
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	for _, m := range []uint32{0o600, 0o741, 0o777, 0} {
		ok(unix.Chmod(f, m), "chmod %o", m)
		eq(lstat(f).Mode, unix.S_IFREG|m, "mode after chmod %o", m)
		hs, err := e.host.Stat(e.h("f"))
		ok(err, "host stat")
		eq(hs.Mode, unix.S_IFREG|m, "host mode after chmod %o", m)
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
	eq(hs.Mode, uint32(unix.S_IFREG|0o640), "host mode after fchmod")
	ok(unix.Mkdir(e.p("d"), 0o700), "mkdir")
	ok(unix.Chmod(e.p("d"), 0o755), "chmod dir")
	eq(lstat(e.p("d")).Mode, uint32(unix.S_IFDIR|0o755), "dir mode")
	hs, err = e.host.Stat(e.h("d"))
	ok(err, "host stat d")
	eq(hs.Mode, uint32(unix.S_IFDIR|0o755), "host dir mode")
}

// chkLegacyChmodSetid: setuid, setgid and sticky, which 9P2000.u carries
// as DMSETUID, DMSETGID and DMSETVTX.
func chkLegacyChmodSetid(e *env) {
	noPlan9(e, "has no setuid, setgid or sticky bit (v9fs drops them from the mode it sends)")
	f := e.p("f")
	writeFile(f, []byte("x"), 0o644)
	for _, m := range []uint32{0o4755, 0o2711, 0o755} {
		ok(unix.Chmod(f, m), "chmod %o", m)
		eq(lstat(f).Mode, unix.S_IFREG|m, "mode after chmod %o", m)
		hs, err := e.host.Stat(e.h("f"))
		ok(err, "host stat")
		eq(hs.Mode, unix.S_IFREG|m, "host mode after chmod %o", m)
	}
	ok(unix.Mkdir(e.p("d"), 0o755), "mkdir")
	ok(unix.Chmod(e.p("d"), 0o1777), "chmod 1777 dir")
	eq(lstat(e.p("d")).Mode, uint32(unix.S_IFDIR|0o1777), "dir mode after chmod 1777")
	hs, err := e.host.Stat(e.h("d"))
	ok(err, "host stat d")
	eq(hs.Mode, uint32(unix.S_IFDIR|0o1777), "host dir mode after chmod 1777")
}

// chkLegacyBig: 4 MiB written in 1 MiB writes and read back (more than one
// message each way at msize 512 KiB), compared byte for byte in the
// guest and on the host, whose copy must have the size too.
func chkLegacyBig(e *env) {
	const size = 4 << 20
	bigFile(e, size)
	hs, err := e.host.Stat(e.h("big"))
	ok(err, "host stat big")
	eq(hs.Size, int64(size), "host size of big")
}

// chkLegacyRemove: rm of a file (Tremove) takes it off the host's disk;
// rmdir of a non-empty directory is ENOTEMPTY (an error from the server,
// as a string in 9P2000), of an empty one removes it.
func chkLegacyRemove(e *env) {
	f := e.p("f")
	writeFile(f, []byte("doomed"), 0o644)
	ok(unix.Unlink(f), "unlink f")
	var st unix.Stat_t
	wantErr(unix.Lstat(f, &st), unix.ENOENT, "lstat f after unlink")
	_, err := e.host.Stat(e.h("f"))
	wantErr(err, unix.ENOENT, "host stat f after unlink")
	d := e.p("d")
	ok(unix.Mkdir(d, 0o755), "mkdir d")
	writeFile(d+"/g", []byte("g"), 0o644)
	wantErr(unix.Rmdir(d), unix.ENOTEMPTY, "rmdir non-empty d")
	_, err = e.host.Stat(e.h("d/g"))
	ok(err, "host stat d/g after the refused rmdir")
	ok(unix.Unlink(d+"/g"), "unlink d/g")
	ok(unix.Rmdir(d), "rmdir d")
	wantErr(unix.Lstat(d, &st), unix.ENOENT, "lstat d after rmdir")
	_, err = e.host.Stat(e.h("d"))
	wantErr(err, unix.ENOENT, "host stat d after rmdir")
	wantErr(unix.Rmdir(d), unix.ENOENT, "rmdir d again")
	eq(joinSorted(withoutDots(readdirNames(e.dir))), "", "entries after the removals")
}

// chkLegacyENOENT: a name that is not there is ENOENT through the mount
// (in 9P2000 the kernel reads the server's Rerror words to find it).
func chkLegacyENOENT(e *env) {
	var st unix.Stat_t
	wantErr(unix.Lstat(e.p("nope"), &st), unix.ENOENT, "lstat a missing file")
	_, err := unix.Open(e.p("nope"), unix.O_RDONLY, 0)
	wantErr(err, unix.ENOENT, "open a missing file")
	_, err = unix.Open(e.p("nodir/f"), unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErr(err, unix.ENOENT, "create in a missing directory")
	wantErr(unix.Unlink(e.p("nope")), unix.ENOENT, "unlink a missing file")
	wantErr(unix.Rename(e.p("nope"), e.p("other")), unix.ENOENT, "rename a missing file")
	wantErr(unix.Chmod(e.p("nope"), 0o644), unix.ENOENT, "chmod a missing file")
	// A file the host removes behind the guest's back is gone for the
	// guest too (cache=none: every lookup walks on the server).
	ok(e.host.WriteFile(e.h("hostfile"), []byte("from the host")), "host write")
	wantContent(e.p("hostfile"), "from the host")
	ok(e.host.Remove(e.h("hostfile")), "host remove")
	wantErr(unix.Lstat(e.p("hostfile"), &st), unix.ENOENT, "lstat a file the host removed")
	_, err = unix.Open(e.p("hostfile"), unix.O_RDONLY, 0)
	wantErr(err, unix.ENOENT, "open a file the host removed")
}

// chkLegacySymlink: symlink(2) and readlink(2) in 9P2000.u (a Tcreate
// with DMSYMLINK and the target in the extension; the target comes back
// in Tstat's extension): a real symlink on the host's disk.
func chkLegacySymlink(e *env) {
	if e.dialect() == dialectPlan9 {
		// The kernel refuses at once (v9fs_vfs_mkspecial: "not
		// extended"), and nothing reaches the server or the disk.
		wantErr(unix.Symlink("target", e.p("l")), unix.EPERM, "symlink in 9P2000")
		_, err := e.host.Stat(e.h("l"))
		wantErr(err, unix.ENOENT, "host stat of the refused symlink")
		skip("9P2000 has no symlinks (symlink(2) is EPERM, checked)")
	}
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
	hs, err := e.host.Stat(e.h("l"))
	ok(err, "host lstat l")
	eq(hs.Mode&unix.S_IFMT, uint32(unix.S_IFLNK), "host type of l")
	ht, err := e.host.Readlink(e.h("l"))
	ok(err, "host readlink l")
	eq(ht, "target", "host readlink l")
	ok(unix.Symlink("../no/such/place", e.p("dangling")), "dangling symlink")
	n, err = unix.Readlink(e.p("dangling"), buf)
	ok(err, "readlink dangling")
	eq(string(buf[:n]), "../no/such/place", "readlink dangling")
	_, err = unix.Open(e.p("dangling"), unix.O_RDONLY, 0)
	wantErr(err, unix.ENOENT, "open a dangling symlink")
	wantErr(unix.Symlink("x", e.p("l")), unix.EEXIST, "symlink over an existing name")
	_, err = unix.Readlink(e.p("target"), buf)
	wantErr(err, unix.EINVAL, "readlink a regular file")
	ok(unix.Unlink(e.p("l")), "unlink the symlink")
	wantContent(e.p("target"), "via link")
	_, err = e.host.Stat(e.h("l"))
	wantErr(err, unix.ENOENT, "host lstat l after unlink")
}

// owner is "uid:gid".
func owner(uid, gid uint32) string {
	return strconv.FormatUint(uint64(uid), 10) + ":" + strconv.FormatUint(uint64(gid), 10)
}

// chkLegacyOwnerHost: whose files land on the host's disk. In 9P2000.u
// (access=user, the kernel's default there) each guest user attaches as
// itself by number (n_uname): root's file is root's, uid 1000's is uid
// 1000's. In 9P2000 the kernel forces access=any: one attach, as the
// mount's uname, does everything for every guest user, so uid 1000's
// file belongs to the uname's user (root here, see legacyPhase in
// vm_test.go).
func chkLegacyOwnerHost(e *env) {
	needRoot("making root's file and one of uid 1000")
	writeFile(e.p("mine"), []byte("root's"), 0o644)
	hs, err := e.host.Stat(e.h("mine"))
	ok(err, "host stat mine")
	eq(owner(hs.UID, hs.GID), "0:0", "host owner of a file made by root")
	ok(unix.Chmod(e.dir, 0o777), "chmod 777 scratch")
	eq(asUser("create", e.p("theirs")), "ok", "create as uid 1000")
	hs, err = e.host.Stat(e.h("theirs"))
	ok(err, "host stat theirs")
	if e.dialect() == dialectPlan9 {
		eq(owner(hs.UID, hs.GID), "0:0", "host owner of uid 1000's file through the one attach of 9P2000 (uname=root)")
		return
	}
	eq(hs.UID, uint32(1000), "host uid of a file made by uid 1000")
	if hs.GID != 1000 && hs.GID != 65534 {
		fail("host gid of a file made by uid 1000 is %d: want its own group 1000 (or nogroup where the host has a group 1000 of someone else)", hs.GID)
	}
	wantHostContent(e, "theirs", "by helper")
}

// chkLegacyOwnerGuest: the owners the guest sees are the host's.
func chkLegacyOwnerGuest(e *env) {
	noPlan9(e, "has owners only as names: v9fs shows every file as the mount's dfltuid")
	needRoot("making root's file and one of uid 1000")
	writeFile(e.p("mine"), []byte("root's"), 0o644)
	st := lstat(e.p("mine"))
	eq(owner(st.Uid, st.Gid), "0:0", "owner of a file made by root")
	ok(unix.Chmod(e.dir, 0o777), "chmod 777 scratch")
	eq(asUser("create", e.p("theirs")), "ok", "create as uid 1000")
	st = lstat(e.p("theirs"))
	hs, err := e.host.Stat(e.h("theirs"))
	ok(err, "host stat theirs")
	eq(st.Uid, uint32(1000), "uid of a file made by uid 1000")
	eq(owner(st.Uid, st.Gid), owner(hs.UID, hs.GID), "owner of uid 1000's file, guest vs host")
	ok(unix.Chown(e.p("mine"), 1001, 1002), "chown 1001:1002")
	st = lstat(e.p("mine"))
	eq(owner(st.Uid, st.Gid), "1001:1002", "owner after chown 1001:1002")
	hs, err = e.host.Stat(e.h("mine"))
	ok(err, "host stat mine")
	eq(owner(hs.UID, hs.GID), "1001:1002", "host owner after chown 1001:1002")
}

// chkLegacySpecial: in 9P2000.u a hard link (Tcreate DMLINK with the
// source's fid), a fifo (DMNAMEDPIPE) and a character device (DMDEVICE
// "c 1 3") reach the host as they are; 9P2000 has none of them.
func chkLegacySpecial(e *env) {
	if e.dialect() == dialectPlan9 {
		writeFile(e.p("a"), []byte("x"), 0o644)
		wantErr(unix.Link(e.p("a"), e.p("b")), unix.EPERM, "link in 9P2000")
		wantErr(unix.Mkfifo(e.p("fifo"), 0o600), unix.EPERM, "mkfifo in 9P2000")
		_, err := e.host.Stat(e.h("fifo"))
		wantErr(err, unix.ENOENT, "host stat of the refused fifo")
		skip("9P2000 has no hard links, fifos or devices (EPERM, checked)")
	}
	a, b := e.p("a"), e.p("b")
	writeFile(a, []byte("linked"), 0o644)
	ok(unix.Link(a, b), "link a b")
	writeFile(b, []byte("through b"), 0o644)
	wantContent(a, "through b")
	hs, err := e.host.Stat(e.h("b"))
	ok(err, "host stat b")
	eq(hs.Nlink, uint64(2), "host nlink of b")
	wantHostContent(e, "a", "through b")

	ok(unix.Mkfifo(e.p("fifo"), 0o620), "mkfifo")
	eq(lstat(e.p("fifo")).Mode, uint32(unix.S_IFIFO|0o620), "mode of the fifo")
	hs, err = e.host.Stat(e.h("fifo"))
	ok(err, "host stat fifo")
	eq(hs.Mode, uint32(unix.S_IFIFO|0o620), "host mode of the fifo")

	if os.Geteuid() != 0 {
		wantErr(unix.Mknod(e.p("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))), unix.EPERM, "mknod c 1 3 as uid %d", os.Geteuid())
		needRoot("mknod of a device (EPERM, checked)")
	}
	ok(unix.Mknod(e.p("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))), "mknod c 1 3")
	st := lstat(e.p("null"))
	eq(st.Mode, uint32(unix.S_IFCHR|0o666), "mode of the device")
	eq(unix.Major(st.Rdev), uint32(1), "major of the device")
	eq(unix.Minor(st.Rdev), uint32(3), "minor of the device")
	hs, err = e.host.Stat(e.h("null"))
	ok(err, "host stat null")
	eq(hs.Mode, uint32(unix.S_IFCHR|0o666), "host mode of the device")
}
