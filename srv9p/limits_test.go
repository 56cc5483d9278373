package srv9p_test

// The per-user limits (limits.go) against the attacks of issue 19, on a
// real server over real sockets; the unprivileged user is a real process
// of uid 1000 (this test binary run again as that user).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p"
	"mfs/srv9p/srv9ptest"
)

// helperEnv names what TestLimitsHelper does in a child process.
const helperEnv = "MFS_LIMITS_HELPER"

// TestLimitsHelper is the unprivileged client of the tests below, run by
// them as another process: it does nothing in an ordinary test run.
func TestLimitsHelper(t *testing.T) {
	what := os.Getenv(helperEnv)
	if what == "" {
		t.Skip("run by the limits tests")
	}
	args := strings.Fields(what)
	switch args[0] {
	case "clones":
		n, _ := strconv.Atoi(args[2])
		for i := range 2 {
			nc, err := attachConn(args[1], p9.NoUID)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close() // held: the second counts the first's fids
			ok, emfile, other := clones(t, nc, n>>i)
			fmt.Printf("conn%d ok=%d emfile=%d other=%d\n", i+1, ok, emfile, other)
		}
	case "lowfd":
		// A server whose descriptor limit is args[1]: it serves an
		// export on the unix socket args[2] until its stdin closes.
		n, _ := strconv.ParseUint(args[1], 10, 64)
		lim := syscall.Rlimit{Cur: n, Max: n}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		a, _ := attackExport(t)
		ln, err := net.Listen("unix", args[2])
		if err != nil {
			t.Fatal(err)
		}
		l := srv9p.NewLimits(srv9p.LimitConfig{MaxFids: 1 << 20, MaxFidsPerUser: 1 << 20})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
		srv := srv9p.NewServer(a, srv9p.UserLimits(l), srv9p.ServerLogger(srv9ptest.Logger(t)))
		fmt.Println("serving")
		srv.Serve(ctx, ln)
	case "conns":
		n, _ := strconv.Atoi(args[2])
		var held []net.Conn
		attached, refused := 0, 0
		for range n {
			nc, err := attachConn(args[1], p9.NoUID)
			if err != nil {
				refused++
				continue
			}
			attached++
			held = append(held, nc)
		}
		fmt.Printf("attached=%d refused=%d\n", attached, refused)
		io.Copy(io.Discard, os.Stdin) // hold them until the parent is done
		for _, nc := range held {
			nc.Close()
		}
	}
}

// clones sends n Twalks on nc that clone the attach fid (nwname 0) to new
// fids, 500 at a time, and counts the answers.
func clones(t *testing.T, nc net.Conn, n int) (ok, emfile, other int) {
	rd := bufio.NewReader(nc)
	const batch = 500
	var out []byte
	for sent := 0; sent < n; sent += batch {
		out = out[:0]
		for i := range min(batch, n-sent) {
			out = fcall.Append(out, fcall.L, uint16(i), &fcall.Twalk{Fid: 0, NewFid: uint32(1 + sent + i)})
		}
		if _, err := nc.Write(out); err != nil {
			t.Fatal(err)
		}
		for range min(batch, n-sent) {
			_, m, err := readMsg(rd)
			if err != nil {
				t.Fatal(err)
			}
			switch m := m.(type) {
			case *fcall.Rwalk:
				ok++
			case *fcall.Rlerror:
				if m.Errno == linux.EMFILE {
					emfile++
				} else {
					other++
				}
			default:
				other++
			}
		}
	}
	return ok, emfile, other
}

