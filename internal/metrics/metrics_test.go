package metrics_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/internal/fcall"
	"mfs/internal/metrics"
	"mfs/internal/metrics/metricstest"
	"mfs/srv9p"
	"mfs/srv9p/export"
	"mfs/srv9p/srv9ptest"
)

// serve runs a srv9p server of an export of a fresh directory holding
// file "f" of size bytes on a unix socket, with its metrics served on
// another; it returns the directory and both addresses. opts are added to
// the server's.
func serve(t *testing.T, size int, opts ...srv9p.ServerOption) (dir, addr, maddr string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := export.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.New()
	sm := reg.Server(metrics.ServiceExport)
	srv := srv9p.NewServer(a, append([]srv9p.ServerOption{srv9p.ServerLogger(srv9ptest.Logger(t)), srv9p.TrustClaims(), srv9p.WithMetrics(sm)}, opts...)...)
	sm.Watch(srv)
	ln, addr := srv9ptest.Listen(t, "unix")
	maddr = "unix:" + filepath.Join(filepath.Dir(strings.TrimPrefix(addr, "unix:")), "metrics.sock")
	mln, err := metrics.Listen(maddr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ctx, ln) }()
	go func() { done <- reg.Serve(ctx, mln, nil) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("a server did not stop")
			}
		}
	})
	return dir, addr, maddr
}

