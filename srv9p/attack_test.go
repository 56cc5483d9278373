package srv9p_test

// Attacks on the server loop: each test sends what a hostile or broken
// client would, and asserts that the harm does not happen (a descriptor
// lost, a lock granted, a reply missing, memory taken, the server stuck).

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
	"mfs/srv9p"
	"mfs/srv9p/export"
	"mfs/srv9p/srv9ptest"
)

// attackData is the content of "f" in every attacked export.
const attackData = "attack target"

// getlockToken is the client string the old server took, with flags
// 1<<31, for a Tgetlock smuggled in a Tlock.
const getlockToken = "\x00mfs-getlock\x00x\x00B"

// logBuffer collects a server's log lines for the test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// attackServer is a srv9p.Server on a loopback listener, with its log at hand.
type attackServer struct {
	srv    *srv9p.Server
	addr   string
	log    *logBuffer
	cancel context.CancelFunc
	done   chan error

	once    sync.Once
	elapsed time.Duration // from cancel to Serve's return
	err     error
}

// startServer serves a with srv9p.NewServer(a, opts...) on ln (a fresh loopback
// listener if nil) until the test ends.
func startServer(t *testing.T, a p9.Attacher, ln net.Listener, opts ...srv9p.ServerOption) *attackServer {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &attackServer{addr: ln.Addr().String(), log: &logBuffer{}, cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelInfo})).With("test", t.Name())
	s.srv = srv9p.NewServer(a, append([]srv9p.ServerOption{srv9p.ServerLogger(log), srv9p.TrustClaims()}, opts...)...)
	go func() { s.done <- s.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if _, err := s.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// stop cancels srv9p.Serve and returns how long it took to return (at most
// 10 s) and its error.
func (s *attackServer) stop() (time.Duration, error) {
	s.once.Do(func() {
		start := time.Now()
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(10 * time.Second):
			s.err = errors.New("Serve did not return 10 s after cancel")
		}
		s.elapsed = time.Since(start)
	})
	return s.elapsed, s.err
}

// tagsInFlight returns the number of tags in flight on the server's
// connections: running, queued, or read and waiting for room.
func (s *attackServer) tagsInFlight() int { return srv9p.TagsInFlight(s.srv) }

// attackExport exports a fresh directory holding "f" (attackData) and the
// directory "d".
func attackExport(t *testing.T, opts ...export.Option) (p9.Attacher, string) {
	t.Helper()
	a, dir := newExport(t, opts...)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte(attackData), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	return a, dir
}

// rawNoVersion connects to addr without a Tversion.
func rawNoVersion(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{T: t, Conn: nc}
}

// reply is one reply as a client read it.
type reply struct {
	tag uint16
	m   fcall.Msg
}

func (r reply) String() string {
	if e, ok := r.m.(*fcall.Rlerror); ok {
		return fmt.Sprintf("Rlerror %v (tag %d)", e.Errno, r.tag)
	}
	return fmt.Sprintf("%s (tag %d)", r.m, r.tag)
}

// recvReply reads one reply within d.
func recvReply(t *testing.T, r *rawConn, d time.Duration) reply {
	t.Helper()
	tag, m, err := r.Recv(d)
	if err != nil {
		t.Fatalf("no reply within %v: %v", d, err)
	}
	return reply{tag, m}
}

// recvUntil reads replies until one on tag arrives and returns them all.
func recvUntil(t *testing.T, r *rawConn, tag uint16) []reply {
	t.Helper()
	var got []reply
	for {
		rep := recvReply(t, r, srv9ptest.Promptly)
		got = append(got, rep)
		if rep.tag == tag {
			return got
		}
	}
}

// wantErrno reads one reply and wants it to be an Rlerror e on tag.
func wantErrno(t *testing.T, r *rawConn, tag uint16, e linux.Errno) {
	t.Helper()
	got := recvReply(t, r, srv9ptest.Promptly)
	if rl, ok := got.m.(*fcall.Rlerror); !ok || got.tag != tag || rl.Errno != e {
		t.Fatalf("reply %v, want Rlerror %v (tag %d)", got, e, tag)
	}
}

