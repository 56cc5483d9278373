package namespace

import (
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/membership"
)

// freezer forwards loopback TCP to a target until frozen; then it stops
// moving bytes but keeps every connection open, as a cut-off network
// does.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen chan struct{}
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target, frozen: make(chan struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, u)
			f.mu.Unlock()
			f.wg.Add(2)
			go f.pipe(c, u)
			go f.pipe(u, c)
		}
	}()
	t.Cleanup(f.close)
	return f
}

// pipe copies until frozen (then it holds the bytes) or closed.
func (f *freezer) pipe(dst, src net.Conn) {
	defer f.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-f.frozen:
			io.Copy(io.Discard, src) // swallow until closed
			return
		default:
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() { close(f.frozen) }

func (f *freezer) close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// TestPeerCutOff: the peer stops answering in the middle of reads (a cut
// network, not a closed socket). Pending and later calls fail with
// EHOSTDOWN within the bound, the rest of the union works, and nothing
// is left running.
func TestPeerCutOff(t *testing.T) {
	const bound = 500 * time.Millisecond
	before := runtime.NumGoroutine()
	t.Run("run", func(t *testing.T) {
		c := newCluster(t, 3, WithTimeout(bound))
		mustWriteHost(t, c.dirs[1], "big", string(make([]byte, 16<<20)))
		fz := newFreezer(t, c.exports[1].addr)
		c.ns[0].SetNode(Node{ID: 2, Addr: fz.ln.Addr().String(), State: membership.Alive})
		root := attach(t, c.client(t, 1), "")
		f := walk(t, root, "2/big")
		if _, _, err := f.Open(p9.ReadOnly); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		took := make([]time.Duration, 4)
		started := make(chan struct{}, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 1<<20)
				var err error
				for off := int64(0); err == nil; off = (off + 1<<20) % (16 << 20) {
					if off == 1<<20 {
						started <- struct{}{}
					}
					start := time.Now()
					_, err = f.ReadAt(buf, off)
					took[i] = time.Since(start)
				}
				errs[i] = err
			}()
		}
		for range errs {
			<-started
		}
		fz.freeze()
		wg.Wait()
		for i, err := range errs {
			if !isErrno(err, linux.EHOSTDOWN) || took[i] > bound+time.Second {
				t.Errorf("reader %d: %v after %v, want EHOSTDOWN within %v", i, err, took[i], bound)
			}
		}
		if _, err := listDir(root, "3"); err != nil {
			t.Errorf("node 3 while node 2 is cut off: %v", err)
		}
	})
	waitGoroutines(t, before, 5*time.Second)
}
