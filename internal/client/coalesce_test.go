package client

import (
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"mfs/internal/fcall"
)

// gatedConn counts the frames of each Write and can hold the next Write
// until released.
type gatedConn struct {
	net.Conn
	mu      sync.Mutex
	writes  []int         // frames per Write (whole frames: the client's are)
	gate    chan struct{} // while not nil, a Write waits for it to close
	entered chan struct{} // closed when a Write waits at the gate
}

func (g *gatedConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	g.writes = append(g.writes, frames(p))
	gate, entered := g.gate, g.entered
	g.gate, g.entered = nil, nil
	g.mu.Unlock()
	if gate != nil {
		close(entered)
		<-gate
	}
	return g.Conn.Write(p)
}

// hold makes the next Write wait until the returned release is called.
func (g *gatedConn) hold() (entered <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate, g.entered = make(chan struct{}), make(chan struct{})
	gate := g.gate
	return g.entered, func() { close(gate) }
}

// written is the frames of each Write so far.
func (g *gatedConn) written() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.writes...)
}

// frames counts the frames in b.
func frames(b []byte) int {
	n := 0
	for ; len(b) >= fcall.HeaderSize; n++ {
		size, _, _ := fcall.Header(b)
		if size < fcall.HeaderSize {
			break
		}
		b = b[min(int(size), len(b)):]
	}
	return n
}

// queuedFrames counts the requests waiting in c's write queue.
func queuedFrames(c *Conn) int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return frames(c.queued)
}

// TestSendCoalesces: requests sent while another caller's write is under
// way do not wait for it; they leave together in the next write, and
// every call gets its answer.
func TestSendCoalesces(t *testing.T) {
	const n = 16
	a, dir := newExport(t)
	for i := range n {
		writeHost(t, filepath.Join(dir, fmt.Sprintf("p%02d", i)), []byte("x"))
	}
	g := &gatedConn{Conn: serve(t, "tcp", a, nil).dial(t)}
	c := connect(t, g, Options{Timeout: 10 * time.Second, InOrder: true})
	root := attach(t, c)

	entered, release := g.hold()
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { _, _, _, _, errs[0] = root.WalkGetAttr([]string{"p00"}) })
	<-entered
	before := len(g.written())
	for i := 1; i < n; i++ {
		wg.Go(func() {
			_, f, _, a, err := root.WalkGetAttr([]string{fmt.Sprintf("p%02d", i)})
			if err == nil {
				if a.Size != 1 {
					err = fmt.Errorf("size %d", a.Size)
				}
				f.Close()
			}
			errs[i] = err
		})
	}
	// Each of the others queues its Twalk and Tgetattr behind the held
	// write (the first caller's Tgetattr waits for its Twalk's write).
	for queuedFrames(c) < 2*(n-1) {
		runtime.Gosched()
	}
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("WalkGetAttr p%02d: %v", i, err)
		}
	}
	// The held write's caller writes what queued behind it at once.
	if w := g.written()[before:]; len(w) == 0 || w[0] != 2*(n-1) {
		t.Errorf("frames per write after the held one: %v, want the %d queued first, in one", w, 2*(n-1))
	}
}
