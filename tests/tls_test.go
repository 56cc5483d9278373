package tests

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mfs/internal/dial"
	"mfs/internal/fcall"
	"mfs/tests/clusterutil"
)

// TestClusterTLS: a cluster whose nodes talk mutual TLS (certificates
// made with `mfs tls`, gossip encrypted) lists every node and reads every
// node's file through every other; a plain 9P client at an export is
// refused before any message.
func TestClusterTLS(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 3, TLS: true})
	listsEveryNode(t, c)
	for _, n := range c.Nodes {
		if !strings.Contains(n.Log(), "export serves cluster members only") {
			t.Errorf("node %d did not log its export's TLS", n.ID)
		}
	}

	// Node 1 is a member of node 2's export: its users' claims are
	// believed there (not mapped to the anonymous user), so root (this
	// test, over node 1's namespace) reads root's 0600 file of node 2.
	secret := filepath.Join(c.Node(2).Dir, "root-only")
	if err := os.WriteFile(secret, []byte("members only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Node(1).ReadFile("/2/root-only"); err != nil || string(got) != "members only\n" {
		t.Errorf("root reading node 2's 0600 file through node 1 (a member): %q, %v", got, err)
	}

	// A plain 9P client at node 2's export: the connection ends before
	// the server reads a message (at once: not after an idle timeout).
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if conn, err := dial.Dial(ctx, c.Node(2).ExportAddr, dial.Options{Timeout: 5 * time.Second}); err == nil {
		conn.Close()
		t.Fatal("a plain 9P client reached a TLS export")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("plain 9P client refused after %v, want at once", took)
	}
	deadline := time.Now().Add(clusterutil.StartTimeout)
	for !strings.Contains(c.Node(2).Log(), "not a TLS client") {
		if time.Now().After(deadline) {
			t.Fatalf("node 2 did not log the refused plain client:\n%s", c.Node(2).Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeTrustErrors: a node refuses, before binding anything, to serve
// the network without TLS or TLS without a gossip key: exit status 2 and
// one line.
func TestNodeTrustErrors(t *testing.T) {
	dir := t.TempDir()
	tlsDir := clusterutil.MakeTLS(t, 1)
	key := clusterutil.NewKey(t)
	base := []string{"node", "--id", "1", "--root", dir, "--listen", "127.0.0.1:0"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"TLS without a gossip key", []string{"--tls-dir", tlsDir, "--gossip", "127.0.0.1:0", "--export-listen", "127.0.0.1:0"},
			[]string{"--tls-dir needs --encrypt (or MFS_ENCRYPT)"}},
		{"gossip off loopback without TLS", []string{"--gossip", "10.1.2.3:7946"},
			[]string{"--gossip 10.1.2.3:7946 is reachable from the network", "--tls-dir", "--insecure"}},
		{"gossip on every interface without TLS", []string{"--gossip", "0.0.0.0:7946"},
			[]string{"--gossip 0.0.0.0:7946", "--tls-dir", "--insecure"}},
		{"export off loopback without TLS", []string{"--gossip", "127.0.0.1:0", "--export-listen", "10.1.2.3:5640"},
			[]string{"--export-listen 10.1.2.3:5640", "--tls-dir", "--insecure"}},
		{"no certificate for this id", []string{"--id", "2", "--tls-dir", tlsDir, "--encrypt", key, "--gossip", "127.0.0.1:0"},
			[]string{"node-2.pem: no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runMFS(t, append(slices.Clone(base), tt.args...)...)
			last := lastLine(stderr)
			if code != 2 || !strings.HasPrefix(last, "mfs node: ") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("%q does not say %q", last, w)
				}
			}
		})
	}
}

// TestNodeInsecure: --insecure lets a node gossip off loopback without
// TLS, and it says so in its log.
func TestNodeInsecure(t *testing.T) {
	n, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 1, Gossip: "0.0.0.0:0", Args: []string{"--insecure"}})
	if err != nil {
		t.Fatal(err)
	}
	if log := n.Log(); !strings.Contains(log, `"level":"WARN","msg":"insecure: no TLS between nodes`) {
		t.Errorf("no warning in the log of an --insecure node:\n%s", log)
	}
	readsNodeFile(t, &clusterutil.Cluster{Nodes: []*clusterutil.Node{n}}, 1, 1)
}

// TestNodeExpiredCertificate: a node whose certificate has expired does
// not start, and says so in one line.
func TestNodeExpiredCertificate(t *testing.T) {
	tlsDir := clusterutil.MakeTLS(t)
	if code, stderr := runMFS(t, "tls", "cert", "--dir", tlsDir, "--id", "1", "--valid", "1s"); code != 0 {
		t.Fatalf("mfs tls cert: exit %d: %s", code, stderr)
	}
	// Wait until the certificate's end is past (its times have a
	// resolution of one second).
	time.Sleep(time.Until(time.Now().Add(2 * time.Second).Truncate(time.Second)))
	code, stderr := runMFS(t, "node", "--id", "1", "--root", t.TempDir(), "--listen", "127.0.0.1:0",
		"--gossip", "127.0.0.1:0", "--tls-dir", tlsDir, "--encrypt", clusterutil.NewKey(t))
	last := lastLine(stderr)
	if code != 2 || !strings.Contains(last, "node-1.pem: certificate of node 1 expired at ") {
		t.Fatalf("exit %d, last line %q; want 2 and the certificate's expiry", code, last)
	}
}

// TestClusterExportSquash: with --export-squash root, what root asks of a
// node through another node's namespace runs there as the anonymous user
// (root's own 0600 file is refused), while the node's own namespace still
// serves root as root.
func TestClusterExportSquash(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2, TLS: true, Args: []string{"--export-squash", "root"}})
	if err := os.WriteFile(filepath.Join(c.Node(2).Dir, "root-only"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Node(1).ReadFile("/2/root-only"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("root's 0600 file of node 2 through node 1 with --export-squash root: %v, want permission denied", err)
	}
	if got, err := c.Node(2).ReadFile("/here/root-only"); err != nil || string(got) != "x\n" {
		t.Errorf("the same file through node 2's own namespace: %q, %v", got, err)
	}
	readsNodeFile(t, c, 1, 2) // world-readable files still read across
}

// TestExportPrivilegedPortsOnly: without --tls-dir a node's export admits
// only root on a node (a privileged source port): a connection from any
// other port is closed before its first message is read, with a log line,
// while the peers (root, privileged ports) work.
func TestExportPrivilegedPortsOnly(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
	readsNodeFile(t, c, 1, 2)
	nc, err := net.Dial("tcp", c.Node(2).ExportAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write(fcall.Append(nil, fcall.L, fcall.NoTag, &fcall.Tversion{Msize: 8192, Version: "9P2000.L"}))
	if n, err := nc.Read(make([]byte, 64)); err == nil || os.IsTimeout(err) {
		t.Fatalf("an ordinary port got %d bytes of an answer (%v), want the connection closed", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(c.Node(2).Log(), "not from a privileged port") {
		if time.Now().After(deadline) {
			t.Fatal("node 2 did not log the refused connection")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
