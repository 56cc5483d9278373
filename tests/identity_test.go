package tests

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/dial"
	"mfs/internal/fcall"
	"mfs/tests/clusterutil"
)

// The identity tests run 9P clients as other users: the test binary starts
// itself again with MFS_IDENTITY_CLIENT set and real credentials
// (SysProcAttr.Credential), and identityClient runs the script it is given
// and prints one result a line.
const identityEnv = "MFS_IDENTITY_CLIENT"

// identityClient runs the script in $MFS_IDENTITY_SCRIPT against
// $MFS_IDENTITY_CLIENT (an mfs address), one operation a line:
//
//	claim UID            attach with this n_uname from now on (default: own uid)
//	dialect D            speak 9p2000, 9p2000.u or 9p2000.L from now on
//	read PATH            print the content
//	write PATH DATA      create or truncate, then write
//	mkdir PATH
//	rm PATH
//	chown PATH UID GID
//	chmod PATH MODE      (octal)
//	mknod PATH           a character device 1,3
//	setxattr PATH NAME [HEX]  value "v", or the bytes given
//
// Each line prints "ok", "ok CONTENT" or the errno's text.
func identityClient() int {
	addr := os.Getenv(identityEnv)
	claim := p9.UID(os.Getuid())
	dialect := fcall.L
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, line := range strings.Split(os.Getenv("MFS_IDENTITY_SCRIPT"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "claim" {
			v, _ := strconv.ParseUint(f[1], 10, 32)
			claim = p9.UID(v)
			continue
		}
		if f[0] == "dialect" {
			dialect, _ = fcall.ParseDialect(f[1])
			continue
		}
		res, err := identityOp(addr, dialect, claim, f)
		switch {
		case err != nil:
			var e linux.Errno
			if errors.As(err, &e) {
				fmt.Fprintln(out, unix.Errno(e).Error())
			} else {
				fmt.Fprintln(out, "error "+err.Error())
			}
		case res != "":
			fmt.Fprintln(out, "ok "+res)
		default:
			fmt.Fprintln(out, "ok")
		}
	}
	return 0
}

func identityOp(addr string, dialect fcall.Dialect, claim p9.UID, f []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dial.Dial(ctx, addr, dial.Options{UName: strconv.Itoa(int(claim)), UID: claim, ReplyTimeout: 10 * time.Second, Dialect: dialect})
	if err != nil {
		return "", err
	}
	defer c.Close()
	if c.Dialect() != dialect {
		return "", fmt.Errorf("session in %v, asked for %v", c.Dialect(), dialect)
	}
	root, err := c.Attach("")
	if err != nil {
		return "", fmt.Errorf("attach: %w", err)
	}
	defer root.Close()
	names := strings.Split(strings.Trim(f[1], "/"), "/")
	dir, name := names[:len(names)-1], names[len(names)-1]
	_, d, err := root.Walk(dir)
	if err != nil {
		return "", err
	}
	defer d.Close()
	at := func() (p9.File, error) {
		_, x, err := d.Walk([]string{name})
		return x, err
	}
	switch f[0] {
	case "read":
		x, err := at()
		if err != nil {
			return "", err
		}
		defer x.Close()
		if _, _, err := x.Open(p9.ReadOnly); err != nil {
			return "", err
		}
		b := make([]byte, 4096)
		n, err := x.ReadAt(b, 0)
		if err != nil && n == 0 && err.Error() != "EOF" {
			return "", err
		}
		return string(b[:n]), nil
	case "write":
		x, err := at()
		if err == nil {
			defer x.Close()
			if _, _, err := x.Open(p9.WriteOnly | p9.OpenFlags(unix.O_TRUNC)); err != nil {
				return "", err
			}
		} else {
			x, _, _, err = d.Create(name, p9.WriteOnly, 0o644, claim, p9.NoGID)
			if err != nil {
				return "", err
			}
			defer x.Close()
		}
		_, err = x.WriteAt([]byte(f[2]), 0)
		return "", err
	case "mkdir":
		_, err := d.Mkdir(name, 0o755, claim, p9.NoGID)
		return "", err
	case "rm":
		return "", d.UnlinkAt(name, 0)
	case "mknod":
		_, err := d.Mknod(name, p9.ModeCharacterDevice|0o666, 1, 3, claim, p9.NoGID)
		return "", err
	case "chown", "chmod", "setxattr":
		x, err := at()
		if err != nil {
			return "", err
		}
		defer x.Close()
		switch f[0] {
		case "chown":
			u, _ := strconv.ParseUint(f[2], 10, 32)
			g, _ := strconv.ParseUint(f[3], 10, 32)
			return "", x.SetAttr(p9.SetAttrMask{UID: true, GID: true}, p9.SetAttr{UID: p9.UID(u), GID: p9.GID(g)})
		case "chmod":
			m, _ := strconv.ParseUint(f[2], 8, 32)
			return "", x.SetAttr(p9.SetAttrMask{Permissions: true}, p9.SetAttr{Permissions: p9.FileMode(m)})
		default:
			v := []byte("v")
			if len(f) > 3 {
				v, _ = hex.DecodeString(f[3])
			}
			return "", x.SetXattr(f[2], v, 0)
		}
	}
	return "", fmt.Errorf("unknown operation %q", f[0])
}

// runIdentityClient runs script against addr as uid (its own group, no
// others) and returns the result lines.
func runIdentityClient(t *testing.T, addr string, uid uint32, script ...string) []string {
	t.Helper()
	cmd := exec.Command(identityBinary(t), "-test.run=^$")
	cmd.Env = append(os.Environ(), identityEnv+"="+addr, "MFS_IDENTITY_SCRIPT="+strings.Join(script, "\n"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client as uid %d: %v (%s)", uid, err, out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

var identityBin struct {
	once sync.Once
	path string
	err  error
}

// identityBinary returns a copy of the test binary that other users may
// run (the go tool builds it in a directory only root may enter).
func identityBinary(t *testing.T) string {
	t.Helper()
	identityBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "mfs-identity-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		var b []byte
		if err == nil {
			b, err = os.ReadFile(os.Args[0])
		}
		if err == nil {
			identityBin.path = filepath.Join(dir, "client")
			err = os.WriteFile(identityBin.path, b, 0o755)
		}
		identityBin.err = err
	})
	if identityBin.err != nil {
		t.Fatal(identityBin.err)
	}
	return identityBin.path
}

// identityTree makes an export tree owned by root with what the attacks
// aim at.
func identityTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "export")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	identityFiles(t, dir)
	return dir
}