// TestScrapeExport scrapes a real server's endpoint after a known
// sequence of requests and checks every figure the sequence sets.
func TestScrapeExport(t *testing.T) {
	const size = 1000
	_, addr, maddr := serve(t, size)
	me := strconv.Itoa(os.Getuid())
	c, err := dial.Dial(context.Background(), addr, dial.Options{UName: me, UID: p9.UID(os.Getuid())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root, err := c.Attach("")
	if err != nil {
		t.Fatal(err)
	}
	// Three Twalks, one of them failing; one Tlopen, one Tread of size
	// bytes, one Twrite of 10.
	if _, _, err := root.Walk([]string{"missing"}); err == nil {
		t.Fatal("walk to a missing file worked")
	}
	_, g, err := root.Walk([]string{"f"})
	if err != nil {
		t.Fatal(err)
	}
	g.Close() // a Tclunk
	_, f, err := root.Walk([]string{"f"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Open(p9.ReadWrite); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); n != size {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	if n, err := f.WriteAt([]byte("0123456789"), size); n != 10 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}

	m := metricstest.MustScrape(t, maddr)
	L := fcall.L.String()
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"mfs_requests_total", []string{"op", "Tversion", "dialect", L}, 1},
		{"mfs_requests_total", []string{"op", "Tattach", "dialect", L}, 1},
		{"mfs_requests_total", []string{"op", "Twalk", "dialect", L}, 3},
		{"mfs_request_errors_total", []string{"op", "Twalk", "dialect", L}, 1},
		{"mfs_request_errors_total", []string{"op", "Tattach", "dialect", L}, 0},
		{"mfs_requests_total", []string{"op", "Tlopen"}, 1},
		{"mfs_requests_total", []string{"op", "Tread"}, 1},
		{"mfs_requests_total", []string{"op", "Twrite"}, 1},
		{"mfs_requests_total", []string{"op", "Tclunk"}, 1},
		{"mfs_request_duration_seconds", []string{"service", "export", "op", "Twalk"}, 3},
		{"mfs_read_bytes_total", []string{"service", "export"}, size},
		{"mfs_written_bytes_total", []string{"service", "export"}, 10},
		{"mfs_connections", []string{"service", "export"}, 1},
		{"mfs_fids", []string{"service", "export", "uid", me}, 2}, // the root and f
		{"mfs_limit_refusals_total", []string{"service", "export", "limit", "conns"}, 0},
	} {
		got, ok := m.Value(tc.name, append([]string{"service", "export"}, tc.labels...)...)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_open_fds"} {
		if m[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}

	if m["mfs_membership_events_total"] != nil || m["mfs_peer_up"] != nil {
		t.Errorf("a lone export shows cluster metrics")
	}

	// The connection ends: its fids go, and so does the gauge.
	c.Close()
	srv9ptest.WaitFor(t, "the connection to be gone from the gauges", func() bool {
		m := metricstest.MustScrape(t, maddr)
		return m.Get("mfs_connections", "service", "export") == 0 && m.Sum("mfs_fids") == 0
	})
}

// TestScrapeDialects: a 9P2000 session counts under its dialect.
func TestScrapeDialects(t *testing.T) {
	_, addr, maddr := serve(t, 10)
	r := srv9ptest.DialRawDialect(t, addr, fcall.Plan9)
	if _, err := r.RPC(&fcall.Tattach{Fid: 1, Afid: ^uint32(0), Uname: "root"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RPC(&fcall.Tstat{Fid: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RPC(&fcall.Tstat{Fid: 99}); err == nil {
		t.Fatal("stat of an unknown fid worked")
	}
	m := metricstest.MustScrape(t, maddr)
	if got := m.Get("mfs_requests_total", "op", "Tstat", "dialect", "9P2000"); got != 2 {
		t.Errorf("Tstat in 9P2000: %v, want 2", got)
	}
	if got := m.Get("mfs_request_errors_total", "op", "Tstat", "dialect", "9P2000"); got != 1 {
		t.Errorf("failed Tstat in 9P2000: %v, want 1", got)
	}
	if got := m.Sum("mfs_requests_total", "dialect", "9P2000.L"); got != 0 {
		t.Errorf("%v requests counted as 9P2000.L", got)
	}
}

// TestScrapeRefusedConns: connections past MaxConns are counted as limit
// refusals. Of MaxConns(2) one is kept for root and cluster members, so
// the test's ordinary connections get one.
func TestScrapeRefusedConns(t *testing.T) {
	_, addr, maddr := serve(t, 10, srv9p.MaxConns(2))
	network, address, _ := dial.ParseAddr(addr)
	first, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	srv9ptest.WaitFor(t, "the first connection", func() bool {
		return metricstest.MustScrape(t, maddr).Get("mfs_connections", "service", "export") == 1
	})
	for range 2 {
		c, err := net.Dial(network, address)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(srv9ptest.Promptly))
		c.Read(make([]byte, 1)) // EOF: the server closed it
		c.Close()
	}
	srv9ptest.WaitFor(t, "two refusals", func() bool {
		return metricstest.MustScrape(t, maddr).Get("mfs_limit_refusals_total", "service", "export", "limit", "conns") == 2
	})
}

// TestNoAllocs: counting a request or a transfer allocates nothing, once
// its series exist.
func TestNoAllocs(t *testing.T) {
	sm := metrics.New().Server(metrics.ServiceExport)
	sm.Request(fcall.MsgTwalk, fcall.L, false, time.Millisecond)
	n := testing.AllocsPerRun(1000, func() {
		sm.Request(fcall.MsgTwalk, fcall.L, true, 30*time.Microsecond)
		sm.Transferred(false, 4096)
		sm.Transferred(true, 4096)
	})
	if n != 0 {
		t.Errorf("%v allocations per request", n)
	}
	pm := metrics.New().Namespace()
	pm.PeerRTT(2, time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() { pm.PeerRTT(2, time.Millisecond) }); n != 0 {
		t.Errorf("%v allocations per peer round trip", n)
	}
}

// TestCheckAddr: unix sockets and loopback only.
func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string // "" for no error
	}{
		{"unix:/run/mfs/metrics.sock", ""},
		{"127.0.0.1:9640", ""},
		{"127.0.0.2:9640", ""},
		{"[::1]:9640", ""},
		{"localhost:9640", ""},
		{"0.0.0.0:9640", "not on loopback"},
		{":9640", "not on loopback"},
		{"[::]:9640", "not on loopback"},
		{"10.1.2.3:9640", "not on loopback"},
		{"metrics.example:9640", "not on loopback"},
		{"unix:", "empty socket path"},
		{"9640", "9640"},
	} {
		err := metrics.CheckAddr(tc.addr)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckAddr(%q) = %v, want %q", tc.addr, err, tc.want)
		}
	}
	if _, err := metrics.Listen("0.0.0.0:0"); err == nil || !strings.Contains(err.Error(), "SSH tunnel") {
		t.Errorf("Listen(0.0.0.0:0) = %v", err)
	}
}

// TestSocketMode: the unix socket is for its owner and group.
func TestSocketMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "m.sock")
	ln, err := metrics.Listen("unix:" + p)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want 0660", fi.Mode().Perm())
	}
}
