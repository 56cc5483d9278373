package namespace

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/membership"
	"mfs/srv9p"
	"mfs/srv9p/srv9ptest"
)

// hooked wraps an export so a test can slow down or hold its FSync and
// ReadAt, or count its GetAttrs. Its files are not srv9p.Inline, so every request of a peer
// runs on a goroutine of its own.
type hooked struct {
	p9.Attacher
	fsync   func()
	read    func()
	getattr func()
}

func (h *hooked) Attach() (p9.File, error) {
	f, err := h.Attacher.Attach()
	if err != nil {
		return nil, err
	}
	return &hookedFile{File: f, h: h}, nil
}

type hookedFile struct {
	p9.File
	h *hooked
}

func (f *hookedFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	q, nf, err := f.File.Walk(names)
	if err != nil {
		return nil, nil, err
	}
	return q, &hookedFile{File: nf, h: f.h}, nil
}

func (f *hookedFile) GetAttr(req p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	if f.h.getattr != nil {
		f.h.getattr()
	}
	return f.File.GetAttr(req)
}

func (f *hookedFile) FSync() error {
	if f.h.fsync != nil {
		f.h.fsync()
	}
	return f.File.FSync()
}

func (f *hookedFile) ReadAt(p []byte, off int64) (int, error) {
	if f.h.read != nil {
		f.h.read()
	}
	return f.File.ReadAt(p, off)
}

// flushCounter counts the Tflush frames the connections a listener
// accepts receive, and the connections.
type flushCounter struct {
	net.Listener
	conns, flushes atomic.Int32
}

func (l *flushCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.conns.Add(1)
		c = &frameReader{Conn: c, l: l}
	}
	return c, err
}

type frameReader struct {
	net.Conn
	l    *flushCounter
	pend []byte // the start of a frame not yet whole
	skip int    // bytes of the current frame still to pass
}

func (r *frameReader) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	b := p[:n]
	for len(b) > 0 {
		if r.skip > 0 {
			k := min(r.skip, len(b))
			r.skip -= k
			b = b[k:]
			continue
		}
		k := min(fcall.HeaderSize-len(r.pend), len(b))
		r.pend = append(r.pend, b[:k]...)
		b = b[k:]
		if len(r.pend) == fcall.HeaderSize {
			size, typ, _ := fcall.Header(r.pend)
			if typ == fcall.MsgTflush {
				r.l.flushes.Add(1)
			}
			r.skip = int(size) - fcall.HeaderSize
			r.pend = r.pend[:0]
		}
	}
	return n, err
}

// hookedPeer serves node 2 of c from a hooked export of its directory and
// points node 1's namespace at it; it returns the counting listener.
func hookedPeer(t *testing.T, c *cluster, h *hooked) *flushCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fc := &flushCounter{Listener: ln}
	h.Attacher = exportOf(t, c.dirs[1])
	ctx := t.Context()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv9p.NewServer(h, srv9p.ServerLogger(testLog(t)), srv9p.TrustClaims()).Serve(ctx, fc)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	c.ns[0].SetNode(Node{ID: 2, Addr: ln.Addr().String(), State: membership.Alive})
	return fc
}

// TestPeerSlowCall: an fsync that the peer takes longer than the timeout
// over fails alone with ETIMEDOUT; the peer sees a Tflush, and other
// files of the node keep working on the same connection.
func TestPeerSlowCall(t *testing.T) {
	const bound = 300 * time.Millisecond
	c := newCluster(t, 2, WithTimeout(bound))
	mustWriteHost(t, c.dirs[1], "s/f", "slow")
	mustWriteHost(t, c.dirs[1], "s/g", "fine")
	release := make(chan struct{})
	fc := hookedPeer(t, c, &hooked{fsync: func() { <-release }})
	defer close(release)
	root := attach(t, c.client(t, 1), "")
	f := walk(t, root, "2/s/f")
	if _, _, err := f.Open(p9.ReadWrite); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := f.FSync()
	if took := time.Since(start); !isErrno(err, linux.ETIMEDOUT) || took > bound+2*time.Second {
		t.Fatalf("fsync on a stuck peer: %v after %v, want ETIMEDOUT within about %v", err, took, bound)
	}
	if n := fc.flushes.Load(); n == 0 {
		t.Error("the peer saw no Tflush")
	}
	if got, err := readAll(root, "2/s/g"); err != nil || got != "fine" {
		t.Errorf("another file of the node after the timeout: %q, %v", got, err)
	}
	if _, _, _, err := f.GetAttr(p9.AttrMask{Size: true}); err != nil {
		t.Errorf("the slow file itself after the timeout: %v", err)
	}
	if n := fc.conns.Load(); n != 1 {
		t.Errorf("%d connections to the peer, want the one, kept", n)
	}
}

// TestPeerPipelined: 16 reads in flight at once on one client connection
// to the namespace are 16 reads in flight at once on the peer.
func TestPeerPipelined(t *testing.T) {
	const n = 16
	c := newCluster(t, 2)
	mustWriteHost(t, c.dirs[1], "p/f", "sixteen")
	var (
		mu      sync.Mutex
		in, top int
		all     = make(chan struct{})
	)
	hookedPeer(t, c, &hooked{read: func() {
		mu.Lock()
		in++
		top = max(top, in)
		if in == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
		mu.Lock()
		in--
		mu.Unlock()
	}})
	r := srv9ptest.DialRaw(t, c.nsSrv[0].addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	for i := range uint32(n) {
		if err := r.Walk(1, 10+i, "2", "p", "f"); err != nil {
			t.Fatal(err)
		}
		if err := r.Lopen(10+i, 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := range uint16(n) {
		r.Send(100+i, &fcall.Tread{Fid: 10 + uint32(i), Count: 64})
	}
	for range n {
		_, m, err := r.Recv(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if rr, ok := m.(*fcall.Rread); !ok || string(rr.Data) != "sixteen" {
			t.Fatalf("reply %s %+v", m, m)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if top != n {
		t.Fatalf("at most %d reads in flight on the peer, want %d", top, n)
	}
}
