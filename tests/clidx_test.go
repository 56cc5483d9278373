package tests

import (
	"errors"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// The CLI as a newcomer meets it (issue 12): the attribute verbs, ls -R,
// rm and mkdir going on past errors, --version, connection flags after
// the verb, --timeout bounding the connect, ctl and attach-name errors,
// and members against an export. Every failure is checked for its exact
// stderr and exit status.

// cliWant checks a run's exit status, stderr (exact, lines joined by
// "\n", without the last newline; "" means none) and, unless stdout is
// "-", its stdout.
func cliWant(t *testing.T, r cliResult, code int, stderr, stdout string) {
	t.Helper()
	gotErr := strings.TrimSuffix(r.stderr, "\n")
	if r.code != code || gotErr != stderr || (stderr != "" && !strings.HasSuffix(r.stderr, "\n")) {
		t.Errorf("exit %d, stderr %q\nwant exit %d, stderr %q", r.code, r.stderr, code, stderr)
	}
	if stdout != "-" && r.stdout != stdout {
		t.Errorf("stdout %q\nwant   %q", r.stdout, stdout)
	}
}

// cliRun9p runs `mfs 9p --addr addr args…` with stdin.
func cliRun9p(t *testing.T, addr, stdin string, args ...string) cliResult {
	t.Helper()
	return cliRun(t, strings.NewReader(stdin), nil, append([]string{"9p", "--addr", addr}, args...)...)
}

// cliPerm returns the permission and special bits of name on disk.
func cliPerm(t *testing.T, name string) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(name, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mode & 0o7777
}

// TestCLIChmodChownTouch changes modes (octal and symbolic), owners (names
// and numbers) and times through an export and checks each on disk, and
// that a failure on one path neither stops the others nor goes unreported.
func TestCLIChmodChownTouch(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "b"), []byte("b"), 0o600))
	must(os.Mkdir(filepath.Join(dir, "d"), 0o700))
	addr := cliStartExport(t, dir)

	t.Run("chmod", func(t *testing.T) {
		cliWant(t, cliRun9p(t, addr, "", "chmod", "755", "/a", "/b"), 0, "", "")
		if a, b := cliPerm(t, filepath.Join(dir, "a")), cliPerm(t, filepath.Join(dir, "b")); a != 0o755 || b != 0o755 {
			t.Errorf("chmod 755: %#o %#o", a, b)
		}
		cliWant(t, cliRun9p(t, addr, "", "chmod", "4750", "/a"), 0, "", "")
		cliWant(t, cliRun9p(t, addr, "", "chmod", "u-s,g=u,o+rX", "/a"), 0, "", "")
		if got := cliPerm(t, filepath.Join(dir, "a")); got != 0o775 {
			t.Errorf("chmod 4750 then u-s,g=u,o+rX: %#o, want 0775", got)
		}
		cliWant(t, cliRun9p(t, addr, "", "chmod", "a=rX", "/d", "/b"), 0, "", "")
		if d, b := cliPerm(t, filepath.Join(dir, "d")), cliPerm(t, filepath.Join(dir, "b")); d != 0o555 || b != 0o555 {
			t.Errorf("chmod a=rX: dir %#o, file %#o; want 0555 both", d, b)
		}
		// A MODE starting with "-" goes after "--", as with chmod(1);
		// without u, g, o or a the umask's bits are left alone.
		mask := uint32(syscall.Umask(0))
		syscall.Umask(int(mask))
		cliWant(t, cliRun(t, nil, nil, "9p", "--addr", addr, "chmod", "--", "-x", "/b"), 0, "", "")
		if got, want := cliPerm(t, filepath.Join(dir, "b")), 0o555&^(0o111&^mask); got != want {
			t.Errorf("chmod -x with umask %#o: %#o, want %#o", mask, got, want)
		}
		must(os.Chmod(filepath.Join(dir, "d"), 0o755))
		// One path missing: the others change all the same, exit 1.
		cliWant(t, cliRun9p(t, addr, "", "chmod", "600", "/nope", "/b", "/gone"), 1,
			"mfs 9p: chmod /nope: no such file or directory\nmfs 9p: chmod /gone: no such file or directory", "")
		if got := cliPerm(t, filepath.Join(dir, "b")); got != 0o600 {
			t.Errorf("chmod past a missing path: %#o, want 0600", got)
		}
		cliWant(t, cliRun9p(t, addr, "", "chmod", "799", "/b"), 2,
			`mfs 9p: chmod: invalid mode "799" (want octal such as 755, or symbolic such as u+x,go-w)`, "")
		cliWant(t, cliRun9p(t, addr, "", "chmod", "u+y", "/b"), 2,
			`mfs 9p: chmod: invalid mode "u+y" (want octal such as 755, or symbolic such as u+x,go-w)`, "")
		cliWant(t, cliRun9p(t, addr, "", "chmod", "755"), 2, "mfs 9p: chmod: want chmod MODE PATH… (see mfs 9p chmod --help)", "")
	})

	t.Run("chown", func(t *testing.T) {
		me := os.Getuid()
		// To oneself always works; giving away needs root.
		cliWant(t, cliRun9p(t, addr, "", "chown", strconv.Itoa(me)+":"+strconv.Itoa(os.Getgid()), "/a"), 0, "", "")
		if os.Geteuid() != 0 {
			t.Skip("giving files away needs root")
		}
		cliWant(t, cliRun9p(t, addr, "", "chown", "4321:4322", "/a", "/d"), 0, "", "")
		for _, name := range []string{"a", "d"} {
			var st syscall.Stat_t
			must(syscall.Lstat(filepath.Join(dir, name), &st))
			if st.Uid != 4321 || st.Gid != 4322 {
				t.Errorf("chown 4321:4322 %s: %d:%d", name, st.Uid, st.Gid)
			}
		}
		cliWant(t, cliRun9p(t, addr, "", "chown", ":77", "/a"), 0, "", "")
		var st syscall.Stat_t
		must(syscall.Lstat(filepath.Join(dir, "a"), &st))
		if st.Uid != 4321 || st.Gid != 77 {
			t.Errorf("chown :77: %d:%d, want 4321:77", st.Uid, st.Gid)
		}
		// Names go through this host's databases.
		root, err := user.LookupId("0")
		if err != nil {
			t.Skipf("no user 0 here: %v", err)
		}
		cliWant(t, cliRun9p(t, addr, "", "chown", root.Username+":", "/a"), 0, "", "")
		must(syscall.Lstat(filepath.Join(dir, "a"), &st))
		if strconv.Itoa(int(st.Uid)) != root.Uid || strconv.Itoa(int(st.Gid)) != root.Gid {
			t.Errorf("chown %s: %d:%d, want %s:%s", root.Username+":", st.Uid, st.Gid, root.Uid, root.Gid)
		}
		cliWant(t, cliRun9p(t, addr, "", "chown", "no-such-user-mfs", "/a"), 2, `mfs 9p: chown: unknown user "no-such-user-mfs"`, "")
		cliWant(t, cliRun9p(t, addr, "", "chown", "1:no-such-group-mfs", "/a"), 2, `mfs 9p: chown: unknown group "no-such-group-mfs"`, "")
		cliWant(t, cliRun9p(t, addr, "", "chown", "0", "/nope", "/a"), 1, "mfs 9p: chown /nope: no such file or directory", "")
	})

	t.Run("touch", func(t *testing.T) {
		old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		must(os.Chtimes(filepath.Join(dir, "a"), old, old))
		before := time.Now().Add(-time.Second)
		cliWant(t, cliRun9p(t, addr, "", "touch", "/a", "/new", "/d/new2"), 0, "", "")
		fi, err := os.Stat(filepath.Join(dir, "a"))
		must(err)
		if fi.ModTime().Before(before) {
			t.Errorf("touch of an existing file: mtime %v, want now", fi.ModTime())
		}
		var st syscall.Stat_t
		must(syscall.Stat(filepath.Join(dir, "a"), &st))
		if atime := time.Unix(st.Atim.Unix()); atime.Before(before) {
			t.Errorf("touch of an existing file: atime %v, want now", atime)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "a")); err != nil || string(b) != "a" {
			t.Errorf("touch changed the content: %q, %v", b, err)
		}
		for _, name := range []string{"new", "d/new2"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || fi.Size() != 0 || !fi.Mode().IsRegular() {
				t.Errorf("touch %s: %v, %v", name, fi, err)
			}
		}
		cliWant(t, cliRun9p(t, addr, "", "touch", "-c", "/absent"), 0, "", "")
		if _, err := os.Lstat(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("touch -c created the file (%v)", err)
		}
		cliWant(t, cliRun9p(t, addr, "", "touch", "/nodir/x", "/also"), 1, "mfs 9p: touch /nodir/x: no such file or directory", "")
		if _, err := os.Stat(filepath.Join(dir, "also")); err != nil {
			t.Errorf("touch past a failure: %v", err)
		}
	})
}

