package node

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mfs/internal/metrics/metricstest"
	"mfs/membership"
)

// startTestNode starts node id on loopback with fast gossip timings,
// joined to join (if any).
func startTestNode(t *testing.T, id int, join string, metricsAddr string) *Node {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{ID: id, Root: root, Listen: []string{"127.0.0.1:0"}, ExportListen: "127.0.0.1:0", Gossip: "127.0.0.1:0",
		Timings: membership.FastTimings(), Timeout: 2 * time.Second, MetricsListen: metricsAddr,
		Log: slog.New(slog.DiscardHandler)}
	if join != "" {
		cfg.Join = []string{join}
	}
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Join(ctx); err != nil {
		n.Stop(false)
		t.Fatal(err)
	}
	return n
}

// waitScrape scrapes addr until cond holds of the scrape, for at most 30 s.
func waitScrape(t *testing.T, addr, what string, cond func(metricstest.Families) bool) metricstest.Families {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := metricstest.MustScrape(t, addr)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeMetrics: a node's endpoint shows its peer's link come up when
// the namespace reaches it, round trips to it, membership's joins, and
// the peer down and failed once it stops without leaving.
func TestNodeMetrics(t *testing.T) {
	maddr := "unix:" + filepath.Join(t.TempDir(), "metrics.sock")
	n1 := startTestNode(t, 1, "", maddr)
	defer n1.Stop(false)
	if n1.MetricsAddr() != maddr {
		t.Errorf("MetricsAddr %q, want %q", n1.MetricsAddr(), maddr)
	}
	n2 := startTestNode(t, 2, n1.GossipAddr(), "")
	stopped := false
	defer func() {
		if !stopped {
			n2.Stop(false)
		}
	}()
	waitScrape(t, maddr, "node 2 alive", func(m metricstest.Families) bool {
		return m.Get("mfs_peer_alive", "node", "2") == 1
	})

	// Read node 2's file through node 1's namespace: a peer connection
	// and its round trips.
	root, err := n1.Namespace().Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, f, err := root.Walk([]string{"2", "hello"})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	m := metricstest.MustScrape(t, maddr)
	if got := m.Get("mfs_peer_up", "node", "2"); got != 1 {
		t.Errorf("mfs_peer_up{node=2} = %v after a walk there, want 1", got)
	}
	if got := m.Get("mfs_peer_rtt_seconds", "node", "2"); got < 1 {
		t.Errorf("%v round trips to node 2, want at least 1", got)
	}
	if _, ok := m.Value("mfs_peer_up", "node", "1"); ok {
		t.Errorf("the node reports a link to itself")
	}
	if got := m.Get("mfs_membership_events_total", "event", "join"); got < 2 {
		t.Errorf("%v joins, want at least 2 (itself and node 2)", got)
	}
	if got := m.Get("mfs_membership_events_total", "event", "fail"); got != 0 {
		t.Errorf("%v failures in a healthy cluster", got)
	}
	// The walk ran in-process: no 9P server of node 1 saw it, but both
	// services are watched.
	for _, svc := range []string{"export", "namespace"} {
		if _, ok := m.Value("mfs_connections", "service", svc); !ok {
			t.Errorf("no mfs_connections{service=%q}", svc)
		}
	}

	// Node 2 stops without leaving: node 1 sees it fail.
	n2.Stop(false)
	stopped = true
	m = waitScrape(t, maddr, "node 2 failed", func(m metricstest.Families) bool {
		return m.Get("mfs_peer_alive", "node", "2") == 0 && m.Get("mfs_membership_events_total", "event", "fail") >= 1
	})
	if got := m.Get("mfs_peer_up", "node", "2"); got != 0 {
		t.Errorf("mfs_peer_up{node=2} = %v after it failed, want 0", got)
	}
}

// TestNodeMetricsAddr: an address off loopback is refused before anything
// is bound.
func TestNodeMetricsAddr(t *testing.T) {
	cfg := Config{ID: 1, Root: t.TempDir(), Listen: []string{"127.0.0.1:0"}, Gossip: "127.0.0.1:0", MetricsListen: "0.0.0.0:9640"}
	err := cfg.Check()
	if err == nil || !strings.Contains(err.Error(), "--metrics-listen 0.0.0.0:9640 is not on loopback") {
		t.Fatalf("Check: %v", err)
	}
}
