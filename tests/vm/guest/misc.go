//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func chkMmapRead(e *env) {
	f := e.p("m")
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16*3) // 192 KiB
	writeFile(f, data, 0o644)
	fd, err := unix.Open(f, unix.O_RDONLY, 0)
	ok(err, "open")
	defer unix.Close(fd)
	m, err := unix.Mmap(fd, 0, len(data), unix.PROT_READ, unix.MAP_SHARED)
	ok(err, "mmap PROT_READ MAP_SHARED")
	defer unix.Munmap(m)
	if !bytes.Equal(m, data) {
		fail("mapped bytes differ from the file")
	}
	// A write through write(2) shows in the mapping (same page cache).
	wfd, err := unix.Open(f, unix.O_WRONLY, 0)
	ok(err, "open for writing")
	_, err = unix.Pwrite(wfd, []byte("ZZ"), 70000)
	ok(err, "pwrite")
	unix.Close(wfd)
	eq(string(m[70000:70002]), "ZZ", "mapping after pwrite")
}

func chkMmapWrite(e *env) {
	f := e.p("m")
	writeFile(f, bytes.Repeat([]byte{'.'}, 3*4096+100), 0o644)
	fd, err := unix.Open(f, unix.O_RDWR, 0)
	ok(err, "open")
	defer unix.Close(fd)
	m, err := unix.Mmap(fd, 0, 3*4096+100, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	ok(err, "mmap PROT_WRITE MAP_SHARED")
	copy(m[0:], "page0")
	copy(m[2*4096+10:], "page2")
	copy(m[3*4096+95:], "tail!")
	ok(unix.Msync(m, unix.MS_SYNC), "msync MS_SYNC")
	ok(unix.Munmap(m), "munmap")
	want := bytes.Repeat([]byte{'.'}, 3*4096+100)
	copy(want[0:], "page0")
	copy(want[2*4096+10:], "page2")
	copy(want[3*4096+95:], "tail!")
	got := make([]byte, len(want)+10)
	n, err := unix.Pread(fd, got, 0)
	ok(err, "pread")
	if !bytes.Equal(got[:n], want) {
		fail("read after msync differs from what was written through the mapping")
	}
	hv, err := e.host.ReadFile(e.h("m"))
	ok(err, "host read")
	if !bytes.Equal(hv, want) {
		fail("host file differs after msync (len %d, want %d)", len(hv), len(want))
	}
}

// chkRemount: mount -o remount keeps the mount working, and a fresh mount
// after umount works on the same transport connection (QEMU's guestfwd and
// the virtio port both join successive guest connections into one host
// stream, so the server sees a second Tversion on one connection).
func chkRemount(e *env) {
	noFUSE(e, "mount -o remount is of the kernel's v9fs mount")
	f := e.p("kept")
	writeFile(f, []byte("across remounts"), 0o644)
	p := e.phase
	ok(unix.Mount(p.source, p.mountpoint(), "9p", unix.MS_REMOUNT, p.opts), "mount -o remount")
	wantContent(f, "across remounts")
	chkRemountSameConn(e)
}

func chkRemountSameConn(e *env) {
	noFUSE(e, "the second mount on one connection is of the kernel's v9fs mount")
	f := e.p("kept2")
	writeFile(f, []byte("second mount"), 0o644)
	p := e.phase
	ok(p.unmount(), "umount")
	var st unix.Stat_t
	wantErr(unix.Lstat(f, &st), unix.ENOENT, "file visible after umount")
	ok(p.mount(), "mount again")
	wantContent(f, "second mount")
	writeFile(e.p("after"), []byte("x"), 0o644)
	wantHostContent(e, "after", "x")
}

// userChecks run on an access=user (or default access=client) mount: the
// kernel attaches once per uid and the server must act as that user.
var userChecks = []check{
	{name: "user-create-group", fn: chkUserGroup},
	{name: "user-create-owner", fn: chkUserCreate},
	{name: "user-permission-denied", fn: chkUserDenied},
	{name: "user-private-file", fn: chkUserPrivate},
	{name: "user-mkdir-owner", fn: chkUserMkdir},
}

// asUser runs the helper as uid:gid 1000:1000 and returns its output line.
func asUser(args ...string) string { return asUID(1000, args...) }

// asUID runs the lock helper as uid:gid uid:uid.
func asUID(uid uint32, args ...string) string {
	needRoot(fmt.Sprintf("running a helper as uid %d", uid))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe", append([]string{"lock"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		fail("helper %v as uid %d: no answer within 30 s", args, uid)
	}
	ok(err, "helper %v as uid %d: %s", args, uid, out)
	return strings.TrimSpace(string(out))
}