// TestCLILsRecursive checks ls -R's exact output, and that ls goes on past
// a path it cannot list.
func TestCLILsRecursive(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"t/a/deep", "t/b", "t/empty"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"t/f", "t/a/g", "t/a/deep/h"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a", filepath.Join(dir, "t/link")); err != nil { // not followed
		t.Fatal(err)
	}
	addr := cliStartExport(t, dir)

	want := "/t:\na\nb\nempty\nf\nlink\n\n/t/a:\ndeep\ng\n\n/t/a/deep:\nh\n\n/t/b:\n\n/t/empty:\n"
	cliWant(t, cliRun9p(t, addr, "", "ls", "-R", "/t"), 0, "", want)
	// Connection flags after the verb, combined short flags.
	r := cliRun(t, nil, nil, "9p", "ls", "-lR", "--addr", addr, "/t/a")
	cliWant(t, r, 0, "", "-")
	if lines := strings.Split(r.stdout, "\n"); len(lines) != 7 || lines[0] != "/t/a:" || lines[4] != "/t/a/deep:" ||
		!strings.HasPrefix(lines[1], "drwxr-xr-x ") || !strings.HasSuffix(lines[1], " deep") || !strings.HasSuffix(lines[5], " h") {
		t.Errorf("ls -lR: %q", r.stdout)
	}
	// -d wins over -R, as with ls.
	cliWant(t, cliRun9p(t, addr, "", "ls", "-dR", "/t"), 0, "", "/t\n")
	cliWant(t, cliRun9p(t, addr, "", "ls", "/t/b", "/nope", "/t/f", "/t/empty"), 1,
		"mfs 9p: ls /nope: no such file or directory", "/t/f\n\n/t/b:\n\n/t/empty:\n")
}