// attachConn dials addr (unix:/path or host:port), agrees on 9P2000.L
// and attaches fid 0 as uid (the connection's own user with p9.NoUID).
func attachConn(addr string, uid p9.UID) (net.Conn, error) {
	network, address := "tcp", addr
	if a, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", a
	}
	nc, err := net.Dial(network, address)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(srv9ptest.Timeout))
	defer nc.SetDeadline(time.Time{})
	rd := bufio.NewReader(nc)
	for _, m := range []fcall.Msg{
		&fcall.Tversion{Msize: 64 << 10, Version: "9P2000.L"},
		&fcall.Tattach{Fid: 0, Afid: fcall.NoFid, NUname: uid},
	} {
		if _, err := nc.Write(fcall.Append(nil, fcall.L, 1, m)); err != nil {
			nc.Close()
			return nil, err
		}
		_, rep, err := readMsg(rd)
		if err == nil {
			if e, ok := rep.(*fcall.Rlerror); ok {
				err = e.Errno
			}
		}
		if err != nil {
			nc.Close()
			return nil, err
		}
	}
	return nc, nil
}

// readMsg reads one 9P2000.L message.
func readMsg(rd *bufio.Reader) (uint16, fcall.Msg, error) {
	hdr, err := rd.Peek(fcall.HeaderSize)
	if err != nil {
		return 0, nil, err
	}
	size, _, _ := fcall.Header(hdr)
	if size < fcall.HeaderSize || size > 16<<20 {
		return 0, nil, fmt.Errorf("frame size %d", size)
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(rd, frame); err != nil {
		return 0, nil, err
	}
	return fcall.Decode(fcall.L, frame)
}

// asUser1000 returns a command that runs this test binary's
// TestLimitsHelper as uid 1000 with helperEnv set to what. The binary is
// copied where that user can run it.
func asUser1000(t *testing.T, what string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a client as uid 1000")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := openDir(t)
	bin := filepath.Join(dir, "helper.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestLimitsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+what)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{}}}
	cmd.Stderr = os.Stderr
	return cmd
}

// openDir returns a fresh directory anyone may enter, removed when the
// test ends.
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mfslim")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// limitServer serves an export on a unix socket anyone may connect to,
// identifying peers by SO_PEERCRED (srv9p.Identify), with limits l; it
// returns the address and the server's log.
func limitServer(t *testing.T, l *srv9p.Limits, opts ...srv9p.ServerOption) (string, *logBuffer) {
	t.Helper()
	a, _ := attackExport(t)
	dir := openDir(t)
	sock := filepath.Join(dir, "9p.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, a, ln, append([]srv9p.ServerOption{srv9p.Identifier(srv9p.Identify), srv9p.UserLimits(l)}, opts...)...)
	return "unix:" + sock, s.log
}

// rootServed attaches as root on a new connection, clones the attach fid,
// reads "f" and clunks: root is served.
func rootServed(t *testing.T, addr string) error {
	r := srv9ptest.DialRaw(t, addr)
	defer r.Conn.Close()
	if err := r.Attach(0); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if err := r.Walk(0, 1, "f"); err != nil {
		return fmt.Errorf("walk: %w", err)
	}
	if err := r.Lopen(1, 0); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	data, err := r.Read(1, 0, 100)
	if err != nil || string(data) != attackData {
		return fmt.Errorf("read: %q, %v", data, err)
	}
	return r.Clunk(1)
}

// servedWhile runs rootServed until done is closed (at least once, at
// most 2,000 times) and fails the test at the first refusal.
func servedWhile(t *testing.T, addr string, done <-chan struct{}) int {
	t.Helper()
	n := 0
	for ; n < 2000; n++ {
		if err := rootServed(t, addr); err != nil {
			t.Fatalf("root, while the attack runs (try %d): %v", n+1, err)
		}
		select {
		case <-done:
			return n + 1
		case <-time.After(5 * time.Millisecond):
		}
	}
	return n
}

// TestLimitsFidClones: a process of uid 1000 sends 200,000 Twalk clones
// (nwname 0) on one unix-socket connection, then 100,000 on a second: the
// first gets MaxFids fids (its attach fid and 2,999 clones) and EMFILE
// for the rest, the second what is left of MaxFidsPerUser (its attach and
// 1,999); the connections go on, and root is served
// throughout. The limit is logged once per user and limit.
func TestLimitsFidClones(t *testing.T) {
	l := srv9p.NewLimits(srv9p.LimitConfig{MaxFids: 3000, MaxFidsPerUser: 5000})
	addr, log := limitServer(t, l)
	cmd := asUser1000(t, "clones "+addr+" 200000")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var lines []string
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "conn") {
				lines = append(lines, sc.Text())
			}
		}
	}()
	tries := servedWhile(t, addr, done)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client: %v (%q)", err, lines)
	}
	want := []string{"conn1 ok=2999 emfile=197001 other=0", "conn2 ok=1999 emfile=98001 other=0"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("client saw\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	t.Logf("root served %d times during the attack", tries)
	for _, limit := range []string{"limit=max-fids ", "limit=max-fids-per-user "} {
		if n := strings.Count(log.String(), limit); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", limit, n, log)
		}
	}
	srv9ptest.WaitFor(t, "uid 1000's fids to go", func() bool { return l.UserFids(1000) == 0 })
}

