package srv9p_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p"
	"mfs/srv9p/srv9ptest"
)

// writeCounter counts the Writes made on a connection.
type writeCounter struct {
	net.Conn
	mu     sync.Mutex
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes++
	w.mu.Unlock()
	return w.Conn.Write(p)
}

func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

// pipeSession serves a fresh export on one end of a pipe (wrapped by
// wrap) and returns a Raw on the other, in 9P2000.L, attached as fid 1.
func pipeSession(t *testing.T, wrap func(net.Conn) net.Conn) *srv9ptest.Raw {
	t.Helper()
	a, _ := newExport(t)
	cn, sn := net.Pipe()
	sc := wrap(sn)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv9p.ServeConn(srv9p.NewServer(a, srv9p.TrustClaims()), ctx, sc); close(done) }()
	t.Cleanup(func() { cancel(); cn.Close(); <-done })
	r := &srv9ptest.Raw{T: t, Conn: cn}
	if _, err := r.RPCTag(fcall.NoTag, &fcall.Tversion{Msize: 64 << 10, Version: "9P2000.L"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRepliesCoalesce: the replies to a burst of pipelined requests that
// the reader answers itself leave in one or two writes, not one each; the
// Rflush of a Tflush for one of them still comes after its reply, and
// each request gets its own reply.
func TestRepliesCoalesce(t *testing.T) {
	var wc *writeCounter
	r := pipeSession(t, func(sn net.Conn) net.Conn { wc = &writeCounter{Conn: sn}; return wc })
	const n = 32
	var burst []byte
	for tag := uint16(1); tag <= n; tag++ {
		burst = fcall.Append(burst, fcall.L, tag, &fcall.Tgetattr{Fid: 1, Mask: p9.AttrMaskAll})
	}
	burst = fcall.Append(burst, fcall.L, n+1, &fcall.Tflush{OldTag: n})
	before := wc.count()
	r.SendFrame(burst)
	seen := map[uint16]bool{}
	for range n + 1 {
		tag, m, err := r.Recv(srv9ptest.Timeout)
		if err != nil {
			t.Fatal(err)
		}
		switch m.(type) {
		case *fcall.Rgetattr:
			if tag < 1 || tag > n || seen[tag] {
				t.Fatalf("Rgetattr with tag %d", tag)
			}
		case *fcall.Rflush:
			if tag != n+1 || !seen[n] {
				t.Fatalf("Rflush (tag %d) before the reply of the request it flushes", tag)
			}
		default:
			t.Fatalf("reply %s (tag %d)", m, tag)
		}
		seen[tag] = true
	}
	if w := wc.count() - before; w > 2 {
		t.Errorf("%d replies in %d writes, want them in at most 2", n+1, w)
	}
}

// TestRepliesBeforeBadFrame: requests pipelined ahead of a frame that
// ends the connection (a size beyond msize) are answered before it ends,
// although their replies were held for the rest of the burst.
func TestRepliesBeforeBadFrame(t *testing.T) {
	r := pipeSession(t, func(sn net.Conn) net.Conn { return sn })
	var burst []byte
	for tag := uint16(1); tag <= 2; tag++ {
		burst = fcall.Append(burst, fcall.L, tag, &fcall.Tgetattr{Fid: 1, Mask: p9.AttrMaskAll})
	}
	burst = append(burst, 0xff, 0xff, 0xff, 0x7f, byte(fcall.MsgTgetattr), 3, 0)
	r.SendFrame(burst)
	for want := uint16(1); want <= 2; want++ {
		tag, m, err := r.Recv(srv9ptest.Timeout)
		if _, ok := m.(*fcall.Rgetattr); err != nil || !ok || tag != want {
			t.Fatalf("reply %v (tag %d), %v; want Rgetattr (tag %d)", m, tag, err, want)
		}
	}
	if _, m, err := r.Recv(srv9ptest.Timeout); err == nil {
		t.Fatalf("after the bad frame: %v, want the connection closed", m)
	}
}
