package mount

import (
	gocontext "context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/membership"
	"mfs/namespace"
	"mfs/srv9p"
	"mfs/srv9p/export"
)

// A test binary started with this variable set runs one helper of the
// tests (TestMain) instead of the tests.
const helperEnv = "MFS_MOUNT_TEST_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

// runHelper runs a helper in its own process: "threads" selects node 2
// from one thread and reads DIR/selected/who from 8 others.
func runHelper(name, dir string) int {
	switch name {
	case "threads":
		if err := os.WriteFile(filepath.Join(dir, "ctl"), []byte("select 2\n"), 0); err != nil {
			fmt.Println(err)
			return 1
		}
		var wg sync.WaitGroup
		out := make([]string, 8)
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread() // a thread of its own, left to die
				b, err := os.ReadFile(filepath.Join(dir, "selected", "who"))
				out[i] = string(b)
				if err != nil {
					out[i] = err.Error()
				}
			}()
		}
		wg.Wait()
		fmt.Print(strings.Join(out, ","))
		return 0
	case "openmany":
		// Open the file 20 times, holding each: how many opened, and
		// the first error.
		var held []*os.File
		var first error
		for range 20 {
			f, err := os.Open(dir)
			if err != nil {
				first = err
				break
			}
			held = append(held, f)
		}
		fmt.Printf("%d %v", len(held), first)
		return 0
	case "trylock":
		// F_SETLK a write lock on the whole file, then F_GETLK: "ok" or
		// the errno, then the holder's pid as F_GETLK names it.
		f, err := os.OpenFile(dir, os.O_RDWR, 0)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		lk := syscall.Flock_t{Type: syscall.F_WRLCK}
		res := "ok"
		if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
			res = err.Error()
			lk = syscall.Flock_t{Type: syscall.F_WRLCK}
			if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
				res += " getlk: " + err.Error()
			} else {
				res += fmt.Sprintf(" held by %d", lk.Pid)
			}
		}
		fmt.Print(res)
		return 0
	}
	return 2
}

// testCluster is node 1's namespace with node 2's export served on
// loopback, mounted at dir.
type testCluster struct {
	dir  string   // the mount point
	disk []string // [i] is node i+1's exported directory
	m    *Mount
	ns   *namespace.Namespace
}

