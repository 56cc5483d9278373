package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p/export"
	"mfs/srv9p/srv9ptest"
)

// networks are the transports every server test runs on.
var networks = []string{"tcp", "unix"}

// target is where a test server listens.
type target struct{ network, addr string }

func (tg target) dial(t testing.TB) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout(tg.network, tg.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// listen opens a listener on loopback TCP or on a unix socket in a short
// temporary directory (srv9ptest.Listen).
func listen(t testing.TB, network string) net.Listener {
	t.Helper()
	ln, _ := srv9ptest.Listen(t, network)
	return ln
}

// serve runs a srv9p server of a on a fresh listener until the test ends.
// wrap, if not nil, wraps the listener (to tap the server's connections).
func serve(t testing.TB, network string, a p9.Attacher, wrap func(net.Listener) net.Listener) target {
	t.Helper()
	ln := listen(t, network)
	tg := target{network, ln.Addr().String()}
	if wrap != nil {
		ln = wrap(ln)
	}
	srv9ptest.ServeListener(t, ln, a)
	return tg
}

// newExport exports a fresh temporary directory.
func newExport(t testing.TB) (p9.Attacher, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := export.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

// connect starts a client session on nc, closed when the test ends.
func connect(t testing.TB, nc net.Conn, opts Options) *Conn {
	t.Helper()
	c, err := New(nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// attach attaches to the export's root.
func attach(t testing.TB, c *Conn) *File {
	t.Helper()
	root, err := c.Attach("", "root", p9.NoUID)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// walkTo walks from f to the slash-separated path p; the new file is
// closed when the test ends.
func walkTo(t testing.TB, f *File, p string) *File {
	t.Helper()
	var names []string
	if p != "" {
		names = strings.Split(p, "/")
	}
	_, nf, err := f.Walk(names)
	if err != nil {
		t.Fatalf("walk %q: %v", p, err)
	}
	t.Cleanup(func() { nf.Close() })
	return nf.(*File)
}

// openAt walks to p and opens it with mode.
func openAt(t testing.TB, f *File, p string, mode p9.OpenFlags) *File {
	t.Helper()
	nf := walkTo(t, f, p)
	if _, _, err := nf.Open(mode); err != nil {
		t.Fatalf("open %q: %v", p, err)
	}
	return nf
}

// fidsInUse is the number of fid numbers the client has handed out and
// not got back.
func fidsInUse(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.nextFid-1) - len(c.freeFids)
}

// pending is the number of calls waiting for a reply.
func pending(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// peekFid returns the fid number the next allocation will use.
func peekFid(c *Conn) uint32 {
	f := c.newFid()
	c.putFid(f)
	return f
}

// serverHas reports whether the server knows fid (a Tgetattr on it answers
// something other than EBADF).
func serverHas(t testing.TB, c *Conn, fid uint32) bool {
	t.Helper()
	_, err := c.rpc(&fcall.Tgetattr{Fid: fid, Mask: p9.AttrMask{Mode: true}})
	return !errors.Is(err, linux.EBADF)
}

// waitFor polls cond until it holds or d has passed.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wantErrno fails the test unless err is (or wraps) e.
func wantErrno(t testing.TB, what string, err error, e linux.Errno) {
	t.Helper()
	if !errors.Is(err, e) {
		t.Errorf("%s: got error %v, want %v", what, err, e)
	}
}

// check fails the test now if err is not nil.
func check(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// frame is one 9P frame seen on a tapped connection.
type frame struct {
	typ  uint8
	tag  uint16
	size int
	msg  fcall.Msg // nil if it did not decode
}

// frameLog reassembles the frames of one direction of a byte stream.
type frameLog struct {
	mu     sync.Mutex
	buf    []byte
	frames []frame
}

func (l *frameLog) add(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for len(l.buf) >= fcall.HeaderSize {
		size := binary.LittleEndian.Uint32(l.buf)
		if size < fcall.HeaderSize {
			l.buf = nil // not 9P: stop parsing
			return
		}
		if uint32(len(l.buf)) < size {
			return
		}
		f := bytes.Clone(l.buf[:size])
		_, typ, tag := fcall.Header(f)
		_, m, _ := fcall.Decode(fcall.L, f)
		l.frames = append(l.frames, frame{typ: typ, tag: tag, size: int(size), msg: m})
		l.buf = l.buf[size:]
	}
}

// all returns the frames seen so far.
func (l *frameLog) all() []frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]frame(nil), l.frames...)
}

// tap is a net.Conn that records the frames written (out) and read (in).
type tap struct {
	net.Conn
	out, in frameLog
}

func (c *tap) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.add(p[:n])
	return n, err
}

func (c *tap) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.add(p[:n])
	return n, err
}

// tapListener taps every connection it accepts.
type tapListener struct {
	net.Listener
	mu   sync.Mutex
	taps []*tap
}

func (l *tapListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &tap{Conn: nc}
	l.mu.Lock()
	l.taps = append(l.taps, tc)
	l.mu.Unlock()
	return tc, nil
}

// received returns the frames the server read on all its connections.
func (l *tapListener) received() []frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	var fs []frame
	for _, tc := range l.taps {
		fs = append(fs, tc.in.all()...)
	}
	return fs
}