// identityFiles puts the files the identity tests aim at into dir.
func identityFiles(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	must(os.WriteFile(filepath.Join(dir, "secret"), []byte("root only"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "public"), []byte("everyone"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "sticky"), 0o777))
	must(os.Chmod(filepath.Join(dir, "sticky"), os.ModeSticky|0o777))
	must(os.WriteFile(filepath.Join(dir, "sticky", "other"), []byte("1001's"), 0o644))
	must(os.Chown(filepath.Join(dir, "sticky", "other"), 1001, 1001))
	must(os.Mkdir(filepath.Join(dir, "home1000"), 0o700))
	must(os.Chown(filepath.Join(dir, "home1000"), 1000, 1000))
	must(os.WriteFile(filepath.Join(dir, "home1000", "own"), []byte("mine"), 0o600))
	must(os.Chown(filepath.Join(dir, "home1000", "own"), 1000, 1000))
}

// TestIdentityNamespace: uid 1000 through a node's namespace reaches the
// node's own files (/here, in-process) and another node's (/2, which runs
// the request as uid 1000 because node 1 is root on a privileged port)
// with exactly its own rights on each.
func TestIdentityNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	// The client reaches node 1 over TCP from an ordinary port: the
	// namespace listener is told to believe its claim.
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2, Args: []string{"--tcp-trust", "all"}})
	for _, n := range c.Nodes {
		identityFiles(t, n.Dir)
	}
	for _, node := range []string{"here", "2"} {
		t.Run(node, func(t *testing.T) {
			p := func(op, path string, rest ...string) string {
				return strings.Join(append([]string{op, "/" + node + path}, rest...), " ")
			}
			got := runIdentityClient(t, c.Node(1).Addr, 1000,
				p("read", "/secret"),
				p("read", "/public"),
				p("write", "/public", "x"),
				p("read", "/home1000/own"),
				p("write", "/home1000/new", "hello"),
				p("rm", "/sticky/other"),
				p("chown", "/home1000/own", "0", "0"),
				p("setxattr", "/home1000/own", "trusted.x"),
			)
			want := []string{"permission denied", "ok everyone", "permission denied", "ok mine", "ok", "operation not permitted", "operation not permitted", "operation not permitted"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("uid 1000 through node 1's /%s:\n got %q\nwant %q", node, got, want)
			}
			host := c.Node(1).Dir
			if node == "2" {
				host = c.Node(2).Dir
			}
			checkDisk(t, host)
			var st unix.Stat_t
			if err := unix.Stat(filepath.Join(host, "home1000", "new"), &st); err != nil || st.Uid != 1000 {
				t.Errorf("home1000/new on the host: owner %d (%v), want 1000", st.Uid, err)
			}
		})
	}
}