// serverCloses reads from nc (dropping whatever comes) until the server
// closes the connection, and fails if that takes longer than within.
func serverCloses(t *testing.T, nc net.Conn, within time.Duration) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 4096)
	for {
		_, err := nc.Read(buf)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.Fatalf("connection still open after %v", within)
		default:
			return // EOF, or ECONNRESET if our bytes were left unread
		}
	}
}

// paddedFrame is the frame of m with n more zero bytes inside its size.
func paddedFrame(tag uint16, m fcall.Msg, n int) []byte {
	b := fcall.Append(nil, fcall.L, tag, m)
	b = append(b, make([]byte, n)...)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return b
}

// qidOf returns the QID a Tgetattr of fid answers.
func qidOf(t *testing.T, r *rawConn, fid uint32) (p9.QID, error) {
	t.Helper()
	rep, err := r.RPC(&fcall.Tgetattr{Fid: fid, Mask: p9.AttrMaskAll})
	if err != nil {
		return p9.QID{}, err
	}
	return rep.(*fcall.Rgetattr).QID, nil
}

// heap returns the live heap and the bytes allocated so far, after
// collecting garbage (twice, so pooled buffers go too).
func heap() (live, total uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.TotalAlloc
}

// TestAttackTrailingBytes: frames padded beyond their message (9,000
// bytes after a Txattrwalk, one after a Tclunk, a whole Tclunk smuggled
// after a Twrite) are refused with EINVAL and do nothing: no xattr fid, no
// clunk, no write.
func TestAttackTrailingBytes(t *testing.T) {
	a, dir := attackExport(t)
	addr := startServer(t, a, nil).addr
	cases := []struct {
		name  string
		frame []byte
	}{
		{"Txattrwalk+9000", paddedFrame(50, &fcall.Txattrwalk{Fid: 2, NewFid: 3, Name: ""}, 9000)},
		{"Tclunk+1", paddedFrame(50, &fcall.Tclunk{Fid: 2}, 1)},
		{"Twrite+Tclunk", func() []byte {
			b := fcall.Append(nil, fcall.L, 50, &fcall.Twrite{Fid: 2, Data: []byte("XXXX")})
			b = fcall.Append(b, fcall.L, 51, &fcall.Tclunk{Fid: 2})
			binary.LittleEndian.PutUint32(b, uint32(len(b)))
			return b
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := srv9ptest.OpenRaw(t, addr)
			r.SendFrame(tc.frame)
			wantErrno(t, r, 50, linux.EINVAL)
			if err := r.Clunk(3); err != linux.EBADF {
				t.Fatalf("Tclunk of the would-be xattr fid: %v, want EBADF", err)
			}
			if b, err := r.Read(2, 0, 64); err != nil || string(b) != attackData {
				t.Fatalf("Tread of the original fid: %q, %v", b, err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "f")); string(b) != attackData {
				t.Fatalf("file holds %q", b)
			}
		})
	}
}

// TestAttackGetlockTokenLock: a Tlock with flags 1<<31 and the old
// getlock client string, against a write lock another connection holds,
// is an ordinary lock request: BLOCKED (an unlock releases only its own),
// and the holder keeps its lock.
func TestAttackGetlockTokenLock(t *testing.T) {
	a, _ := attackExport(t)
	addr := startServer(t, a, nil).addr
	holder, attacker := srv9ptest.OpenRaw(t, addr), srv9ptest.OpenRaw(t, addr)
	if st, err := holder.Lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
		t.Fatalf("holder: %d, %v", st, err)
	}
	for _, typ := range []p9.LockType{rdlck, wrlck, unlck} {
		rep, err := attacker.RPC(&fcall.Tlock{Fid: 2, LockType: typ, Flags: 1 << 31, PID: 1, Client: getlockToken})
		if err != nil {
			t.Fatalf("type %d: %v", typ, err)
		}
		if st := rep.(*fcall.Rlock).Status; typ != unlck && st != lockBlocked {
			t.Fatalf("type %d: status %d, want BLOCKED", typ, st)
		}
		g, err := attacker.GetLock(2, wrlck, 0, 0, "probe")
		if err != nil || g.LockType != wrlck {
			t.Fatalf("after type %d: Tgetlock %+v, %v; want the holder's write lock", typ, g, err)
		}
	}
}

