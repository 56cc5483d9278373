package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mfs/internal/dial"
	"mfs/internal/dial/dialtest"
	"mfs/tests/clusterutil"
	"mfs/tests/diodtest"
)

// cliResult is what one run of the mfs binary did.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cliBuild returns the path of the mfs binary, built once for the test run
// by clusterutil (with -race when the tests run with it).
func cliBuild(t *testing.T) string {
	t.Helper()
	return clusterutil.Binary(t)
}

// cliRun runs the mfs binary with args and stdin, with $MFS_ADDR unset
// unless env sets it, and no more than a minute to finish.
func cliRun(t *testing.T, stdin io.Reader, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBuild(t), args...)
	cmd.Env = append(cliEnv(), env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("mfs %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{
		stdout: stdout.String(),
		stderr: stderr.String(),
		code:   cmd.ProcessState.ExitCode(),
	}
}

// cliEnv is the environment without MFS_ADDR.
func cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MFS_ADDR=") {
			env = append(env, kv)
		}
	}
	return env
}

// cli9p runs `mfs 9p --addr addr args…` and fails the test unless it exits
// 0 with nothing on stderr; it returns stdout.
func cli9p(t *testing.T, addr string, stdin string, args ...string) string {
	t.Helper()
	r := cliRun(t, strings.NewReader(stdin), nil, append([]string{"9p", "--addr", addr}, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("mfs 9p %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// cliStartExport serves dir with `mfs export` on a unix socket and returns
// its address once it answers 9P.
func cliStartExport(t *testing.T, dir string) string {
	t.Helper()
	return cliStartExportAs(t, cliBuild(t), dir, t.TempDir(), nil)
}

// cliStartExportAs is cliStartExport with the binary bin, the socket in
// sockDir, and the server running with the credential cred (nil: ours).
func cliStartExportAs(t *testing.T, bin, dir, sockDir string, cred *syscall.Credential) string {
	t.Helper()
	addr := "unix:" + filepath.Join(sockDir, "export.sock")
	var out diodSyncBuffer
	cmd := exec.Command(bin, "export", "--root", dir, "--listen", addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	exited := cliStart(t, cmd, &out)
	cliWaitFor9P(t, addr, exited, &out)
	return addr
}

// cliStart starts cmd with its output in out and kills it when the test
// ends. Wait's result is sent on the channel returned; whoever takes it
// must send it back, for the cleanup.
func cliStart(t *testing.T, cmd *exec.Cmd, out *diodSyncBuffer) chan error {
	t.Helper()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return exited
}

// cliWaitFor9P polls addr until it answers a 9P version exchange, failing
// the test if the server exits first or 20 s pass.
func cliWaitFor9P(t *testing.T, addr string, exited chan error, out *diodSyncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := dial.Dial(ctx, addr, dial.Options{Timeout: time.Second})
		cancel()
		if err == nil {
			c.Close()
			return
		}
		select {
		case werr := <-exited:
			exited <- werr
			t.Fatalf("server on %s exited (%v): %s", addr, werr, strings.TrimSpace(out.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server on %s: no 9P answer after 20s (last: %v): %s", addr, err, strings.TrimSpace(out.String()))
		}
	}
}

// TestCLIVerbs drives every file verb of `mfs 9p` against an export and
// checks each effect on the directory on disk.
func TestCLIVerbs(t *testing.T) {
	dir := t.TempDir()
	addr := cliStartExport(t, dir)
	disk := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("on disk: %v", err)
		}
		return string(b)
	}
	gone := func(name string) {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s still on disk (%v)", name, err)
		}
	}

	cli9p(t, addr, "hello\n", "write", "/a.txt")
	if got := disk("a.txt"); got != "hello\n" {
		t.Fatalf("write: disk has %q", got)
	}
	cli9p(t, addr, "world\n", "write", "--append", "a.txt")
	if got := disk("a.txt"); got != "hello\nworld\n" {
		t.Fatalf("write --append: disk has %q", got)
	}
	if got := cli9p(t, addr, "", "read", "/x/../a.txt"); got != "hello\nworld\n" {
		t.Fatalf("read: got %q", got)
	}
	cli9p(t, addr, "new", "write", "/a.txt")
	if got := disk("a.txt"); got != "new" {
		t.Fatalf("write (truncate): disk has %q", got)
	}

	cli9p(t, addr, "", "mkdir", "/d")
	cli9p(t, addr, "", "mkdir", "-p", "/d/e/f", "/d/e")
	if fi, err := os.Stat(filepath.Join(dir, "d/e/f")); err != nil || !fi.IsDir() {
		t.Fatalf("mkdir -p: %v", err)
	}
	cli9p(t, addr, "", "ln", "-s", "../a.txt", "/d/link")
	if got := cli9p(t, addr, "", "readlink", "/d/link"); got != "../a.txt\n" {
		t.Fatalf("readlink: got %q", got)
	}
	if target, err := os.Readlink(filepath.Join(dir, "d/link")); err != nil || target != "../a.txt" {
		t.Fatalf("ln -s: on disk %q, %v", target, err)
	}
	cli9p(t, addr, "", "mv", "/a.txt", "/d/b.txt")
	gone("a.txt")
	if got := disk("d/b.txt"); got != "new" {
		t.Fatalf("mv: disk has %q", got)
	}
	cli9p(t, addr, "", "mv", "/d/b.txt", "/d/e")
	if got := disk("d/e/b.txt"); got != "new" {
		t.Fatalf("mv into a directory: disk has %q", got)
	}

	if got := cli9p(t, addr, "", "ls", "/d"); got != "e\nlink\n" {
		t.Fatalf("ls /d: got %q", got)
	}
	if got := cli9p(t, addr, "", "ls", "-d", "/d", "d/e/b.txt"); got != "/d\n/d/e/b.txt\n" {
		t.Fatalf("ls -d: got %q", got)
	}

	stat := cli9p(t, addr, "", "stat", "/d/e/b.txt")
	for _, want := range []string{"path         /d/e/b.txt\n", "size         3\n", "nlink        1\n", "mode         -rw-"} {
		if !strings.Contains(stat, want) {
			t.Errorf("stat: no %q in\n%s", want, stat)
		}
	}

	df := strings.Split(strings.TrimSpace(cli9p(t, addr, "", "df", "/d")), "\n")
	if len(df) != 2 || !strings.HasPrefix(df[0], "Path") || strings.Fields(df[1])[0] != "/d" {
		t.Errorf("df: got %q", df)
	}
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(df[1])[1], strconv.FormatUint(sfs.Blocks*uint64(sfs.Bsize)/1024, 10); got != want {
		t.Errorf("df: 1K-blocks %s, statfs says %s", got, want)
	}

	// select writes "select N" to the attach's ctl and runs the rest of
	// the line on the same attach; on an export, ctl is a plain file.
	if err := os.WriteFile(filepath.Join(dir, "ctl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cli9p(t, addr, "", "select", "2", "read", "/ctl"); got != "select 2\n" {
		t.Fatalf("select 2 read /ctl: got %q", got)
	}
	if got := cli9p(t, addr, "", "select", "3", "ls", "-ld", "/d"); !strings.HasPrefix(got, "drwx") || !strings.HasSuffix(got, " /d\n") {
		t.Fatalf("select 3 ls -ld /d: got %q", got)
	}

	cli9p(t, addr, "", "rm", "/d/link")
	gone("d/link")
	cli9p(t, addr, "", "rm", "-r", "/d")
	gone("d")
}

// TestCLILsLong checks every column of `ls -l` but the time against the
// directory on disk: mode, links, owner, group, size, name, symlink target.
func TestCLILsLong(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"small": "x", "big": strings.Repeat("y", 100000), "empty": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(filepath.Join(dir, "small"), 0o4755))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	must(os.Mkdir(filepath.Join(dir, "sub/inner"), 0o755))
	must(os.Chmod(filepath.Join(dir, "sub"), 0o1777))
	must(os.Symlink("small", filepath.Join(dir, "sym")))
	must(os.Link(filepath.Join(dir, "big"), filepath.Join(dir, "big2")))
	addr := cliStartExport(t, dir)

	cliCheckLsLong(t, cli9p(t, addr, "", "ls", "-l", "/"), dir)
}

// cliCheckLsLong checks `ls -l` output for a directory against dir on disk:
// one line per entry in name order, and every column but the time.
func cliCheckLsLong(t *testing.T, out, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(ents) {
		t.Fatalf("ls -l: %d lines for %d entries:\n%s", len(lines), len(ents), out)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for i, line := range lines {
		// mode links owner group size month day time|year name [-> target]
		f := strings.Fields(line)
		if len(f) < 9 {
			t.Fatalf("ls -l line %q: want at least 9 fields", line)
		}
		name := names[i]
		var st syscall.Stat_t
		must(syscall.Lstat(filepath.Join(dir, name), &st))
		fi, err := os.Lstat(filepath.Join(dir, name))
		must(err)
		want := []string{
			cliModeString(fi.Mode()),
			strconv.FormatUint(uint64(st.Nlink), 10),
			cliUserName(st.Uid),
			cliGroupName(st.Gid),
			strconv.FormatInt(st.Size, 10),
		}
		for k, w := range want {
			if f[k] != w {
				t.Errorf("%s: column %d is %q, on disk %q (line %q)", name, k+1, f[k], w, line)
			}
		}
		wantName := name
		if fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(filepath.Join(dir, name))
			wantName += " -> " + target
		}
		if got := strings.Join(f[8:], " "); got != wantName {
			t.Errorf("name column %q, want %q", got, wantName)
		}
		if _, err := time.Parse("Jan", f[5]); err != nil {
			t.Errorf("%s: month column %q: %v", name, f[5], err)
		}
	}
}

// cliModeString is ls's mode column for an os.FileMode, written apart from
// the command's own (which works on 9P modes) to check it.
func cliModeString(m os.FileMode) string {
	s := []byte("----------")
	switch {
	case m.IsDir():
		s[0] = 'd'
	case m&os.ModeSymlink != 0:
		s[0] = 'l'
	}
	for i, c := range "rwxrwxrwx" {
		if m.Perm()&(1<<(8-i)) != 0 {
			s[1+i] = byte(c)
		}
	}
	fold := func(i int, on bool, lower byte) {
		if on {
			if s[i] == 'x' {
				s[i] = lower
			} else {
				s[i] = lower - 'a' + 'A'
			}
		}
	}
	fold(3, m&os.ModeSetuid != 0, 's')
	fold(6, m&os.ModeSetgid != 0, 's')
	fold(9, m&os.ModeSticky != 0, 't')
	return string(s)
}

func cliUserName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return u.Username
	}
	return strconv.Itoa(int(uid))
}

func cliGroupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.Itoa(int(gid))); err == nil {
		return g.Name
	}
	return strconv.Itoa(int(gid))
}