// TestLimitsConnsPerUser: a process of uid 1000 opens 600 connections and
// attaches on each: MaxConnsPerUser (64) of them are served, the rest
// closed; root is served throughout, and while the user holds its 64.
func TestLimitsConnsPerUser(t *testing.T) {
	l := srv9p.NewLimits(srv9p.LimitConfig{MaxConnsPerUser: 64})
	addr, log := limitServer(t, l, srv9p.MaxConns(512))
	got := srv9ptest.StartHelper(t, asUser1000(t, "conns "+addr+" 600"))
	done := make(chan struct{})
	var line string
	go func() {
		select {
		case line = <-got:
		case <-time.After(2 * time.Minute):
		}
		close(done)
	}()
	servedWhile(t, addr, done)
	if want := "attached=64 refused=536"; line != want {
		t.Fatalf("client saw %q, want %q", line, want)
	}
	// The user holds 64 connections now: root still gets in.
	for range 10 {
		if err := rootServed(t, addr); err != nil {
			t.Fatalf("root, with the user's 64 connections held: %v", err)
		}
	}
	if n := strings.Count(log.String(), "limit=max-conns-per-user"); n != 1 {
		t.Errorf("max-conns-per-user logged %d times, want once:\n%s", n, log)
	}
}

// TestLimitsConnsPerUserTrusted: on a listener that believes claims, a
// connection counts for the uid of its first attach; the attach past
// MaxConnsPerUser is refused EMFILE, and root's is not.
func TestLimitsConnsPerUserTrusted(t *testing.T) {
	a, _ := attackExport(t)
	l := srv9p.NewLimits(srv9p.LimitConfig{MaxConnsPerUser: 3})
	s := startServer(t, a, nil, srv9p.UserLimits(l))
	for i := range 4 {
		nc, err := attachConn(s.addr, 1000)
		switch {
		case i < 3 && err != nil:
			t.Fatalf("connection %d: %v", i+1, err)
		case i == 3 && !errors.Is(err, linux.EMFILE):
			t.Fatalf("connection %d: %v, want EMFILE", i+1, err)
		}
		if nc != nil {
			defer nc.Close()
		}
	}
	nc, err := attachConn(s.addr, 0)
	if err != nil {
		t.Fatalf("root: %v", err)
	}
	nc.Close()
}