// TestAttackSelfFlush: a Tflush of its own tag, or of an unknown tag, is
// answered at once, 50 of them leave the connection working, and srv9p.Serve
// still stops promptly with that connection open.
func TestAttackSelfFlush(t *testing.T) {
	a, _ := attackExport(t)
	s := startServer(t, a, nil)
	r := dialRaw(t, s.addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	flush := func(tag, old uint16) {
		t.Helper()
		r.Send(tag, &fcall.Tflush{OldTag: old})
		if got := recvReply(t, r, 2*time.Second); got.tag != tag || got.m.Type() != fcall.MsgRflush {
			t.Fatalf("Tflush %d of %d: %v", tag, old, got)
		}
	}
	flush(5, 5)
	flush(6, 999)
	for i := range uint16(50) {
		flush(100+i, 100+i)
	}
	if _, err := qidOf(t, r, 1); err != nil {
		t.Fatalf("Tgetattr after 50 self-flushes: %v", err)
	}
	r.Send(7, &fcall.Tflush{OldTag: 7}) // one left unread
	took, err := s.stop()
	if err != nil || took > 5*time.Second {
		t.Fatalf("Serve returned after %v: %v", took, err)
	}
	if strings.Contains(s.log.String(), "still busy") {
		t.Fatalf("Serve left connections behind:\n%s", s.log)
	}
	serverCloses(t, r.Conn, 5*time.Second)
}

// TestAttackServeStopsWhileReaderWaits: srv9p.Serve stops promptly, without
// leaving the connection behind, while a connection's reader waits for
// room (srv9p.MaxInflight(1): a blocking Tlock on a lock the host holds running,
// one request queued, one more read).
func TestAttackServeStopsWhileReaderWaits(t *testing.T) {
	a, dir := attackExport(t)
	hostLock(t, filepath.Join(dir, "f"))
	a, pendingWaits := srv9ptest.LockWaits(a)
	s := startServer(t, a, nil, srv9p.MaxInflight(1))
	w := srv9ptest.OpenRaw(t, s.addr)
	w.Send(10, srv9ptest.TlockOf(2, wrlck, lockFlagBlock, 0, 0))
	srv9ptest.WaitFor(t, "the blocking Tlock to wait", func() bool { return pendingWaits() == 1 })
	w.Send(11, &fcall.Tread{Fid: 2, Count: 10}) // queued
	w.Send(12, &fcall.Tread{Fid: 2, Count: 10}) // the reader waits for room
	srv9ptest.WaitFor(t, "the reader to wait for room", func() bool { return s.tagsInFlight() == 3 })
	took, err := s.stop()
	if err != nil || took >= srv9p.ShutdownGrace {
		t.Fatalf("Serve returned after %v: %v", took, err)
	}
	if strings.Contains(s.log.String(), "still busy") {
		t.Fatalf("Serve left connections behind:\n%s", s.log)
	}
	srv9ptest.WaitFor(t, "the lock wait to end", func() bool { return pendingWaits() == 0 })
}

// hostLock write-locks the whole file p with an OFD lock of the test's own
// until the test ends.
func hostLock(t *testing.T, p string) {
	t.Helper()
	fd, err := unix.Open(p, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
}

// TestAttackXattrcreateSize: Txattrcreate's attr_size is capped at
// XATTR_SIZE_MAX, Twrite cannot pass it, a short value is refused at the
// clunk, and none of these sets the attribute.
func TestAttackXattrcreateSize(t *testing.T) {
	a, dir := attackExport(t)
	addr := startServer(t, a, nil).addr
	const name = "user.attack"
	for _, tc := range srv9ptest.XattrSizeCases {
		t.Run(tc.Name, func(t *testing.T) {
			unix.Removexattr(filepath.Join(dir, "f"), name)
			r := dialRaw(t, addr)
			if err := r.Attach(1); err != nil {
				t.Fatal(err)
			}
			if err := r.Walk(1, 2, "f"); err != nil {
				t.Fatal(err)
			}
			tc.Check(t, r, filepath.Join(dir, "f"), name)
		})
	}
}

// TestAttackXattrcreateMemory: 20 unclunked Txattrcreate fids filled with
// 64 KiB each hold about that much memory, on a writable and a read-only
// export (where the clunk then answers EROFS).
func TestAttackXattrcreateMemory(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []export.Option
		clunkErr error // nil: whatever the host's file system says
	}{
		{"rw", nil, nil},
		{"ro", []export.Option{export.ReadOnly()}, linux.EROFS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := attackExport(t, tc.opts...)
			r := dialRaw(t, startServer(t, a, nil).addr)
			if err := r.Attach(1); err != nil {
				t.Fatal(err)
			}
			chunk := bytes.Repeat([]byte("m"), 32<<10)
			const fids = 20
			before, _ := heap()
			for i := range uint32(fids) {
				fid := 100 + i
				if err := r.Walk(1, fid, "f"); err != nil {
					t.Fatal(err)
				}
				if _, err := r.RPC(&fcall.Txattrcreate{Fid: fid, Name: "user.big", Size: srv9p.XattrSizeMax}); err != nil {
					t.Fatalf("Txattrcreate %d: %v", i, err)
				}
				for off := 0; off < srv9p.XattrSizeMax; off += len(chunk) {
					if err := r.Write(fid, uint64(off), chunk); err != nil {
						t.Fatalf("Twrite %d at %d: %v", i, off, err)
					}
				}
			}
			after, _ := heap()
			if grew := int64(after) - int64(before); grew > 16<<20 {
				t.Fatalf("heap grew %d MiB for %d xattr fids of 64 KiB", grew>>20, fids)
			}
			if err := r.Clunk(100); tc.clunkErr != nil && err != tc.clunkErr {
				t.Fatalf("Tclunk of a full xattr fid: %v, want %v", err, tc.clunkErr)
			}
		})
	}
}