// TestCLIErrors checks the exit status and the one stderr line of every
// kind of failure: 1 for a failed operation, 2 for a usage error.
func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "full"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "full/x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	addr := cliStartExport(t, dir)
	refused := cliRefusedAddr(t)
	junk := cliJunkServer(t)

	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string // exact, without the newline; "" only checks code
	}{
		{"missing file", nil, []string{"9p", "--addr", addr, "read", "/nope"}, 1, "mfs 9p: read /nope: no such file or directory"},
		{"missing dir in ls", nil, []string{"9p", "--addr", addr, "ls", "/7"}, 1, "mfs 9p: ls /7: no such file or directory"},
		{"read a directory", nil, []string{"9p", "--addr", addr, "read", "/"}, 1, "mfs 9p: read /: is a directory"},
		{"rm a directory without -r", nil, []string{"9p", "--addr", addr, "rm", "/full"}, 1, "mfs 9p: rm /full: directory not empty"},
		{"mkdir existing", nil, []string{"9p", "--addr", addr, "mkdir", "/full"}, 1, "mfs 9p: mkdir /full: file exists"},
		{"read a symlink", nil, []string{"9p", "--addr", addr, "read", "/link"}, 1, `mfs 9p: read /link: is a symbolic link to "f" (not followed; use its target)`},
		{"write a symlink", nil, []string{"9p", "--addr", addr, "write", "/link"}, 1, `mfs 9p: write /link: is a symbolic link to "f" (not followed; use its target)`},
		{"readlink of a file", nil, []string{"9p", "--addr", addr, "readlink", "/f"}, 1, "mfs 9p: readlink /f: invalid argument"},
		{"refused connection", nil, []string{"9p", "--addr", refused, "ls"}, 1, "mfs 9p: connect " + refused + ": connection refused (no node runs here: start one with mfs node, or give --addr)"},
		{"no socket", nil, []string{"9p", "--addr", "unix:" + dir + "/none.sock", "ls"}, 1, "mfs 9p: connect unix:" + dir + "/none.sock: no such file or directory (no node runs here: start one with mfs node, or give --addr)"},
		{"address from $MFS_ADDR", []string{"MFS_ADDR=" + refused}, []string{"9p", "ls"}, 1, "mfs 9p: connect " + refused + ": connection refused (no node runs here: start one with mfs node, or give --addr)"},
		{"not a 9P server", nil, []string{"9p", "--addr", junk, "ls"}, 1, "mfs 9p: connect " + junk + ": version: the server does not speak 9P (reply starts \"HTTP/1.\")"},
		{"bad aname", nil, []string{"9p", "--addr", addr, "--aname", "nosuch", "ls"}, 1, `mfs 9p: attach "nosuch": no such file or directory`},
		{"members refused", nil, []string{"members", "--addr", refused}, 1, "mfs members: connect " + refused + ": connection refused (no node runs here: start one with mfs node, or give --addr)"},
		{"bad address", nil, []string{"9p", "--addr", "a:b:c", "ls"}, 2, `mfs 9p: --addr: address "a:b:c": want host, host:port, [ipv6]:port or unix:/path`},
		{"unknown verb", nil, []string{"9p", "--addr", addr, "frob", "/f"}, 2, `mfs 9p: unknown verb "frob" (see mfs 9p --help)`},
		{"no verb", nil, []string{"9p", "--addr", addr}, 2, "mfs 9p: missing verb (see mfs 9p --help)"},
		{"missing argument", nil, []string{"9p", "--addr", addr, "read"}, 2, "mfs 9p: read: want read PATH (see mfs 9p read --help)"},
		{"extra argument", nil, []string{"9p", "--addr", addr, "mv", "/a", "/b", "/c"}, 2, "mfs 9p: mv: want mv OLD NEW (see mfs 9p mv --help)"},
		{"bad verb flag", nil, []string{"9p", "--addr", addr, "ls", "-z", "/"}, 2, "mfs 9p: ls: unknown flag -z"},
		{"bad 9p flag", nil, []string{"9p", "--bogus", "ls"}, 2, "mfs 9p: unknown flag --bogus"},
		{"bad msize", nil, []string{"9p", "--addr", addr, "--msize", "12", "ls"}, 2, "mfs 9p: --msize 12: want 4096 or more"},
		{"bad node number", nil, []string{"9p", "--addr", addr, "select", "two"}, 2, `mfs 9p: select: node number "two": want 1, 2, …`},
		{"select without ctl", nil, []string{"9p", "--addr", addr, "select", "2", "ls"}, 1, "mfs 9p: select 2: no ctl file at the attach root (not an mfs namespace?)"},
		{"select then unknown verb", nil, []string{"9p", "--addr", addr, "select", "2", "frob"}, 2, ""},
		{"members takes no argument", nil, []string{"members", "--addr", addr, "x"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cliRun(t, nil, tt.env, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
				t.Errorf("stderr %q: want exactly one line", r.stderr)
			}
			if tt.stderr != "" && strings.TrimSuffix(r.stderr, "\n") != tt.stderr {
				t.Errorf("stderr %q\nwant   %q", strings.TrimSuffix(r.stderr, "\n"), tt.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

// cliServer listens on a loopback port and runs handle on every
// connection (closing it afterwards) until the test ends.
func cliServer(t *testing.T, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// cliJunkServer answers every connection with a line of HTTP, not 9P.
func cliJunkServer(t *testing.T) string {
	return cliServer(t, func(c net.Conn) { c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n")) })
}

// TestCLIPermissionDenied runs an export as an unprivileged user (the
// test must run as root to switch) and checks that the server's EACCES
// reaches the shell as "permission denied", exit 1.
func TestCLIPermissionDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the export as another user")
	}
	const nobody = 65534
	// Everything the unprivileged server needs: a binary, the export and
	// a socket directory it may enter.
	base := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(filepath.Dir(base), 0o755))
	must(os.Chmod(base, 0o755))
	bin := filepath.Join(base, "mfs")
	src, err := os.ReadFile(cliBuild(t))
	must(err)
	must(os.WriteFile(bin, src, 0o755))
	dir, sock := filepath.Join(base, "export"), filepath.Join(base, "sock")
	must(os.Mkdir(dir, 0o755))
	must(os.Mkdir(sock, 0o777))
	must(os.Chmod(sock, 0o777))
	must(os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600))
	must(os.Mkdir(filepath.Join(dir, "locked"), 0o700))
	addr := cliStartExportAs(t, bin, dir, sock, &syscall.Credential{Uid: nobody, Gid: nobody})

	// The CLI runs as root and claims root: an export that is not root
	// cannot act as anyone else, so the attach itself is refused.
	refused := `mfs 9p: attach "": operation not permitted`
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"read", "/secret"}, refused},
		{[]string{"ls", "/locked"}, refused},
		{[]string{"write", "/new"}, refused},
		{[]string{"rm", "/secret"}, refused},
	}
	for _, tt := range tests {
		r := cliRun(t, strings.NewReader("data"), nil, append([]string{"9p", "--addr", addr}, tt.args...)...)
		if r.code != 1 || r.stderr != tt.stderr+"\n" {
			t.Errorf("%s: exit %d, stderr %q; want 1, %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "secret")); err != nil {
		t.Errorf("secret after a refused rm: %v", err)
	}
}

// cliRefusedAddr returns a loopback address nothing listens on: a port the
// kernel handed out and that was closed again.
func cliRefusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestCLIReadBoundedMemory reads a 1 GiB sparse file through `mfs 9p read`
// and checks every byte arrives (zeros, then a marker at the very end) while
// the client's peak RSS stays small: read streams, it does not buffer.
func TestCLIReadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1 GiB")
	}
	const size = 1 << 30
	const marker = "THE END"
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(marker), size-int64(len(marker))); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	addr := cliStartExport(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Without the race detector: its shadow memory would be measured too.
	cmd := exec.CommandContext(ctx, clusterutil.PlainBinary(t), "9p", "--addr", addr, "read", "/sparse")
	cmd.Env = cliEnv()
	check := &cliZeroTail{tail: marker, size: size}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = check, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := cliWatchPeakRSS(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("read: %v: %s", err, stderr.String())
	}
	if err := check.result(); err != nil {
		t.Fatal(err)
	}
	rss := peak()
	t.Logf("peak RSS (VmHWM) of mfs 9p read of 1 GiB: %d KiB", rss>>10)
	if rss == 0 {
		t.Fatal("VmHWM of the reader was never read")
	}
	if rss > 64<<20 {
		t.Errorf("peak RSS %d MiB, want < 64 MiB", rss>>20)
	}
}

// cliWatchPeakRSS samples the VmHWM (peak resident set) of process pid until
// it exits, and returns a function, to call once the process is waited for,
// giving the largest value seen, in bytes.
//
// Not rusage's Maxrss: Go starts a child with vfork, so until its exec the
// child runs in the parent's memory, and Linux folds that (the whole test
// binary's peak) into the child's Maxrss. VmHWM belongs to the memory map the
// exec made, so it is the reader's own. The mark only grows, so the last
// sample before exit is within one interval of the true peak.
func cliWatchPeakRSS(pid int) func() int64 {
	var peak atomic.Int64
	done, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop: // reaped: the pid may name another process now
				return
			default:
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				return // exited (or reaped)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
					if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb<<10 > peak.Load() {
						peak.Store(kb << 10)
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// cliZeroTail checks a stream of size bytes: zeros, then tail.
type cliZeroTail struct {
	tail string
	size int64
	n    int64
	bad  error
}

func (z *cliZeroTail) Write(p []byte) (int, error) {
	for i, b := range p {
		off := z.n + int64(i)
		want := byte(0)
		if k := off - (z.size - int64(len(z.tail))); k >= 0 && k < int64(len(z.tail)) {
			want = z.tail[k]
		}
		if b != want && z.bad == nil {
			z.bad = fmt.Errorf("byte %d is %#x, want %#x", off, b, want)
		}
	}
	z.n += int64(len(p))
	return len(p), nil
}

func (z *cliZeroTail) result() error {
	if z.bad != nil {
		return z.bad
	}
	if z.n != z.size {
		return fmt.Errorf("got %d bytes, want %d", z.n, z.size)
	}
	return nil
}

// TestCLIDiod runs the verbs against diod, a 9P2000.L server mfs did not
// write, and checks their effects on disk.
func TestCLIDiod(t *testing.T) {
	if why := diodtest.Missing("diod"); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	addr := diodtest.StartDiod(t, dir)
	run := func(stdin string, args ...string) string {
		t.Helper()
		return cli9p(t, addr, stdin, append([]string{"--aname", dir}, args...)...)
	}
	run("over diod\n", "write", "/f")
	if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "over diod\n" {
		t.Fatalf("write: disk has %q, %v", b, err)
	}
	if got := run("", "read", "/f"); got != "over diod\n" {
		t.Fatalf("read: got %q", got)
	}
	run("", "mkdir", "-p", "/d/e")
	run("", "mv", "/f", "/d/g")
	if got := run("", "ls", "/d"); got != "e\ng\n" {
		t.Fatalf("ls: got %q", got)
	}
	got := run("", "ls", "-l", "/d/g")
	if f := strings.Fields(got); len(f) != 9 || !strings.HasPrefix(f[0], "-rw") || f[4] != "10" || f[8] != "/d/g" {
		t.Fatalf("ls -l: got %q", got)
	}
	run("", "rm", "-r", "/d")
	if _, err := os.Lstat(filepath.Join(dir, "d")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rm -r: %v", err)
	}
}

// TestCLICluster scripts a real 3-node cluster of `mfs node` processes
// with `mfs 9p`: a file written through node 1 into /2 is on node 2's disk
// and reads back through node 3; select and attach names pick /selected;
// the errors of a cluster (no such node) come out as
// one line and exit 1; diod's tools read the namespace under non-empty
// attach names.
func TestCLICluster(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 3})
	n1, n2, n3 := c.Node(1), c.Node(2), c.Node(3)

	cli9p(t, n1.Addr, "", "mkdir", "-p", "/2/cli")
	cli9p(t, n1.Addr, "written on 1\n", "write", "/2/cli/hello.txt")
	if b, err := os.ReadFile(filepath.Join(n2.Dir, "cli/hello.txt")); err != nil || string(b) != "written on 1\n" {
		t.Fatalf("node 2's disk has %q, %v", b, err)
	}
	if got := cli9p(t, n3.Addr, "", "read", "/2/cli/hello.txt"); got != "written on 1\n" {
		t.Fatalf("read on node 3: %q", got)
	}
	if err := os.Symlink("hello.txt", filepath.Join(n2.Dir, "cli/link")); err != nil {
		t.Fatal(err)
	}
	cliCheckLsLong(t, cli9p(t, n3.Addr, "", "ls", "-l", "/2/cli"), filepath.Join(n2.Dir, "cli"))
	cliCheckLsLong(t, cli9p(t, n3.Addr, "", "ls", "-l", "/here"), n3.Dir)

	if got := cli9p(t, n1.Addr, "", "select", "2", "read", "/selected/cli/hello.txt"); got != "written on 1\n" {
		t.Fatalf("select 2 read /selected/…: %q", got)
	}
	if got := cli9p(t, n1.Addr, "", "select", "3", "read", "/ctl"); got != "here 1 home 1 selected 3\n" {
		t.Fatalf("select 3 read /ctl: %q", got)
	}
	if got := cli9p(t, n1.Addr, "", "--aname", "selected=3", "read", "/selected/node-3.txt"); got != "node 3\n" {
		t.Fatalf("--aname selected=3: %q", got)
	}

	table := cli9p(t, n2.Addr, "", "nodes")
	if members := cliRun(t, nil, nil, "members", "--addr", n2.Addr); members.code != 0 || members.stdout != table {
		t.Errorf("mfs members: exit %d, %q; mfs 9p nodes: %q", members.code, members.stdout, table)
	}
	rows := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(rows) != 4 || strings.Join(strings.Fields(rows[0]), " ") != "NODE ADDRESS STATE MARKERS" {
		t.Fatalf("nodes: %q", table)
	}
	for i, row := range rows[1:] {
		f := strings.Fields(row)
		if len(f) != 4 || f[0] != strconv.Itoa(i+1) || f[2] != "alive" {
			t.Errorf("nodes row %q: want node %d alive", row, i+1)
		}
		if here := strings.Contains(f[3], "here"); here != (i+1 == 2) {
			t.Errorf("nodes row %q: here marker on the wrong node (asked node 2)", row)
		}
	}

	errs := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown node", []string{"ls", "/7"}, "mfs 9p: ls /7: no such file or directory"},
		{"select unknown node", []string{"select", "7", "ls"}, "mfs 9p: select 7: no such node"},
		{"bad aname", []string{"--aname", "selected=9", "ls"}, `mfs 9p: attach "selected=9": selected=9: no such node`},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			r := cliRun(t, nil, nil, append([]string{"9p", "--addr", n1.Addr}, e.args...)...)
			if r.code != 1 || r.stderr != e.stderr+"\n" {
				t.Errorf("exit %d, stderr %q; want 1, %q", r.code, r.stderr, e.stderr)
			}
		})
	}
	t.Run("diod tools", func(t *testing.T) {
		if why := diodtest.Missing("diodls", "diodcat"); why != "" {
			t.Skip(why)
		}
		if !strings.HasPrefix(n1.Addr, "127.") {
			t.Skipf("diod's tools speak TCP only; the namespace is on %s", n1.Addr)
		}
		for _, tc := range []struct{ aname, dir string }{
			{"2", n2.Dir},
			{"selected=3/selected", n3.Dir},
			{"here", n1.Dir},
		} {
			t.Run(tc.aname, func(t *testing.T) {
				diodtest.Client{Addr: n1.Addr, AName: tc.aname}.CheckTree(t, tc.dir)
			})
		}
	})
}

// TestCLIServerStopsAnswering runs a verb against a server that completes
// the version handshake and then never answers: the verb must end with
// exit status 1 and one line once --timeout passes, not hang.
func TestCLIServerStopsAnswering(t *testing.T) {
	addr := cliServer(t, dialtest.AnswerVersionOnly)
	r := cliRun(t, nil, nil, "9p", "--addr", addr, "--timeout", "300ms", "ls", "/")
	want := `mfs 9p: attach "": no reply from the server (--timeout)` + "\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("ls against a silent server: exit %d, stderr %q; want exit 1, %q", r.code, r.stderr, want)
	}
}