// proxy forwards TCP connections to a server until it is frozen: then it
// stops forwarding in both directions, without closing anything, as a
// peer that hangs or a network that drops every packet would.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	thaw  chan struct{} // not nil while frozen; closed by unfreeze
	conns []net.Conn
}

func newProxy(t testing.TB, to string) *proxy {
	t.Helper()
	p := &proxy{ln: listen(t, "tcp"), target: to}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go p.pump(out, in)
		go p.pump(in, out)
	}
}

func (p *proxy) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// gate waits while the proxy is frozen.
func (p *proxy) gate() {
	p.mu.Lock()
	ch := p.thaw
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func (p *proxy) freeze() {
	p.mu.Lock()
	if p.thaw == nil {
		p.thaw = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *proxy) unfreeze() {
	p.mu.Lock()
	if p.thaw != nil {
		close(p.thaw)
		p.thaw = nil
	}
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.unfreeze()
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// hooks are what a hookAttacher's files do before the real call; an
// error a hook returns is the call's.
type hooks struct {
	fsync  func() error
	readAt func(name string) error // name: the last name walked to
}

// hookAttacher wraps an export: its files run hooks first.
type hookAttacher struct {
	p9.Attacher
	h *hooks
}

// Attach implements p9.Attacher.Attach.
func (a *hookAttacher) Attach() (p9.File, error) {
	f, err := a.Attacher.Attach()
	if err != nil {
		return nil, err
	}
	return &hookFile{File: f, h: a.h}, nil
}

// hookFile is a file of the export wrapped with hooks; files it reaches
// are wrapped too.
type hookFile struct {
	p9.File
	h    *hooks
	name string // the last name walked to
}

var _ p9.File = (*hookFile)(nil)

// Walk implements p9.File.Walk.
func (f *hookFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	qids, nf, err := f.File.Walk(names)
	if err != nil {
		return nil, nil, err
	}
	name := f.name
	if len(names) > 0 {
		name = names[len(names)-1]
	}
	return qids, &hookFile{File: nf, h: f.h, name: name}, nil
}

// WalkGetAttr implements p9.File.WalkGetAttr.
func (f *hookFile) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	qids, nf, err := f.Walk(names)
	if err != nil {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	_, valid, attr, err := nf.GetAttr(p9.AttrMaskAll)
	if err != nil {
		nf.Close()
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	return qids, nf, valid, attr, nil
}

// FSync implements p9.File.FSync.
func (f *hookFile) FSync() error {
	if f.h.fsync != nil {
		if err := f.h.fsync(); err != nil {
			return err
		}
	}
	return f.File.FSync()
}

// ReadAt implements p9.File.ReadAt.
func (f *hookFile) ReadAt(p []byte, off int64) (int, error) {
	if f.h.readAt != nil {
		if err := f.h.readAt(f.name); err != nil {
			return 0, err
		}
	}
	return f.File.ReadAt(p, off)
}
