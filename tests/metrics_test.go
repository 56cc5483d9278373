package tests

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/metrics/metricstest"
	"mfs/tests/clusterutil"
)

// TestMetricsNode scrapes a real `mfs node` started with --metrics-listen
// on a unix socket, as Prometheus would, and parses it with Prometheus's
// text parser: the requests of a known sequence through its namespace
// listener, the bytes read, the connection while it is open, the link to
// node 2 and the round trips to it; then node 2 is killed, and node 1's
// endpoint shows it down and failed.
func TestMetricsNode(t *testing.T) {
	maddr := "unix:" + filepath.Join(t.TempDir(), "metrics.sock")
	n1, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 1, Args: []string{"--metrics-listen", maddr}})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 2, Join: []string{n1.GossipAddr}})
	if err != nil {
		t.Fatal(err)
	}
	n1.WaitListed(t, 1, 2)
	before := metricstest.MustScrape(t, maddr)

	const ns = "namespace"
	var during metricstest.Families
	err = n1.Do("", func(root p9.File) error {
		// Three Twalks (one to a missing name), a Tlopen, a Tread of
		// node 2's file, a Tclunk.
		if _, _, err := root.Walk([]string{"nope"}); err == nil {
			t.Error("walk to /nope worked")
		}
		_, g, err := root.Walk([]string{"1", "node-1.txt"})
		if err != nil {
			return err
		}
		g.Close()
		_, f, err := root.Walk([]string{"2", "node-2.txt"})
		if err != nil {
			return err
		}
		defer f.Close()
		if _, _, err := f.Open(p9.ReadOnly); err != nil {
			return err
		}
		buf := make([]byte, 100)
		if n, err := f.ReadAt(buf, 0); n != len("node 2\n") || (err != nil && err != io.EOF) {
			t.Errorf("read %q, %v", buf[:n], err)
		}
		clusterutil.Eventually(t, clusterutil.OpTimeout, "one namespace connection", func() bool {
			during = metricstest.MustScrape(t, maddr)
			return during.Get("mfs_connections", "service", ns) == 1
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after := metricstest.MustScrape(t, maddr)
	delta := func(name string, labels ...string) float64 {
		return after.Sum(name, labels...) - before.Sum(name, labels...)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"mfs_requests_total", []string{"op", "Twalk"}, 3},
		{"mfs_request_errors_total", []string{"op", "Twalk"}, 1},
		{"mfs_requests_total", []string{"op", "Tattach"}, 1},
		{"mfs_requests_total", []string{"op", "Tlopen"}, 1},
		{"mfs_requests_total", []string{"op", "Tread"}, 1},
		{"mfs_request_duration_seconds", []string{"op", "Tread"}, 1},
		{"mfs_read_bytes_total", nil, float64(len("node 2\n"))},
		{"mfs_written_bytes_total", nil, 0},
	} {
		if got := delta(tc.name, append([]string{"service", ns}, tc.labels...)...); got != tc.want {
			t.Errorf("%s%v rose by %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if got := during.Sum("mfs_fids", "service", ns); got < 2 {
		t.Errorf("%v namespace fids while the client held its root and a file, want at least 2", got)
	}
	if got := after.Get("mfs_peer_up", "node", "2"); got != 1 {
		t.Errorf("mfs_peer_up{node=2} = %v after reading there, want 1", got)
	}
	if got := after.Get("mfs_peer_alive", "node", "2"); got != 1 {
		t.Errorf("mfs_peer_alive{node=2} = %v, want 1", got)
	}
	if got := after.Get("mfs_peer_rtt_seconds", "node", "2"); got < 1 {
		t.Errorf("%v round trips to node 2, want at least 1", got)
	}
	if got := after.Get("mfs_membership_events_total", "event", "join"); got < 2 {
		t.Errorf("%v joins seen, want at least 2", got)
	}

	n2.Kill(t)
	var last metricstest.Families
	clusterutil.Eventually(t, clusterutil.SettleTimeout, "node 1's metrics to show node 2 down and failed", func() bool {
		last = metricstest.MustScrape(t, maddr)
		return last.Get("mfs_peer_alive", "node", "2") == 0 && last.Get("mfs_peer_up", "node", "2") == 0 &&
			last.Get("mfs_membership_events_total", "event", "fail") >= 1
	})
	if _, ok := last.Value("mfs_peer_up", "node", "2"); !ok {
		t.Errorf("node 2's link is no longer reported at all")
	}
}

// TestMetricsListenRefused: an address off loopback is refused with one
// line saying why and what to do, by `mfs node` and `mfs export` alike.
func TestMetricsListenRefused(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"node", "--id", "1", "--root", dir, "--gossip", "127.0.0.1:0", "--export-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--metrics-listen", "0.0.0.0:9640"},
		{"export", "--root", dir, "--listen", "127.0.0.1:0", "--metrics-listen", ":9640"},
	} {
		code, stderr := runMFS(t, args...)
		if code == 0 || !strings.Contains(stderr, "is not on loopback") || !strings.Contains(stderr, "--metrics-listen") || strings.Count(strings.TrimSpace(stderr), "\n") > 2 {
			t.Errorf("mfs %s: exit %d, stderr %q", args[0], code, stderr)
		}
	}
}