// chkRootSquashed: over a listener with --squash root, root in the guest
// is the anonymous user: what it makes belongs to 65534:65534 on the host,
// and root's own 0600 file is closed to it.
func chkRootSquashed(e *env) {
	f, err := os.Create(e.p("made"))
	ok(err, "create as squashed root")
	f.Close()
	hs, err := e.host.Stat(e.h("made"))
	ok(err, "host stat")
	eq(strconv.Itoa(int(hs.UID))+":"+strconv.Itoa(int(hs.GID)), "65534:65534", "host owner of a file made by squashed root")
	_, err = os.ReadFile(e.root + "/squash-secret")
	eq(errName(err), "EACCES", "squashed root reads root's 0600 file")
}

// chkUserPrivate: two users share a sticky directory; neither can read,
// change or remove the other's 0600 file, and each one's file belongs to
// it on the host disk.
func chkUserPrivate(e *env) {
	ok(unix.Chmod(e.dir, 0o1777), "chmod 1777 scratch")
	eq(asUID(1000, "private", e.p("a")), "ok", "uid 1000 makes a 0600 file")
	eq(asUID(1001, "private", e.p("b")), "ok", "uid 1001 makes a 0600 file")
	eq(asUID(1001, "read", e.p("a")), "EACCES", "uid 1001 reads 1000's 0600 file")
	eq(asUID(1001, "write", e.p("a")), "EACCES", "uid 1001 writes 1000's 0600 file")
	eq(asUID(1001, "chmod", e.p("a")), "EPERM", "uid 1001 chmods 1000's file")
	eq(asUID(1001, "unlink", e.p("a")), "EPERM", "uid 1001 unlinks 1000's file in a sticky dir")
	eq(asUID(1000, "read", e.p("b")), "EACCES", "uid 1000 reads 1001's 0600 file")
	eq(asUID(1000, "read", e.p("a")), "ok", "uid 1000 reads its own file")
	for _, f := range []struct {
		name  string
		owner string
	}{{"a", "1000:1000"}, {"b", "1001:1001"}} {
		hs, err := e.host.Stat(e.h(f.name))
		ok(err, "host stat")
		eq(strconv.Itoa(int(hs.UID))+":"+strconv.Itoa(int(hs.GID)), f.owner, "host owner of %s", f.name)
		eq(hs.Mode&0o7777, uint32(0o600), "host mode of %s", f.name)
	}
}

// chkUserGroup: a file made by uid:gid 1000:1000 has group 1000 (the gid
// travels in Tlcreate/Tmkdir).
func chkUserGroup(e *env) {
	ok(unix.Chmod(e.dir, 0o777), "chmod 777 scratch")
	eq(asUser("create", e.p("u")), "ok", "create as uid 1000")
	eq(lstat(e.p("u")).Gid, uint32(1000), "gid of a file created by 1000:1000")
	eq(asUser("mkdir", e.p("d")), "ok", "mkdir as uid 1000")
	eq(lstat(e.p("d")).Gid, uint32(1000), "gid of a dir made by 1000:1000")
}

func chkUserCreate(e *env) {
	ok(unix.Chmod(e.dir, 0o777), "chmod 777 scratch")
	eq(asUser("create", e.p("u")), "ok", "create as uid 1000")
	st := lstat(e.p("u"))
	eq(st.Uid, uint32(1000), "uid of a file created by uid 1000")
	eq(st.Gid, uint32(1000), "gid of a file created by uid 1000")
	hs, err := e.host.Stat(e.h("u"))
	ok(err, "host stat")
	eq(strconv.Itoa(int(hs.UID))+":"+strconv.Itoa(int(hs.GID)), "1000:1000", "host owner of the file")
}

func chkUserDenied(e *env) {
	writeFile(e.p("secret"), []byte("root only"), 0o600)
	eq(asUser("read", e.p("secret")), "EACCES", "uid 1000 opens root's 0600 file")
	eq(asUser("create", e.p("new")), "EACCES", "uid 1000 creates in root's 0755 dir")
}

func chkUserMkdir(e *env) {
	ok(unix.Chmod(e.dir, 0o777), "chmod 777 scratch")
	eq(asUser("mkdir", e.p("ud")), "ok", "mkdir as uid 1000")
	st := lstat(e.p("ud"))
	eq(st.Uid, uint32(1000), "uid of a dir made by uid 1000")
	eq(asUser("create", e.p("ud/f")), "ok", "create in own dir as uid 1000")
	eq(lstat(e.p("ud/f")).Uid, uint32(1000), "uid of the file in own dir")
}