// TestIdentityUnixSocket: clients running as uid 1000, 1001 and 65534
// reach an export over its unix socket, which knows them by SO_PEERCRED:
// each gets exactly what the kernel would give it locally, a claim of
// another uid is refused, and the disk shows nothing changed by a refused
// operation.
func TestIdentityUnixSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	dir, addr := identityExport(t)
	got := runIdentityClient(t, addr, 1000,
		"read /secret",
		"read /public",
		"write /public overwritten",
		"read /home1000/own",
		"write /home1000/new hello",
		"write /sticky/mine hello",
		"rm /sticky/other",
		"chown /home1000/own 0 0",
		"chmod /home1000/own 4755",
		"mknod /home1000/null",
		"setxattr /home1000/own trusted.x",
		// A well-formed file capability (VFS_CAP_REVISION_2, CAP_CHOWN).
		"setxattr /home1000/own security.capability 0000000201000000000000000000000000000000",
		"setxattr /home1000/own user.x",
		"mkdir /newdir",
		"claim 0",
		"read /secret",
		"claim 1001",
		"read /public",
	)
	want := []string{
		"permission denied",
		"ok everyone",
		"permission denied",
		"ok mine",
		"ok",
		"ok",
		"operation not permitted",
		"operation not permitted",
		"ok", // its own file: setuid is its to set (and to own)
		"operation not permitted",
		"operation not permitted",
		"operation not permitted",
		"ok",
		"permission denied",
		"operation not permitted", // a claim of root on a socket root does not own
		"operation not permitted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("uid 1000 over the unix socket:\n got %q\nwant %q", got, want)
	}
	checkDisk(t, dir)
	for _, p := range []struct {
		path string
		uid  uint32
	}{{"home1000/new", 1000}, {"sticky/mine", 1000}} {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, p.path), &st); err != nil || st.Uid != p.uid {
			t.Errorf("%s: owner %d (%v), want %d", p.path, st.Uid, err, p.uid)
		}
	}
	if got := runIdentityClient(t, addr, 65534, "read /public", "read /secret", "write /sticky/nobody x"); strings.Join(got, ",") != "ok everyone,permission denied,ok" {
		t.Errorf("uid 65534: %q", got)
	}
}

// TestIdentityDialects: the claim rules of 9P2000.L hold in 9P2000 (the
// uname, looked up in the node's passwd) and 9P2000.u (n_uname): over a
// unix socket uid 1000 is itself, with its own rights, and a claim of root
// is refused; over TCP from an ordinary port any claim is the anonymous
// user.
func TestIdentityDialects(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	dir, addr := identityExport(t)
	tcp := freeAddr(t)
	startServerProc(t, clusterutil.Binary(t), "export", "--root", dir, "--listen", tcp)
	for _, d := range []string{"9p2000", "9p2000.u"} {
		got := runIdentityClient(t, addr, 1000,
			"dialect "+d,
			"read /secret",
			"read /public",
			"write /public overwritten",
			"read /home1000/own",
			"write /home1000/new-"+d+" hello",
			"rm /sticky/other",
			"claim 0",
			"read /public",
		)
		want := []string{"permission denied", "ok everyone", "permission denied", "ok mine", "ok", "operation not permitted", "operation not permitted"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("uid 1000 in %s over the unix socket:\n got %q\nwant %q", d, got, want)
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, "home1000", "new-"+d), &st); err != nil || st.Uid != 1000 {
			t.Errorf("%s: home1000/new-%s owned by %d (%v), want 1000", d, d, st.Uid, err)
		}
		got = runIdentityClient(t, tcp, 1000, "dialect "+d, "claim 0", "read /secret", "write /sticky/anon-"+d+" x")
		if strings.Join(got, ",") != "permission denied,ok" {
			t.Errorf("%s over TCP claiming root: %q, want the anonymous user's rights", d, got)
		}
		if err := unix.Stat(filepath.Join(dir, "sticky", "anon-"+d), &st); err != nil || st.Uid != 65534 {
			t.Errorf("%s: sticky/anon-%s owned by %d (%v), want 65534", d, d, st.Uid, err)
		}
	}
	checkDisk(t, dir)
}