// TestCLIRmMkdirContinue checks that rm and mkdir go on past a failure,
// report each on its own line and exit 1, and rm -f.
func TestCLIRmMkdirContinue(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a", "b", "c", "full/x"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "tree/x/y"), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := cliStartExport(t, dir)
	exists := func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return err == nil
	}

	cliWant(t, cliRun9p(t, addr, "", "rm", "/a", "/missing", "/full", "/b"), 1,
		"mfs 9p: rm /missing: no such file or directory\nmfs 9p: rm /full: directory not empty", "")
	if exists("a") || exists("b") || !exists("full/x") {
		t.Errorf("rm past errors: a %v, b %v, full/x %v", exists("a"), exists("b"), exists("full/x"))
	}
	cliWant(t, cliRun9p(t, addr, "", "rm", "-f", "/missing", "/c"), 0, "", "")
	if exists("c") {
		t.Error("rm -f: c still there")
	}
	cliWant(t, cliRun9p(t, addr, "", "rm", "-rf", "/tree", "/gone"), 0, "", "")
	if exists("tree") {
		t.Error("rm -rf: tree still there")
	}
	cliWant(t, cliRun9p(t, addr, "", "rm", "-f"), 0, "", "")
	cliWant(t, cliRun9p(t, addr, "", "rm"), 2, "mfs 9p: rm: want rm [-r] [-f] PATH… (see mfs 9p rm --help)", "")
	cliWant(t, cliRun9p(t, addr, "", "rm", "/"), 1, "mfs 9p: rm /: device or resource busy", "")

	cliWant(t, cliRun9p(t, addr, "", "mkdir", "/m1", "/full", "/no/such", "/m2"), 1,
		"mfs 9p: mkdir /full: file exists\nmfs 9p: mkdir /no/such: no such file or directory", "")
	if !exists("m1") || !exists("m2") {
		t.Errorf("mkdir past errors: m1 %v, m2 %v", exists("m1"), exists("m2"))
	}
}