// TestAttackXattrPipelinedClunk: a Tclunk sent right behind the Twrite
// that fills a Txattrcreate fid (no wait for Rwrite) either sets the whole
// value or answers EINVAL; never a part, never a data race.
func TestAttackXattrPipelinedClunk(t *testing.T) {
	a, dir := attackExport(t)
	r := dialRaw(t, startServer(t, a, nil).addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	const size = 1024 // fits in one ext3 block with its header
	for i := range 300 {
		val := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		if err := r.Walk(1, 2, "f"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.RPC(&fcall.Txattrcreate{Fid: 2, Name: "user.pipe", Size: size}); err != nil {
			t.Fatal(err)
		}
		// One write: the reader sees the Tclunk while the Twrite runs.
		b := fcall.Append(nil, fcall.L, 20, &fcall.Twrite{Fid: 2, Data: val})
		r.SendFrame(fcall.Append(b, fcall.L, 21, &fcall.Tclunk{Fid: 2}))
		var clunk reply
		for range 2 {
			if rep := recvReply(t, r, srv9ptest.Promptly); rep.tag == 21 {
				clunk = rep
			}
		}
		buf := make([]byte, 2*size)
		n, err := unix.Getxattr(filepath.Join(dir, "f"), "user.pipe", buf)
		switch m := clunk.m.(type) {
		case *fcall.Rclunk:
			if err != nil || !bytes.Equal(buf[:n], val) {
				t.Fatalf("round %d: Rclunk, but the host holds %d bytes (%v)", i, n, err)
			}
		case *fcall.Rlerror:
			if m.Errno != linux.EINVAL {
				t.Fatalf("round %d: Tclunk: %v", i, m.Errno)
			}
		default:
			t.Fatalf("round %d: Tclunk answered %v", i, clunk)
		}
	}
}

// TestAttackXattrWriteClunkRace: a Tclunk of a Txattrcreate fid racing
// a Twrite that already holds the fid reads the collected value under the
// fid's lock: the handlers run at once many times over (the wire cannot
// make them overlap that closely), and -race watches.
func TestAttackXattrWriteClunkRace(t *testing.T) {
	a, dir := attackExport(t)
	root, err := a.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	const size = 64
	val := bytes.Repeat([]byte("r"), size)
	_, file, err := root.Walk([]string{"f"})
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	c := srv9p.NewFidConn()
	sets := 0
	for i := range 20000 {
		c.AddXattrCreate(2, file, "user.race", size) // the clunk must not close file
		start := make(chan struct{})
		wrote, clunked := make(chan error, 1), make(chan error, 1)
		go func() {
			<-start
			_, err := c.Write(&fcall.Twrite{Fid: 2, Data: val})
			wrote <- err
		}()
		go func() {
			<-start
			clunked <- c.Clunk(2)
		}()
		close(start)
		werr, cerr := <-wrote, <-clunked
		switch {
		case werr != nil && werr != linux.EBADF:
			t.Fatalf("round %d: Twrite: %v", i, werr)
		case cerr == nil:
			sets++
		case cerr != linux.EINVAL:
			t.Fatalf("round %d: Tclunk: %v", i, cerr)
		}
	}
	buf := make([]byte, 2*size)
	if n, err := unix.Getxattr(filepath.Join(dir, "f"), "user.race", buf); sets > 0 && (err != nil || !bytes.Equal(buf[:n], val)) {
		t.Fatalf("after %d sets the host holds %q (%v)", sets, buf[:n], err)
	}
}

// TestAttackConnLimit: with srv9p.MaxConns(6), of which one is kept for
// root and members, a sixth unprivileged connection is closed at once, and
// a slot that frees up is usable again.
func TestAttackConnLimit(t *testing.T) {
	a, _ := attackExport(t)
	s := startServer(t, a, nil, srv9p.MaxConns(6))
	var conns []*rawConn
	for i := range 5 {
		r := dialRaw(t, s.addr)
		if err := r.Attach(1); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, r)
	}
	sixth := rawNoVersion(t, s.addr)
	serverCloses(t, sixth.Conn, 5*time.Second)
	conns[0].Conn.Close()
	var fresh *rawConn
	deadline := time.Now().Add(srv9ptest.Promptly)
	for fresh == nil {
		if time.Now().After(deadline) {
			t.Fatal("no connection accepted after one of five closed")
		}
		if fresh = versionOK(t, s.addr); fresh == nil {
			time.Sleep(10 * time.Millisecond) // poll interval
		}
	}
	if err := fresh.Attach(1); err != nil {
		t.Fatal(err)
	}
	// Five again: the next one is closed.
	serverCloses(t, rawNoVersion(t, s.addr).Conn, 5*time.Second)
	for _, r := range conns[1:] {
		if _, err := qidOf(t, r, 1); err != nil {
			t.Fatalf("connection within the limit: %v", err)
		}
	}
}

// versionOK dials addr and returns the connection if a Tversion is
// answered on it, nil if the server closed it.
func versionOK(t *testing.T, addr string) *rawConn {
	t.Helper()
	r := rawNoVersion(t, addr)
	if _, err := r.Conn.Write(fcall.Append(nil, fcall.L, fcall.NoTag, &fcall.Tversion{Msize: 8192, Version: "9P2000.L"})); err != nil {
		return nil
	}
	if _, m, err := r.Recv(srv9ptest.Promptly); err != nil || m.Type() != fcall.MsgRversion {
		r.Conn.Close()
		return nil
	}
	return r
}

// emfileListener fails its first fails Accepts with EMFILE.
type emfileListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAttackAcceptEMFILE: srv9p.Serve goes on serving after accept fails with
// EMFILE.
func TestAttackAcceptEMFILE(t *testing.T) {
	a, _ := attackExport(t)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &emfileListener{Listener: inner}
	ln.fails.Store(3)
	s := startServer(t, a, ln)
	r := dialRaw(t, s.addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	if n := ln.fails.Load(); n >= 0 {
		t.Fatalf("%d EMFILE failures left unseen", n+1)
	}
	select {
	case err := <-s.done:
		t.Fatalf("Serve returned: %v", err)
	default:
	}
	if !strings.Contains(s.log.String(), "accept failed") {
		t.Errorf("EMFILE not logged:\n%s", s.log)
	}
}

// TestAttackWalk: Twalk's limits hold and a refused walk makes no fid and
// leaves the newfid in use alone.
func TestAttackWalk(t *testing.T) {
	a, dir := attackExport(t)
	deep := make([]string, fcall.MaxWalk)
	for i := range deep {
		deep[i] = "a"
	}
	if err := os.MkdirAll(filepath.Join(append([]string{dir}, deep...)...), 0o755); err != nil {
		t.Fatal(err)
	}
	r := dialRaw(t, startServer(t, a, nil).addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	if err := r.Walk(1, 2, "f"); err != nil {
		t.Fatal(err)
	}
	if err := r.Walk(1, 3, "d"); err != nil {
		t.Fatal(err)
	}
	dq, err := qidOf(t, r, 3)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		fid    uint32
		newfid uint32
		names  []string
		want   error
	}{
		{"17 names", 1, 10, append(deep, "a"), linux.EINVAL},
		{"newfid in use", 1, 3, []string{"f"}, linux.EBADF},
		{"from a file", 2, 10, []string{"x"}, linux.ENOTDIR},
		{"dot", 1, 10, []string{"."}, linux.EINVAL},
		{"dotdot", 3, 10, []string{".."}, linux.EINVAL},
		{"slash", 1, 10, []string{"d/x"}, linux.EINVAL},
		{"nul", 1, 10, []string{"f\x00x"}, linux.EINVAL},
		{"empty", 1, 10, []string{""}, linux.EINVAL},
		{"second name bad", 1, 10, []string{"d", ".."}, linux.EINVAL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.Walk(tc.fid, tc.newfid, tc.names...); err != tc.want {
				t.Fatalf("Twalk %q: %v, want %v", tc.names, err, tc.want)
			}
			if err := r.Clunk(10); err != linux.EBADF {
				t.Fatalf("refused walk left fid 10: clunk %v", err)
			}
			if q, err := qidOf(t, r, 3); err != nil || q != dq {
				t.Fatalf("fid 3 now %v, %v; want the directory %v", q, err, dq)
			}
		})
	}
	t.Run("16 names", func(t *testing.T) {
		rep, err := r.RPC(&fcall.Twalk{Fid: 1, NewFid: 10, Names: deep})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(rep.(*fcall.Rwalk).QIDs); n != fcall.MaxWalk {
			t.Fatalf("%d qids", n)
		}
		if err := r.Clunk(10); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAttackVersionFlood: 2,000 Tversions agreeing on a 4 MiB msize
// allocate nothing of that size: the heap and the total allocated grow by
// less than 16 MiB.
func TestAttackVersionFlood(t *testing.T) {
	a, _ := attackExport(t)
	r := dialRaw(t, startServer(t, a, nil).addr)
	live0, total0 := heap()
	for i := range 2000 {
		rep, err := r.RPCTag(fcall.NoTag, &fcall.Tversion{Msize: srv9p.DefaultMaxMsize, Version: "9P2000.L"})
		if err != nil || rep.(*fcall.Rversion).Msize != srv9p.DefaultMaxMsize {
			t.Fatalf("Tversion %d: %v, %v", i, rep, err)
		}
	}
	live1, total1 := heap()
	if grew := int64(live1) - int64(live0); grew > 16<<20 {
		t.Errorf("heap grew %d MiB", grew>>20)
	}
	if alloc := total1 - total0; alloc > 16<<20 {
		t.Errorf("%d MiB allocated for 2,000 Tversions", alloc>>20)
	}
	if err := r.Attach(1); err != nil {
		t.Fatalf("attach after the flood: %v", err)
	}
}

// TestAttackIdle: with srv9p.IdleTimeout(200ms), a connection without fids is
// closed however much it sends, one holding a fid is not.
func TestAttackIdle(t *testing.T) {
	a, _ := attackExport(t)
	s := startServer(t, a, nil, srv9p.IdleTimeout(200*time.Millisecond))
	t.Run("version only", func(t *testing.T) {
		serverCloses(t, dialRaw(t, s.addr).Conn, 5*time.Second)
	})
	t.Run("version flood", func(t *testing.T) {
		r := dialRaw(t, s.addr)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := r.Conn.Write(fcall.Append(nil, fcall.L, fcall.NoTag, &fcall.Tversion{Msize: 8192, Version: "9P2000.L"})); err != nil {
				return
			}
			if _, _, err := r.Recv(time.Second); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal("Tversion not answered")
				}
				return
			}
		}
		t.Fatal("a connection sending only Tversions stayed open 5 s")
	})
	t.Run("attached", func(t *testing.T) {
		r := dialRaw(t, s.addr)
		if err := r.Attach(1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Recv(time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection with a fid: %v within 1 s, want nothing", err)
		}
		if _, err := qidOf(t, r, 1); err != nil {
			t.Fatal(err)
		}
		if err := r.Clunk(1); err != nil {
			t.Fatal(err)
		}
		serverCloses(t, r.Conn, 5*time.Second)
	})
}

// TestAttackFlushBlockingLock: a Tflush of a blocking Tlock that waits is
// answered Rlock (BLOCKED) then Rflush, and nothing more on that tag; the
// lock is not taken.
func TestAttackFlushBlockingLock(t *testing.T) {
	a, _ := attackExport(t)
	a, pendingWaits := srv9ptest.LockWaits(a)
	addr := startServer(t, a, nil).addr
	holder, w := srv9ptest.OpenRaw(t, addr), srv9ptest.OpenRaw(t, addr)
	if st, err := holder.Lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
		t.Fatalf("holder: %d, %v", st, err)
	}
	w.Send(10, srv9ptest.TlockOf(2, wrlck, lockFlagBlock, 0, 0))
	srv9ptest.WaitFor(t, "the blocking Tlock to wait", func() bool { return pendingWaits() == 1 })
	w.Send(11, &fcall.Tflush{OldTag: 10})
	got := []reply{recvReply(t, w, srv9ptest.Promptly), recvReply(t, w, srv9ptest.Promptly)}
	if rl, ok := got[0].m.(*fcall.Rlock); !ok || got[0].tag != 10 || rl.Status != lockBlocked {
		t.Fatalf("replies %v, want Rlock BLOCKED (tag 10) first", got)
	}
	if got[1].tag != 11 || got[1].m.Type() != fcall.MsgRflush {
		t.Fatalf("replies %v, want Rflush (tag 11) second", got)
	}
	// The next reply on the connection is the next request's.
	if _, err := w.RPCTag(10, &fcall.Tgetattr{Fid: 2, Mask: p9.AttrMaskAll}); err != nil {
		t.Fatal(err)
	}
	if g, err := w.GetLock(2, wrlck, 0, 0, "probe"); err != nil || g.LockType != wrlck {
		t.Fatalf("Tgetlock after the flush: %+v, %v; want the holder's lock", g, err)
	}
}

// TestAttackFlushQueued: with srv9p.MaxInflight(1) taken by a waiting lock, a
// Tflush of the queued request is still read and answered, the queued
// request never.
func TestAttackFlushQueued(t *testing.T) {
	a, _ := attackExport(t)
	a, pendingWaits := srv9ptest.LockWaits(a)
	addr := startServer(t, a, nil, srv9p.MaxInflight(1)).addr
	holder, w := srv9ptest.OpenRaw(t, addr), srv9ptest.OpenRaw(t, addr)
	if st, err := holder.Lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
		t.Fatalf("holder: %d, %v", st, err)
	}
	w.Send(10, srv9ptest.TlockOf(2, wrlck, lockFlagBlock, 0, 0))
	srv9ptest.WaitFor(t, "the blocking Tlock to wait", func() bool { return pendingWaits() == 1 })
	w.Send(11, &fcall.Tread{Fid: 2, Count: 64}) // queued behind it
	w.Send(12, &fcall.Tflush{OldTag: 11})
	if got := recvReply(t, w, 2*time.Second); got.tag != 12 || got.m.Type() != fcall.MsgRflush {
		t.Fatalf("first reply %v, want Rflush (tag 12)", got)
	}
	w.Send(13, &fcall.Tflush{OldTag: 10})
	got := recvUntil(t, w, 13)
	if len(got) != 2 || got[0].tag != 10 || got[0].m.Type() != fcall.MsgRlock {
		t.Fatalf("replies %v, want Rlock (tag 10) then Rflush (tag 13)", got)
	}
	// Nothing for tag 11 comes later: the next reply is the next request's.
	if _, err := w.RPCTag(14, &fcall.Tgetattr{Fid: 2, Mask: p9.AttrMaskAll}); err != nil {
		t.Fatal(err)
	}
}