// TestLimitsMemory: eight connections at msize 4 MiB each send 200 Treads
// of 4 MiB and read no reply. They take their user's share of the buffer
// budget and stop being read; the server's heap stays under 400 MB,
// another user's 4 MiB read is served, and once they close the budget
// and the heap come back.
func TestLimitsMemory(t *testing.T) {
	a, dir := attackExport(t)
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	l := srv9p.NewLimits(srv9p.LimitConfig{MaxBuffer: srv9p.DefaultMaxBuffer})
	s := startServer(t, a, nil, srv9p.UserLimits(l))
	before, _ := heap()
	const msize = 4 << 20
	var attackers []net.Conn
	for range 8 {
		nc, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		attackers = append(attackers, nc)
		defer nc.Close()
		rd := bufio.NewReader(nc)
		for _, m := range []fcall.Msg{
			&fcall.Tversion{Msize: msize, Version: "9P2000.L"},
			&fcall.Tattach{Fid: 0, Afid: fcall.NoFid, NUname: 1000},
			&fcall.Twalk{Fid: 0, NewFid: 1, Names: []string{"big"}},
			&fcall.Tlopen{Fid: 1, Flags: 0},
		} {
			nc.Write(fcall.Append(nil, fcall.L, 1, m))
			if _, rep, err := readMsg(rd); err != nil {
				t.Fatal(err)
			} else if e, ok := rep.(*fcall.Rlerror); ok {
				t.Fatalf("%s: %v", m, e.Errno)
			}
		}
		var out []byte
		for i := range 200 {
			out = fcall.Append(out, fcall.L, uint16(i+2), &fcall.Tread{Fid: 1, Offset: 0, Count: msize - fcall.RreadHeaderSize})
		}
		go nc.Write(out) // may block: the server stops reading
	}
	share := srv9p.DefaultMaxBuffer / 4
	srv9ptest.WaitFor(t, "the attack to fill its share of the buffer budget", func() bool {
		return l.BufferInUse() >= int64(share)-msize
	})
	for range 5 {
		live, _ := heap()
		if live > 400<<20 {
			t.Fatalf("heap %d MB under attack, want under 400", live>>20)
		}
		t.Logf("heap %d MB under attack (%d MB before), buffer budget in use %d MB", live>>20, before>>20, l.BufferInUse()>>20)
		// Another user is served meanwhile.
		r := srv9ptest.DialRaw(t, s.addr)
		if err := r.AttachAs(0, "", 1001); err != nil {
			t.Fatal(err)
		}
		if err := r.Walk(0, 1, "big"); err != nil {
			t.Fatal(err)
		}
		if err := r.Lopen(1, 0); err != nil {
			t.Fatal(err)
		}
		data, err := r.Read(1, 0, 60<<10)
		if err != nil || len(data) != 60<<10 {
			t.Fatalf("other user's read: %d bytes, %v", len(data), err)
		}
		r.Conn.Close()
	}
	if used := l.BufferInUse(); used > int64(share) {
		t.Errorf("buffer in use %d, above the user's share %d", used, share)
	}
	for _, nc := range attackers {
		nc.Close()
	}
	srv9ptest.WaitFor(t, "the budget to come back", func() bool { return l.BufferInUse() == 0 })
	srv9ptest.WaitFor(t, "the attackers' connections to end", func() bool { return s.tagsInFlight() == 0 })
	after, _ := heap()
	t.Logf("heap %d MB after the attackers closed", after>>20)
	if after > before+32<<20 {
		t.Errorf("heap %d MB after the attack, %d MB before", after>>20, before>>20)
	}
}

// TestLimitsDescriptorLimit: the process's soft descriptor limit is its
// hard limit (Go raises it at start; the limits rely on it).
func TestLimitsDescriptorLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	limit, reserve := srv9p.DescriptorLimit()
	if uint64(limit) != lim.Max && lim.Max < 1<<31 {
		t.Errorf("descriptor limit %d, hard limit %d", limit, lim.Max)
	}
	if reserve < 64 || reserve < limit/10 {
		t.Errorf("reserve %d of %d", reserve, limit)
	}
}