// TestCLIVersion checks mfs --version and mfs version.
func TestCLIVersion(t *testing.T) {
	a := cliRun(t, nil, nil, "--version")
	b := cliRun(t, nil, nil, "version")
	cliWant(t, a, 0, "", "-")
	cliWant(t, b, 0, "", a.stdout)
	lines := strings.Split(strings.TrimSuffix(a.stdout, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "mfs ") || lines[0] == "mfs " ||
		!strings.HasPrefix(lines[1], "revision ") || !strings.HasPrefix(lines[2], "go go1.") {
		t.Errorf("mfs --version: %q", a.stdout)
	}
	cliWant(t, cliRun(t, nil, nil, "version", "extra"), 2, "mfs version: takes no arguments", "")
}

// TestCLIConnFlagsAfterVerb checks connection flags given after the verb,
// the default port, hints for flags where they do not belong, and that a
// peer not speaking 9P is named as such.
func TestCLIConnFlagsAfterVerb(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := cliStartExport(t, dir)
	refused := cliRefusedAddr(t)
	junk := cliJunkServer(t)

	cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--addr", addr, "/"), 0, "", "f\n")
	cliWant(t, cliRun(t, nil, nil, "9p", "ls", "-l", "--addr="+addr, "--msize", "8192", "--timeout", "5s", "-d", "/f"), 0, "", "-")
	// After the verb wins over before it, and over $MFS_ADDR.
	cliWant(t, cliRun(t, nil, nil, "9p", "--addr", refused, "read", "--addr", addr, "/f"), 0, "", "x")
	cliWant(t, cliRun(t, nil, []string{"MFS_ADDR=" + refused}, "9p", "read", "--addr", addr, "/f"), 0, "", "x")
	cliWant(t, cliRun(t, nil, []string{"MFS_ADDR=" + addr}, "9p", "read", "/f"), 0, "", "x")
	cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--addr", refused, "/"), 1, "mfs 9p: connect "+refused+": connection refused (no node runs here: start one with mfs node, or give --addr)", "")
	cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--msize", "12", "--addr", addr, "/"), 2, "mfs 9p: --msize 12: want 4096 or more", "")
	cliWant(t, cliRun(t, nil, nil, "9p", "ls", "-a", addr, "/"), 2,
		"mfs 9p: ls: unknown flag -a (-a is short for --addr before the verb only; after it, write --addr)", "")
	cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--addr", "a:b:c", "/"), 2,
		`mfs 9p: --addr: address "a:b:c": want host, host:port, [ipv6]:port or unix:/path`, "")
	// A peer that does not speak 9P is named as such, wherever --addr is.
	cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--addr", junk, "/"), 1,
		"mfs 9p: connect "+junk+": version: the server does not speak 9P (reply starts \"HTTP/1.\")", "")
	cliWant(t, cliRun(t, nil, nil, "members", "--addr", junk), 1,
		"mfs members: connect "+junk+": version: the server does not speak 9P (reply starts \"HTTP/1.\")", "")

	// A host without a port means 9P's port 564: serve junk there if it is
	// free to take, so the answer proves the port; else it must be refused.
	for _, tc := range []struct{ network, host, listen, want string }{
		{"tcp4", "127.0.0.1", "127.0.0.1:564", "127.0.0.1:564"},
		{"tcp6", "[::1]", "[::1]:564", "[::1]:564"},
	} {
		t.Run("default port "+tc.host, func(t *testing.T) {
			ln, err := net.Listen(tc.network, tc.listen)
			if err != nil {
				if c, derr := net.DialTimeout(tc.network, tc.listen, time.Second); derr == nil {
					c.Close()
					t.Skipf("%s is taken (%v)", tc.listen, err)
				}
				if errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) {
					t.Skipf("no %s here: %v", tc.network, err)
				}
				cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--addr", tc.host, "/"), 1, "mfs 9p: connect "+tc.want+": connection refused", "")
				return
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
					c.Close()
				}
			}()
			cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--addr", tc.host, "/"), 1,
				"mfs 9p: connect "+tc.want+": version: the server does not speak 9P (reply starts \"HTTP/1.\")", "")
		})
	}
}