// TestAttackTags: the tag, type and framing rules: a tag in use is
// EINVAL, an unknown type or an R-message ENOSYS, a request before
// Tversion EPROTO, none harming the session; a size field below 7 or above
// the msize closes the connection.
func TestAttackTags(t *testing.T) {
	a, _ := attackExport(t)
	a, pendingWaits := srv9ptest.LockWaits(a)
	addr := startServer(t, a, nil).addr
	t.Run("tag in use", func(t *testing.T) {
		holder, w := srv9ptest.OpenRaw(t, addr), srv9ptest.OpenRaw(t, addr)
		if st, err := holder.Lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
			t.Fatalf("holder: %d, %v", st, err)
		}
		w.Send(7, srv9ptest.TlockOf(2, wrlck, lockFlagBlock, 0, 0))
		srv9ptest.WaitFor(t, "the blocking Tlock to wait", func() bool { return pendingWaits() == 1 })
		w.Send(7, &fcall.Tgetattr{Fid: 2, Mask: p9.AttrMaskAll})
		wantErrno(t, w, 7, linux.EINVAL)
		// The Tlock on tag 7 is untouched: released, it is granted.
		if st, err := holder.Lock(2, unlck, 0, 0, 0); st != lockOK || err != nil {
			t.Fatalf("holder unlock: %d, %v", st, err)
		}
		got := recvReply(t, w, srv9ptest.Promptly)
		if rl, ok := got.m.(*fcall.Rlock); !ok || got.tag != 7 || rl.Status != lockOK {
			t.Fatalf("reply %v, want Rlock OK (tag 7)", got)
		}
	})
	typed := func(typ uint8) []byte {
		b := fcall.Append(nil, fcall.L, 9, &fcall.Tgetattr{Fid: 1, Mask: p9.AttrMaskAll})
		b[4] = typ
		return b
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  linux.Errno
	}{
		{"type 250", typed(250), linux.ENOSYS},
		{"Tlerror", typed(fcall.MsgRlerror - 1), linux.ENOSYS},
		{"Rversion", fcall.Append(nil, fcall.L, 9, &fcall.Rversion{Msize: fcall.MinMsize, Version: "unknown"}), linux.ENOSYS},
		{"Rlerror", fcall.Append(nil, fcall.L, 9, &fcall.Rlerror{Errno: linux.EIO}), linux.ENOSYS},
		{"Rflush", fcall.Append(nil, fcall.L, 9, &fcall.Rflush{}), linux.ENOSYS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := srv9ptest.OpenRaw(t, addr)
			r.SendFrame(tc.frame)
			wantErrno(t, r, 9, tc.want)
			if b, err := r.Read(2, 0, 64); err != nil || string(b) != attackData {
				t.Fatalf("session after it: read %q, %v", b, err)
			}
		})
	}
	t.Run("before Tversion", func(t *testing.T) {
		r := rawNoVersion(t, addr)
		for _, m := range []fcall.Msg{
			&fcall.Tattach{Fid: 1, Afid: fcall.NoFid, NUname: p9.NoUID},
			&fcall.Tgetattr{Fid: 1, Mask: p9.AttrMaskAll},
			&fcall.Tflush{OldTag: 1},
		} {
			if _, err := r.RPC(m); err != linux.EPROTO {
				t.Fatalf("%s before Tversion: %v, want EPROTO", m, err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		size uint32
	}{
		{"size 3", 3},
		{"size 0", 0},
		{"size msize+1", 64<<10 + 1},
		{"size 4 GiB", 1<<32 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := srv9ptest.OpenRaw(t, addr)
			b := fcall.Append(nil, fcall.L, 9, &fcall.Twrite{Fid: 2, Data: make([]byte, 100)})
			binary.LittleEndian.PutUint32(b, tc.size)
			r.SendFrame(b)
			serverCloses(t, r.Conn, 5*time.Second)
		})
	}
}

// TestAttackXattrwalkClunk: clunking the fid a Txattrwalk made leaves the
// fid it was made from working (the old server shared its File and closed
// it), opened or not.
func TestAttackXattrwalkClunk(t *testing.T) {
	a, dir := attackExport(t)
	if err := unix.Setxattr(filepath.Join(dir, "f"), "user.k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, a, nil).addr
	for _, opened := range []bool{true, false} {
		t.Run(fmt.Sprint("opened=", opened), func(t *testing.T) {
			r := dialRaw(t, addr)
			if err := r.Attach(1); err != nil {
				t.Fatal(err)
			}
			if err := r.Walk(1, 2, "f"); err != nil {
				t.Fatal(err)
			}
			if opened {
				if err := r.Lopen(2, rdwr); err != nil {
					t.Fatal(err)
				}
			}
			srv9ptest.XattrFidsLeaveFile(t, r, opened, attackData)
		})
	}
}