func needFUSE(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (a FUSE mount without fusermount, and other users' processes)")
	}
	if err := checkFUSE(); err != nil {
		t.Skip(err)
	}
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newTestCluster(t testing.TB, opts ...Option) *testCluster {
	t.Helper()
	needFUSE(t)
	c := &testCluster{dir: t.TempDir()}
	// Other users reach the mount point through t.TempDir's parent.
	for _, d := range []string{c.dir, filepath.Dir(c.dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 2; i++ {
		d := t.TempDir()
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "who"), []byte(fmt.Sprintf("node%d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		c.disk = append(c.disk, d)
	}
	exp2, err := export.New(c.disk[1])
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := gocontext.WithCancel(gocontext.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv9p.NewServer(exp2, srv9p.TrustClaims()).Serve(ctx, ln)
	}()
	t.Cleanup(func() { cancel(); <-done })
	exp1, err := export.New(c.disk[0])
	if err != nil {
		t.Fatal(err)
	}
	ns, err := namespace.New(1, exp1, namespace.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ns.SetNode(namespace.Node{ID: 2, Addr: ln.Addr().String(), State: membership.Alive})
	t.Cleanup(func() { ns.Close() })
	c.ns = ns
	m, err := Start(c.dir, ns, append([]Option{WithLogger(testLog(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	c.m = m
	return c
}

// sh runs a shell script as uid (root when 0) with M set to the mount
// point, and returns its standard output.
func (c *testCluster) sh(t *testing.T, uid uint32, script string) string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "M="+c.dir)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s: %v\n%s", script, err, ee.Stderr)
		}
		t.Fatalf("%s: %v", script, err)
	}
	return string(out)
}

func TestRootListing(t *testing.T) {
	c := newTestCluster(t)
	got := c.sh(t, 0, `ls $M`)
	want := "1\n2\nctl\nhere\nhome\nnodes\nselected\n"
	if got != want {
		t.Errorf("ls: got %q, want %q", got, want)
	}
	for _, tt := range []struct{ path, want string }{
		{"1/who", "node1\n"}, {"2/who", "node2\n"}, {"here/who", "node1\n"},
		{"home/who", "node1\n"}, {"selected/who", "node1\n"},
	} {
		b, err := os.ReadFile(filepath.Join(c.dir, tt.path))
		if err != nil || string(b) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.path, b, err, tt.want)
		}
	}
	if got := c.sh(t, 0, `cat $M/ctl`); got != "here 1 home 1 selected 1 from default\n" {
		t.Errorf("ctl: %q", got)
	}
	if got := c.sh(t, 0, `cat $M/nodes`); !strings.Contains(got, "2 ") {
		t.Errorf("nodes: %q", got)
	}
}

// TestContextPerProcess: a shell selects 2; it and a child see node 2; the
// child selects 1 and sees node 1 while the shell still sees 2; a sibling
// sees the default; home likewise.
func TestContextPerProcess(t *testing.T) {
	c := newTestCluster(t)
	got := c.sh(t, 0, `
		echo select 2 > $M/ctl
		cat $M/selected/who
		sh -c 'cat $M/selected/who; echo select 1 > $M/ctl; cat $M/selected/who; read l < $M/ctl; echo "$l"'
		cat $M/selected/who
		read l < $M/ctl; echo "$l"
		cat $M/ctl | sed 's/pid [0-9]*$/pid N/'`)
	want := "node2\nnode2\nnode1\nhere 1 home 1 selected 1 from own\nnode2\nhere 1 home 1 selected 2 from own\nhere 1 home 1 selected 2 from pid N\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := c.sh(t, 0, `cat $M/selected/who; cat $M/ctl`); got != "node1\nhere 1 home 1 selected 1 from default\n" {
		t.Errorf("sibling: %q", got)
	}
	got = c.sh(t, 0, `echo home 2 > $M/ctl; cat $M/home/who $M/selected/who $M/here/who; sh -c 'cat $M/home/who'`)
	if got != "node2\nnode2\nnode1\nnode2\n" {
		t.Errorf("home 2: %q", got)
	}
	// A bad command or node fails the write and changes nothing.
	got = c.sh(t, 0, `echo select 9 > $M/ctl 2>/dev/null && echo wrote; echo frob 2 > $M/ctl 2>/dev/null && echo wrote; cat $M/selected/who`)
	if got != "node1\n" {
		t.Errorf("bad ctl writes: %q", got)
	}
}

// TestContextThreads: the threads of one process share its setting.
func TestContextThreads(t *testing.T) {
	c := newTestCluster(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, c.dir)
	cmd.Env = append(os.Environ(), helperEnv+"=threads")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if want := strings.TrimSuffix(strings.Repeat("node2\n,", 8), ","); string(out) != want {
		t.Errorf("threads: %q", out)
	}
}

// TestContextReusedPid: a process that has a dead process's pid (another
// start time) inherits nothing of its setting.
func TestContextReusedPid(t *testing.T) {
	procs := map[int]proc{10: {pid: 10, ppid: 1, start: 100}, 1: {pid: 1, ppid: 0, start: 1}}
	cs := newContexts()
	cs.readFn = func(pid int) (proc, error) {
		p, ok := procs[pid]
		if !ok {
			return proc{}, os.ErrNotExist
		}
		return p, nil
	}
	ok := func(int) error { return nil }
	if err := cs.write(10, "select 2", ok); err != nil {
		t.Fatal(err)
	}
	if ctx, from := cs.resolve(10); ctx.selected != 2 || from != 10 {
		t.Fatalf("own setting: %+v from %d", ctx, from)
	}
	procs[11] = proc{pid: 11, ppid: 10, start: 150}
	if ctx, _ := cs.resolve(11); ctx.selected != 2 {
		t.Fatalf("child: %+v", ctx)
	}
	procs[10] = proc{pid: 10, ppid: 1, start: 200} // pid 10 reused
	if ctx, from := cs.resolve(10); ctx.selected != 0 || from != 0 {
		t.Errorf("reused pid inherited %+v from %d", ctx, from)
	}
	cs.swept = time.Time{}
	if cs.resolve(1); cs.len() != 0 {
		t.Errorf("the dead process's setting was kept")
	}
}

// TestIdentity: an ordinary user is itself on both nodes.
func TestIdentity(t *testing.T) {
	c := newTestCluster(t)
	for i, d := range c.disk {
		if err := os.WriteFile(filepath.Join(d, "secret"), []byte("root only"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(d, "tmp"), 0o1777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(d, "tmp"), 0o1777); err != nil {
			t.Fatal(err)
		}
		n := fmt.Sprint(i + 1)
		got := c.sh(t, 1000, `
			cat $M/`+n+`/secret 2>/dev/null || echo denied
			echo mine > $M/`+n+`/tmp/f && echo made
			chown 0 $M/`+n+`/tmp/f 2>/dev/null || echo chown-denied
			mknod $M/`+n+`/tmp/dev c 1 3 2>/dev/null || echo mknod-denied
			cat $M/`+n+`/tmp/f`)
		if want := "denied\nmade\nchown-denied\nmknod-denied\nmine\n"; got != want {
			t.Errorf("node %s: got %q, want %q", n, got, want)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(d, "tmp", "f"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 1000 || st.Gid != 1000 {
			t.Errorf("node %s: file made by uid 1000 is %d:%d on disk", n, st.Uid, st.Gid)
		}
	}
}

// TestOperations runs the everyday operations through /here and /2 as
// root and as uid 1000.
func TestOperations(t *testing.T) {
	c := newTestCluster(t)
	for _, d := range c.disk {
		os.Mkdir(filepath.Join(d, "tmp"), 0o1777)
		os.Chmod(filepath.Join(d, "tmp"), 0o1777)
	}
	script := `set -e
		cd $M/$N/tmp
		mkdir -p w$U && cd w$U
		echo hello > a; cat a
		printf 12345 >> a; wc -c < a
		truncate -s 3 a; cat a; echo
		mv a b; test ! -e a; cat b; echo
		ln b c; stat -c %h b
		ln -s b s; readlink s; cat s; echo
		mkdir d; rmdir d
		mkfifo p; test -p p
		chmod 640 b; stat -c %a b
		touch -d @1000000000 b; stat -c %Y b
		dd if=/dev/zero of=big bs=64k count=40 2>/dev/null; stat -c %s big
		cmp big /dev/zero 2>&1 | grep -q EOF && echo same
		ls | sort | tr '\n' ' '; echo
		rm b c s p big; ls | wc -l
		cd ..; rmdir w$U; echo done`
	want := "hello\n11\nhel\nhel\n2\nb\nhel\n640\n1000000000\n2621440\nsame\nb big c p s \n0\ndone\n"
	for _, uid := range []uint32{0, 1000} {
		for _, n := range []string{"here", "2"} {
			t.Run(fmt.Sprintf("uid%d/%s", uid, n), func(t *testing.T) {
				got := c.sh(t, uid, "N="+n+" U="+fmt.Sprint(uid)+"\n"+script)
				if got != want {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

// TestConsistency: a change on a node's disk is seen at once.
func TestConsistency(t *testing.T) {
	c := newTestCluster(t)
	p := filepath.Join(c.dir, "2", "who")
	for i := 0; i < 5; i++ {
		want := fmt.Sprintf("version %d of a longer text\n", i)
		if err := os.WriteFile(filepath.Join(c.disk[1], "who"), []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want {
			t.Fatalf("read %d: %q, %v", i, b, err)
		}
	}
}

var _ = p9.ReadOnly

// TestPOSIXLockOwners: fcntl locks belong to the process, on this node's
// files and another's: two descriptors of one process share its locks,
// another process is refused and told the holder's pid, and closing any
// descriptor of the file releases them.
func TestPOSIXLockOwners(t *testing.T) {
	c := newTestCluster(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	try := func(path string) string {
		cmd := exec.Command(exe, path)
		cmd.Env = append(os.Environ(), helperEnv+"=trylock")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return string(out)
	}
	for _, n := range []string{"here", "2"} {
		t.Run(n, func(t *testing.T) {
			p := filepath.Join(c.dir, n, "locked")
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			f1, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f1.Close()
			f2, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			lk := syscall.Flock_t{Type: syscall.F_WRLCK}
			if err := syscall.FcntlFlock(f1.Fd(), syscall.F_SETLK, &lk); err != nil {
				t.Fatalf("lock through the first descriptor: %v", err)
			}
			lk = syscall.Flock_t{Type: syscall.F_WRLCK, Start: 0, Len: 10}
			if err := syscall.FcntlFlock(f2.Fd(), syscall.F_SETLK, &lk); err != nil {
				t.Errorf("the same process through another descriptor: %v, want the lock", err)
			}
			if got, want := try(p), fmt.Sprintf("resource temporarily unavailable held by %d", os.Getpid()); got != want {
				t.Errorf("another process: %q, want %q", got, want)
			}
			f2.Close()
			if got := try(p); got != "ok" {
				t.Errorf("after the holder closed a descriptor of the file: %q, want ok", got)
			}
		})
	}
}

// TestExec: programs on this node and another run from the mount.
func TestExec(t *testing.T) {
	c := newTestCluster(t)
	for _, d := range c.disk {
		if err := os.Chmod(d, 0o1777); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"here", "2"} {
		got := c.sh(t, 1000, `
			cp /bin/echo $M/`+n+`/tmp-echo 2>/dev/null || cat /bin/echo > $M/`+n+`/tmp-echo
			chmod 755 $M/`+n+`/tmp-echo
			$M/`+n+`/tmp-echo ran on `+n+`
			printf '#!/bin/sh\necho script on %s\n' `+n+` > $M/`+n+`/s.sh; chmod +x $M/`+n+`/s.sh; $M/`+n+`/s.sh`)
		if want := "ran on " + n + "\nscript on " + n + "\n"; got != want {
			t.Errorf("%s: %q, want %q", n, got, want)
		}
	}
}

// TestNewFileGroup: a file made through the mount gets the group Linux
// gives it on every node: the caller's fsgid, or the directory's under a
// setgid directory.
func TestNewFileGroup(t *testing.T) {
	c := newTestCluster(t)
	for i, d := range c.disk {
		sg := filepath.Join(d, "sgid")
		if err := os.Mkdir(sg, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(sg, 0, 4321); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chmod(sg, 0o2777); err != nil { // os.Chmod would drop the setgid bit
			t.Fatal(err)
		}
		n := []string{"here", "2"}[i]
		cmd := exec.Command("/bin/sh", "-c", `cd $M/`+n+` && : > egid-file && mkdir egid-dir && : > sgid/file && mkdir sgid/dir && ln -s x sgid/link && mkfifo sgid/fifo`)
		cmd.Env = append(os.Environ(), "M="+c.dir)
		// Root with an egid of its own, as newgrp or sg give a process.
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 1234, Groups: []uint32{1234}}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", n, err, out)
		}
		for _, tt := range []struct {
			path string
			gid  uint32
		}{{"egid-file", 1234}, {"egid-dir", 1234}, {"sgid/file", 4321}, {"sgid/dir", 4321}, {"sgid/link", 4321}, {"sgid/fifo", 4321}} {
			var st syscall.Stat_t
			if err := syscall.Lstat(filepath.Join(d, tt.path), &st); err != nil {
				t.Fatal(err)
			}
			if st.Gid != tt.gid {
				t.Errorf("%s/%s: gid %d on disk, want %d", n, tt.path, st.Gid, tt.gid)
			}
		}
	}
}

// TestOpensPerUser: an ordinary user holds at most MaxOpensPerUser files
// open through the mount (EMFILE past it, on this node's files and
// another's); root is not counted; closing gives them back.
func TestOpensPerUser(t *testing.T) {
	c := newTestCluster(t, MaxOpensPerUser(10))
	// A copy of the test binary uid 1000 can run (go test's own
	// directory is root's alone).
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(dir, "mount.test")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(uid uint32, path string) string {
		cmd := exec.Command(exe, path)
		cmd.Env = append(os.Environ(), helperEnv+"=openmany")
		if uid != 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return string(out)
	}
	for _, n := range []string{"here", "2"} {
		p := filepath.Join(c.dir, n, "who")
		if got, want := run(1000, p), "10 open "+p+": too many open files"; got != want {
			t.Errorf("uid 1000 on %s: %q, want %q", n, got, want)
		}
		// The first process's files went back at its exit.
		if got, want := run(1000, p), "10 open "+p+": too many open files"; got != want {
			t.Errorf("uid 1000 again on %s: %q, want %q", n, got, want)
		}
		if got := run(0, p); got != "20 <nil>" {
			t.Errorf("root on %s: %q, want all 20", n, got)
		}
	}
}