// TestIdentityTCP: over TCP from an ordinary port nothing is proven: any
// claim (root's too) is the anonymous user.
func TestIdentityTCP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	dir := identityTree(t)
	addr := freeAddr(t)
	startServerProc(t, clusterutil.Binary(t), "export", "--root", dir, "--listen", addr)
	got := runIdentityClient(t, addr, 1000,
		"claim 0",
		"read /secret",
		"read /public",
		"write /public x",
		"write /sticky/anon x",
		"claim 1000",
		"read /home1000/own",
	)
	want := []string{"permission denied", "ok everyone", "permission denied", "ok", "permission denied"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("uid 1000 over TCP:\n got %q\nwant %q", got, want)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "sticky", "anon"), &st); err != nil || st.Uid != 65534 {
		t.Errorf("sticky/anon: owner %d (%v), want the anonymous 65534", st.Uid, err)
	}
	checkDisk(t, dir)
}

// TestIdentitySquash: with --squash root, root's claims over the unix
// socket are the anonymous user's; with --squash all, everyone's.
func TestIdentitySquash(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	for _, tc := range []struct {
		squash string
		uid    uint32
		want   []string
	}{
		{"root", 0, []string{"permission denied", "ok everyone"}},
		{"root", 1000, []string{"permission denied", "ok mine"}},
		{"all", 1000, []string{"permission denied", "permission denied"}},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.squash, tc.uid), func(t *testing.T) {
			dir := identityTree(t)
			sock := socketDir(t)
			addr := "unix:" + filepath.Join(sock, "export.sock")
			startServerProc(t, clusterutil.Binary(t), "export", "--root", dir, "--listen", addr, "--squash", tc.squash)
			if err := os.Chmod(strings.TrimPrefix(addr, "unix:"), 0o777); err != nil {
				t.Fatal(err)
			}
			second := "read /public"
			if tc.uid == 1000 {
				second = "read /home1000/own"
			}
			got := runIdentityClient(t, addr, tc.uid, "read /secret", second)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// checkDisk checks that the refused operations left the tree as it was.
func checkDisk(t *testing.T, dir string) {
	t.Helper()
	for _, c := range []struct {
		path, data string
		mode       uint32
		uid        uint32
	}{
		{"secret", "root only", 0o600, 0},
		{"public", "everyone", 0o644, 0},
		{"sticky/other", "1001's", 0o644, 1001},
	} {
		var st unix.Stat_t
		p := filepath.Join(dir, c.path)
		b, err := os.ReadFile(p)
		if err != nil || string(b) != c.data || unix.Stat(p, &st) != nil || st.Mode&07777 != c.mode || st.Uid != c.uid {
			t.Errorf("%s changed: %q %o uid %d (%v)", c.path, b, st.Mode&07777, st.Uid, err)
		}
	}
	for _, p := range []string{"home1000/null", "newdir"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s was made by a refused operation", p)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "home1000", "own"), &st); err != nil || st.Uid != 1000 {
		t.Errorf("home1000/own was given away: uid %d (%v)", st.Uid, err)
	}
	for _, name := range []string{"trusted.x", "security.capability"} {
		if _, err := unix.Getxattr(filepath.Join(dir, "home1000", "own"), name, nil); err == nil {
			t.Errorf("%s was set by uid 1000", name)
		}
	}
}

// startServerProc starts `mfs ARGS…` (a server whose --listen is the
// last-but-one argument pair's value) and waits until its address answers
// 9P; the process is killed when the test ends.
func startServerProc(t *testing.T, bin string, args ...string) {
	t.Helper()
	addr := ""
	for i, a := range args {
		if a == "--listen" && i+1 < len(args) {
			addr = args[i+1]
		}
	}
	var out diodSyncBuffer
	exited := cliStart(t, exec.Command(bin, args...), &out)
	cliWaitFor9P(t, addr, exited, &out)
}

// identityExport runs "mfs export" of a fresh identityTree on a unix
// socket every user may connect to, and returns the tree and the socket's
// address.
func identityExport(t *testing.T) (dir, addr string) {
	t.Helper()
	dir = identityTree(t)
	addr = "unix:" + filepath.Join(socketDir(t), "export.sock")
	startServerProc(t, clusterutil.Binary(t), "export", "--root", dir, "--listen", addr)
	if err := os.Chmod(strings.TrimPrefix(addr, "unix:"), 0o777); err != nil {
		t.Fatal(err)
	}
	return dir, addr
}

// socketDir returns a directory other users may reach a socket in.
func socketDir(t *testing.T) string {
	t.Helper()
	sock := t.TempDir()
	for _, d := range []string{filepath.Dir(sock), sock} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return sock
}

// freeAddr returns a loopback TCP address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