// cliBlackhole returns a loopback address whose connects hang: a listener
// that never accepts, its backlog full, so the kernel drops further SYNs.
// ok is false where the kernel does not behave so.
func cliBlackhole(t *testing.T) (addr string, ok bool) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr, true // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr, false
}

// TestCLITimeoutBoundsConnect checks that --timeout bounds the connect
// and the version exchange: against a server that accepts and never
// answers, and against a connect that never completes, --timeout 1s ends
// within about a second with one line.
func TestCLITimeoutBoundsConnect(t *testing.T) {
	silent := cliServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	cases := []struct {
		name, addr, want string
		args             []string
	}{
		{"silent server", silent, "connected, but no 9P answer within 1s (--timeout)", []string{"9p", "--addr", silent, "--timeout", "1s", "ls", "/"}},
		{"silent server, flags after the verb", silent, "connected, but no 9P answer within 1s (--timeout)", []string{"9p", "ls", "--addr", silent, "--timeout", "1s", "/"}},
		{"silent server, members", silent, "connected, but no 9P answer within 1s (--timeout)", []string{"members", "--addr", silent, "--timeout", "1s"}},
	}
	if bh, ok := cliBlackhole(t); ok {
		cases = append(cases, struct {
			name, addr, want string
			args             []string
		}{"connect never completes", bh, "no connection within 1s (--timeout)", []string{"9p", "ls", "--timeout", "1s", "--addr", bh, "/"}})
	} else {
		t.Log("the kernel completed every connect to a full backlog: no blackhole case")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := cliRun(t, nil, nil, tc.args...)
			took := time.Since(start)
			prefix := "mfs 9p"
			if tc.args[0] == "members" {
				prefix = "mfs members"
			}
			cliWant(t, r, 1, prefix+": connect "+tc.addr+": "+tc.want, "")
			// A second of timeout plus the process' start (slow with -race).
			if took < time.Second || took > 4*time.Second {
				t.Errorf("took %v, want about 1s", took)
			}
		})
	}
}

// TestCLIANameChecked checks that a bad attach name is a usage error
// naming the bad element, found before connecting (the address refuses).
func TestCLIANameChecked(t *testing.T) {
	refused := cliRefusedAddr(t)
	tests := []struct{ aname, stderr string }{
		{"bogus=1", `mfs 9p: --aname bogus=1: unknown context key "bogus" (want home or selected)`},
		{"home=2/Selected=3/tmp", `mfs 9p: --aname home=2/Selected=3/tmp: unknown context key "Selected" (want home or selected)`},
		{"selected=02", `mfs 9p: --aname selected=02: selected: node number "02": want 1, 2, … (decimal, no sign or leading zero)`},
		{"home=x", `mfs 9p: --aname home=x: home: node number "x": want 1, 2, … (decimal, no sign or leading zero)`},
		{"2/../3", `mfs 9p: --aname 2/../3: "..": attach names are not cleaned, write the path without . and ..`},
	}
	for _, tt := range tests {
		cliWant(t, cliRun(t, nil, nil, "9p", "--addr", refused, "--aname", tt.aname, "ls"), 2, tt.stderr, "")
		cliWant(t, cliRun(t, nil, nil, "9p", "ls", "--addr", refused, "--aname", tt.aname), 2, tt.stderr, "")
	}
	cliWant(t, cliRun(t, nil, nil, "members", "--addr", refused, "--aname", "bogus=1"), 2,
		`mfs members: --aname bogus=1: unknown context key "bogus" (want home or selected)`, "")
}

