package srv9p_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"mfs/internal/fcall"
	"mfs/srv9p"
	"mfs/srv9p/srv9ptest"
)

// recorder is a srv9p.Metrics that remembers what it was told.
type recorder struct {
	mu       sync.Mutex
	requests map[string]int // "Tname" or "Tname!" for a failed one
	refused  map[srv9p.Limit]int
}

func (r *recorder) Request(typ uint8, d fcall.Dialect, failed bool, took time.Duration) {
	k := fcall.Name(typ)
	if failed {
		k += "!"
	}
	r.mu.Lock()
	r.requests[k]++
	r.mu.Unlock()
}

func (r *recorder) Transferred(bool, int) {}

func (r *recorder) Refused(l srv9p.Limit) {
	r.mu.Lock()
	r.refused[l]++
	r.mu.Unlock()
}

func (r *recorder) count(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[k]
}

// TestMetricsOutsideTheTable: requests answered without a handler
// (Tversion, Tflush, a frame before Tversion, a tag in use) are reported
// too, each once, failed or not as its reply says.
func TestMetricsOutsideTheTable(t *testing.T) {
	a, _ := newExport(t)
	rec := &recorder{requests: map[string]int{}, refused: map[srv9p.Limit]int{}}
	ln, addr := srv9ptest.Listen(t, "unix")
	srv := srv9p.NewServer(a, srv9p.TrustClaims(), srv9p.WithMetrics(rec))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()

	// A request before any Tversion: EPROTO.
	nc, err := net.Dial("unix", addr[len("unix:"):])
	if err != nil {
		t.Fatal(err)
	}
	pre := &srv9ptest.Raw{T: t, Conn: nc}
	if _, err := pre.RPC(&fcall.Tclunk{Fid: 1}); err == nil {
		t.Fatal("Tclunk before Tversion worked")
	}
	nc.Close()

	r := srv9ptest.DialRaw(t, addr)
	if _, err := r.RPC(&fcall.Tflush{OldTag: 77}); err != nil {
		t.Fatal(err)
	}
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	srv9ptest.WaitFor(t, "every reply counted", func() bool {
		return rec.count("Tversion") == 1 && rec.count("Tclunk!") == 1 && rec.count("Tflush") == 1 && rec.count("Tattach") == 1
	})
	u := srv.Usage()
	if u.Conns != 1 || len(u.Fids) != 1 {
		t.Errorf("usage %+v, want one connection with one fid", u)
	}
}