// TestLimitsDescriptorReserve: a server whose descriptor limit is 400
// (a child process) lets root's clones take descriptors up to the reserve
// (64) and no further: past it walks and opens are refused EMFILE and
// accepting pauses, so the process never runs out; once fids are
// clunked, walks and accepting go on.
func TestLimitsDescriptorReserve(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to serve an export to root")
	}
	const limit, reserve = 400, 64
	sock := filepath.Join(openDir(t), "9p.sock")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^TestLimitsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=lowfd "+strconv.Itoa(limit)+" "+sock)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "serving\n" {
		t.Fatalf("server said %q", line)
	}
	addr := "unix:" + sock
	r := srv9ptest.DialRaw(t, addr)
	if err := r.Attach(0); err != nil {
		t.Fatal(err)
	}
	fids := 0
	for i := uint32(1); i <= limit; i++ {
		err := r.Walk(0, i)
		if errors.Is(err, linux.EMFILE) {
			break
		}
		if err != nil {
			t.Fatalf("clone %d: %v", i, err)
		}
		fids++
	}
	open := countFDs(t, cmd.Process.Pid)
	t.Logf("%d clones, then EMFILE; the server holds %d descriptors of %d", fids, open, limit)
	if fids == limit || open > limit-reserve+1 || open < limit-reserve-8 {
		t.Fatalf("%d clones and %d descriptors open: want EMFILE at the reserve (%d of %d)", fids, open, limit-reserve, limit)
	}
	if err := r.Walk(0, 1000, "f"); !errors.Is(err, linux.EMFILE) {
		t.Fatalf("walk within the reserve: %v, want EMFILE", err)
	}
	if err := r.Lopen(1, 0); !errors.Is(err, linux.EMFILE) {
		t.Fatalf("open within the reserve: %v, want EMFILE", err)
	}
	// Accepting pauses: a new connection is not answered.
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(fcall.Append(nil, fcall.L, fcall.NoTag, &fcall.Tversion{Msize: 8192, Version: "9P2000.L"}))
	nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := nc.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection within the reserve: %v, want no answer", err)
	}
	// Room again: the waiting connection is answered, walks go on.
	for i := uint32(1); i <= 100; i++ {
		if err := r.Clunk(i); err != nil {
			t.Fatal(err)
		}
	}
	nc.SetReadDeadline(time.Now().Add(srv9ptest.Timeout))
	if _, err := nc.Read(make([]byte, 64)); err != nil {
		t.Fatalf("the waiting connection, once there is room: %v", err)
	}
	if err := r.Walk(0, 1000, "f"); err != nil {
		t.Fatalf("walk once there is room: %v", err)
	}
}

// countFDs counts the open descriptors of process pid.
func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestLimitsXattrValues: the values xattr fids hold come from half the
// connection's share of the buffer budget (16 MiB: a sixteenth, halved,
// is 512 KiB): eight Txattrcreates of 64 KiB are taken, the ninth is
// refused EMFILE, and a clunk gives room back.
func TestLimitsXattrValues(t *testing.T) {
	a, _ := attackExport(t)
	l := srv9p.NewLimits(srv9p.LimitConfig{MaxBuffer: srv9p.MinMaxBuffer})
	s := startServer(t, a, nil, srv9p.UserLimits(l))
	r := dialRaw(t, s.addr)
	if err := r.AttachAs(0, "", 1000); err != nil {
		t.Fatal(err)
	}
	create := func(fid uint32) error {
		if err := r.Walk(0, fid, "f"); err != nil {
			t.Fatal(err)
		}
		_, err := r.RPC(&fcall.Txattrcreate{Fid: fid, Name: "user.x", Size: srv9p.XattrSizeMax})
		return err
	}
	for fid := uint32(1); fid <= 8; fid++ {
		if err := create(fid); err != nil {
			t.Fatalf("xattr fid %d: %v", fid, err)
		}
	}
	if err := create(9); !errors.Is(err, linux.EMFILE) {
		t.Fatalf("ninth xattr fid: %v, want EMFILE", err)
	}
	if err := r.Clunk(1); !errors.Is(err, linux.EINVAL) { // nothing written: EINVAL, and the fid goes
		t.Fatalf("clunk: %v", err)
	}
	if err := create(10); err != nil {
		t.Fatalf("after a clunk: %v", err)
	}
	// The user's counts are exact: the attach's own frame, taken
	// before the connection counted for uid 1000, was counted there (a
	// frame goes back just after its reply is written).
	srv9ptest.WaitFor(t, "uid 1000's frames to go back", func() bool {
		frames, _ := l.UserBuffer(1000)
		return frames == 0
	})
	if _, xattrs := l.UserBuffer(1000); xattrs != 8*srv9p.XattrSizeMax {
		t.Errorf("uid 1000 holds %d bytes of xattr values, want %d", xattrs, 8*srv9p.XattrSizeMax)
	}
}
