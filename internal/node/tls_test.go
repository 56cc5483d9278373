package node

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mfs/internal/clustertls"
	"mfs/membership"
	"mfs/tests/clusterutil"
)

func TestOnLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:7946", true},
		{"127.3.4.5:0", true},
		{"[::1]:5640", true},
		{"localhost:5640", true},
		{"unix:/run/mfs-export.sock", true},
		{"0.0.0.0:7946", false},
		{":7946", false},
		{"[::]:7946", false},
		{"10.1.2.3:7946", false},
		{"node1.example:7946", false},
		{"nonsense", false},
	}
	for _, tt := range tests {
		if got := onLoopback(tt.addr); got != tt.want {
			t.Errorf("onLoopback(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestCheckTrust(t *testing.T) {
	dir := t.TempDir()
	tlsDir := filepath.Join(t.TempDir(), "tls")
	if err := clustertls.CreateCA(tlsDir, clustertls.DefaultCAValidity, ""); err != nil {
		t.Fatal(err)
	}
	if err := clustertls.CreateNodeCert(tlsDir, 1, clustertls.DefaultNodeValidity, ""); err != nil {
		t.Fatal(err)
	}
	node, err := clustertls.Load(tlsDir, 1)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	good := Config{ID: 1, Root: dir, Listen: []string{"127.0.0.1:0"}, Gossip: "127.0.0.1:0"}
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for no error
	}{
		{"loopback", func(*Config) {}, ""},
		{"gossip off loopback", func(c *Config) { c.Gossip = "10.1.2.3:7946" }, "--gossip 10.1.2.3:7946 is reachable from the network"},
		{"gossip everywhere", func(c *Config) { c.Gossip = "0.0.0.0:7946" }, "give --tls-dir DIR (certificates made with mfs tls), or --insecure"},
		{"export off loopback", func(c *Config) { c.ExportListen = "10.1.2.3:5640" }, "--export-listen 10.1.2.3:5640"},
		{"export on a unix socket", func(c *Config) { c.ExportListen = "unix:/run/x.sock" }, ""},
		{"insecure", func(c *Config) { c.Gossip, c.Insecure = "0.0.0.0:7946", true }, ""},
		{"TLS", func(c *Config) { c.Gossip, c.TLS, c.Key = "0.0.0.0:7946", node, key }, ""},
		{"TLS without a key", func(c *Config) { c.TLS = node }, "--tls-dir needs --encrypt"},
		{"TLS with a key file", func(c *Config) { c.Gossip, c.TLS, c.KeyFile = "0.0.0.0:7946", node, "/k" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Check()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("check() = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestTLSGossipedIDMustMatchCertificate: a holder of the gossip key and
// of node 3's certificate who gossips id 2 is listed, but nothing of
// /2 is served from it: node 1's TLS dial to the export gossip gave for
// node 2 refuses a certificate naming node 3, and says so in its log.
func TestTLSGossipedIDMustMatchCertificate(t *testing.T) {
	tlsDir := filepath.Join(t.TempDir(), "tls")
	if err := clustertls.CreateCA(tlsDir, clustertls.DefaultCAValidity, ""); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{1, 3} {
		if err := clustertls.CreateNodeCert(tlsDir, id, clustertls.DefaultNodeValidity, ""); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "gossip.key")
	start := func(id, certID int, log *syncBuffer) *Node {
		t.Helper()
		tn, err := clustertls.Load(tlsDir, certID)
		if err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		os.WriteFile(filepath.Join(root, "f"), []byte("node "+strconv.Itoa(certID)+"\n"), 0o644)
		n, err := Start(Config{ID: id, Root: root, Listen: []string{"127.0.0.1:0"}, ExportListen: "127.0.0.1:0",
			Gossip: "127.0.0.1:0", KeyFile: keyFile, TLS: tn, Timings: membership.FastTimings(), Timeout: 5 * time.Second,
			Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Stop(false) })
		return n
	}
	var log1, log2 syncBuffer
	n1 := start(1, 1, &log1)
	impostor := start(2, 3, &log2)
	impostor.cfg.Join = []string{n1.GossipAddr()}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := impostor.Join(ctx); err != nil {
		t.Fatalf("a key holder's join: %v", err)
	}
	c := &clusterutil.Node{ID: 1, Addr: n1.NamespaceAddrs()[0]}
	clusterutil.Eventually(t, 20*time.Second, "node 1 lists node 2", func() bool {
		ids, err := c.NodeDirs()
		return err == nil && slices.Contains(ids, 2)
	})
	if got, err := c.ReadFile("/2/f"); err == nil {
		t.Fatalf("node 1 read %q from /2, served by node 3's certificate", got)
	}
	const want = "certificate names node 3, gossip says 2"
	clusterutil.Eventually(t, 10*time.Second, "node 1 logs "+want, func() bool {
		return strings.Contains(log1.String(), want)
	})
}