// TestCLIMembersOfExport checks members and nodes against a plain export,
// which has no node table.
func TestCLIMembersOfExport(t *testing.T) {
	addr := cliStartExport(t, t.TempDir())
	cliWant(t, cliRun(t, nil, nil, "members", "--addr", addr), 1,
		"mfs members: "+addr+" is an export, not a node's namespace: it has no node table", "")
	cliWant(t, cliRun(t, nil, []string{"MFS_ADDR=" + addr}, "9p", "nodes"), 1,
		"mfs 9p: "+addr+" is an export, not a node's namespace: it has no node table", "")
}

// TestCLICtlAndNodes runs against a 2-node cluster: a select written to
// ctl by a one-shot write warns that it ends with the command, select
// needs a verb, an unknown node reads "no such node" through ctl, the
// select verb and attach names alike, and members below the namespace
// root says why there is no table.
func TestCLICtlAndNodes(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
	addr := c.Node(1).Addr

	cliWant(t, cliRun9p(t, addr, "select 2\n", "write", "/ctl"), 0,
		`mfs 9p: warning: "select 2" lasts only as long as this attach, which ends with this command; `+
			"to run a verb on node 2: mfs 9p select 2 VERB [ARGS…], or mfs 9p --aname selected=2 VERB [ARGS…]", "")
	cliWant(t, cliRun9p(t, addr, "", "read", "/ctl"), 0, "", "here 1 home 1 selected 1\n")
	cliWant(t, cliRun9p(t, addr, "", "select", "2"), 2,
		"mfs 9p: select 2: missing verb: the selection lasts for one attach, this command "+
			"(mfs 9p select 2 VERB [ARGS…], or mfs 9p --aname selected=2 VERB [ARGS…])", "")
	cliWant(t, cliRun9p(t, addr, "", "select", "2", "read", "/ctl"), 0, "", "here 1 home 1 selected 2\n")
	// The verb select runs shares its connection: no connection flags.
	cliWant(t, cliRun9p(t, addr, "", "select", "2", "ls", "--addr", addr, "/"), 2,
		"mfs 9p: ls: unknown flag --addr (connection flags go before select: mfs 9p --addr … select N VERB …)", "")

	const noNode = "no such node"
	cliWant(t, cliRun9p(t, addr, "select 9\n", "write", "/ctl"), 1, "mfs 9p: write /ctl: select 9: "+noNode, "")
	cliWant(t, cliRun9p(t, addr, "", "select", "9", "ls", "/"), 1, "mfs 9p: select 9: "+noNode, "")
	cliWant(t, cliRun9p(t, addr, "", "--aname", "selected=9", "ls"), 1, `mfs 9p: attach "selected=9": selected=9: `+noNode, "")
	cliWant(t, cliRun9p(t, addr, "", "--aname", "home=2/selected=9/tmp", "ls"), 1, `mfs 9p: attach "home=2/selected=9/tmp": selected=9: `+noNode, "")
	cliWant(t, cliRun9p(t, addr, "", "--aname", "home=9", "ls"), 1, `mfs 9p: attach "home=9": home=9: `+noNode, "")
	// A missing path after good elements is a missing file.
	cliWant(t, cliRun9p(t, addr, "", "--aname", "selected=2/nosuch", "ls"), 1, `mfs 9p: attach "selected=2/nosuch": no such file or directory`, "")
	cliWant(t, cliRun9p(t, addr, "", "--aname", "selected=2/selected", "read", "node-2.txt"), 0, "", "node 2\n")
	cliWant(t, cliRun9p(t, addr, "", "--aname", "bogus=1", "ls"), 2, `mfs 9p: --aname bogus=1: unknown context key "bogus" (want home or selected)`, "")
	cliWant(t, cliRun9p(t, addr, "", "ls", "--aname", "selected=9"), 1, `mfs 9p: attach "selected=9": selected=9: `+noNode, "")

	cliWant(t, cliRun(t, nil, nil, "members", "--addr", addr, "--aname", "2"), 1,
		"mfs members: "+addr+" --aname 2: no node table there (a node's namespace has it at its root: attach without a path)", "")
	cliWant(t, cliRun(t, nil, nil, "members", "--addr", addr, "--aname", "selected=2"), 0, "", "-")
}
