//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// check is one named check. fn fails by panicking through fail (or the
// helpers below); runCheck turns that into the TAP detail.
type check struct {
	name string
	fn   func(e *env)
	// noTmpfs leaves the check out of the tmpfs baseline: it depends on
	// the mount (remount, cache=mmap) or on something tmpfs of this kernel
	// does not have (user xattrs arrived in tmpfs with 6.6).
	noTmpfs bool
	// noScratch runs the check without creating its scratch directory.
	noScratch bool
}

// env is what a check runs in.
type env struct {
	phase phase
	fs    string // fsTmpfs, fs9P or fsFUSE
	root  string // the mount root (or the tmpfs baseline's root)
	rel   string // the check's scratch directory, relative to root
	dir   string // the check's scratch directory, absolute
	host  hostView
	args  map[string]string
}

// p is the absolute path of name in the scratch directory; h is the same
// file as the host sees it.
func (e *env) p(name string) string { return e.dir + "/" + name }
func (e *env) h(name string) string { return e.rel + "/" + name }

// suites are the check lists a phase can run.
var suites = map[string][]check{
	"export": exportChecks,
	"smoke":  smokeChecks,
	"mmap":   mmapChecks,
	"remote": remoteChecks,
	"user":   userChecks,
	"remount": {
		{name: "remount-same-connection", fn: chkRemountSameConn, noTmpfs: true},
	},
	"ns":     nsChecks,
	"run":    runChecks,
	"legacy": legacyChecks,
	"squash": {
		{name: "root-squashed", fn: chkRootSquashed, noTmpfs: true},
	},
}

// failure is the panic value of a failed check.
type failure struct{ msg string }

func fail(format string, a ...any) { panic(failure{fmt.Sprintf(format, a...)}) }

// skipped is the panic value of a check that does not apply to the
// phase's dialect, and the error runCheck returns for it: the TAP line
// says "# SKIP" and why, so that a skip is never silent.
type skipped struct{ reason string }

func (s skipped) Error() string { return "skipped: " + s.reason }

func skip(format string, a ...any) { panic(skipped{fmt.Sprintf(format, a...)}) }

// The 9P dialects a phase can mount with (mount -o version=).
const (
	dialectL     = "9p2000.L"
	dialectU     = "9p2000.u"
	dialectPlan9 = "9p2000"
)

// What a phase's checks run on: the guest's tmpfs (the baseline), a
// kernel v9fs mount, or a FUSE mount of a node's namespace (guest local).
const (
	fsTmpfs = "tmpfs"
	fs9P    = "9p"
	fsFUSE  = "fuse"
)

// dialect is the phase's 9P dialect: its version= option (9p2000.L, the
// kernel's default, when there is none), "" on the tmpfs baseline, and
// 9p2000.L on a FUSE mount (the node serves it from the namespace, whose
// files speak 9P2000.L).
func (e *env) dialect() string {
	switch e.fs {
	case fsTmpfs:
		return ""
	case fsFUSE:
		return dialectL
	}
	return phaseDialect(e.phase.opts)
}

// noFUSE skips the rest of a check on a FUSE mount, for why (a check of
// the kernel's v9fs mount itself).
func noFUSE(e *env, why string) {
	if e.fs == fsFUSE {
		skip("FUSE mount: %s", why)
	}
}

// needRoot skips the rest of a check when it does not run as root, for
// why (what it does that only root may).
func needRoot(why string) {
	if uid := os.Geteuid(); uid != 0 {
		skip("runs as uid %d: %s needs root", uid, why)
	}
}

func phaseDialect(opts string) string {
	v := optValue(opts, "version")
	for _, d := range []string{dialectL, dialectU, dialectPlan9} {
		if strings.EqualFold(v, d) {
			return d
		}
	}
	if v == "" {
		return dialectL
	}
	return v
}

// errStr names an errno the way the man pages do ("EEXIST"), so that TAP
// details say exactly what the kernel returned.
func errStr(err error) string {
	if err == nil {
		return "success"
	}
	var en unix.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("%s (%v)", unix.ErrnoName(en), err)
	}
	return err.Error()
}

// ok fails the check when err is not nil.
func ok(err error, format string, a ...any) {
	if err != nil {
		fail("%s: %s", fmt.Sprintf(format, a...), errStr(err))
	}
}

// wantErr fails the check unless err is the errno want.
func wantErr(err error, want unix.Errno, format string, a ...any) {
	var en unix.Errno
	if errors.As(err, &en) && en == want {
		return
	}
	fail("%s: got %s, want %s", fmt.Sprintf(format, a...), errStr(err), unix.ErrnoName(want))
}

// eq fails the check unless got == want.
func eq[T comparable](got, want T, format string, a ...any) {
	if got != want {
		fail("%s: got %v, want %v", fmt.Sprintf(format, a...), got, want)
	}
}

func lstat(path string) unix.Stat_t {
	var st unix.Stat_t
	ok(unix.Lstat(path, &st), "lstat %s", path)
	return st
}

func writeFile(path string, data []byte, mode uint32) {
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, mode)
	ok(err, "open %s for writing", path)
	defer unix.Close(fd)
	writeAll(fd, data, path)
}

func writeAll(fd int, data []byte, what string) {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		ok(err, "write %s", what)
		if n == 0 {
			fail("write %s: wrote 0 bytes", what)
		}
		data = data[n:]
	}
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	ok(err, "read %s", path)
	return b
}

// wantContent fails unless path holds want, as read through the mount.
func wantContent(path string, want string) {
	got := readFile(path)
	if !bytes.Equal(got, []byte(want)) {
		fail("content of %s: got %q, want %q", path, trunc(got), want)
	}
}

// wantHostContent fails unless the host sees want in the file.
func wantHostContent(e *env, name, want string) {
	got, err := e.host.ReadFile(e.h(name))
	ok(err, "host read %s", name)
	if !bytes.Equal(got, []byte(want)) {
		fail("host sees %s as %q, want %q", name, trunc(got), want)
	}
}

func trunc(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// readdirNames lists a directory with getdents64, "." and ".." included,
// the way the kernel hands the entries out.
func readdirNames(path string) []string {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	ok(err, "open dir %s", path)
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		ok(err, "getdents %s", path)
		if n == 0 {
			return names
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		// ParseDirent drops "." and ".."; count them separately.
		for b := buf[:n]; len(b) > 0; {
			reclen := int(b[16]) | int(b[17])<<8
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if s := string(name); s == "." || s == ".." {
				names = append(names, s)
			}
			b = b[reclen:]
		}
	}
}

func joinSorted(names []string) string {
	s := append([]string(nil), names...)
	sortStrings(s)
	return strings.Join(s, " ")
}
