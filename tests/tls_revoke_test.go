package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfs/internal/clustertls"
	"mfs/tests/clusterutil"
)

// refusals returns the log lines of n that refuse a certificate of node
// id as revoked, by msg: the export refusing it as a client ("9p:
// connection refused before its first message") and the namespace
// refusing it as the export it dials ("namespace: cannot reach node").
func refusals(n *clusterutil.Node, id int) map[string]int {
	want := fmt.Sprintf("certificate of node %d (serial ", id)
	got := map[string]int{}
	for _, line := range strings.Split(n.Log(), "\n") {
		var e struct{ Msg, Error string }
		if json.Unmarshal([]byte(line), &e) == nil && strings.Contains(e.Error, want) && strings.Contains(e.Error, ") is revoked since ") {
			got[e.Msg]++
		}
	}
	return got
}

// TestTLSRevoke: in a TLS cluster of three nodes, `mfs tls revoke --id 3`
// in the directory nodes 1 and 2 read (node 3 holds only its own pair and
// ca.pem, as a thief of its certificate would, and never sees the list)
// cuts node 3 off without a restart: its live connections are closed,
// its /1 fails, nodes 1 and 2 cannot reach its export, and each of them
// logs both refusals naming node 3; nodes 1 and 2 keep working together.
func TestTLSRevoke(t *testing.T) {
	tlsDir := clusterutil.MakeTLS(t, 1, 2, 3)
	dir3 := filepath.Join(t.TempDir(), "tls3")
	if err := os.Mkdir(dir3, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{clustertls.CAFile, clustertls.NodeFile(3), clustertls.NodeKeyFile(3)} {
		b, err := os.ReadFile(filepath.Join(tlsDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir3, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key := clusterutil.NewKey(t)
	c := &clusterutil.Cluster{}
	for _, id := range []int{1, 2, 3} {
		o := clusterutil.NodeOptions{ID: id, Encrypt: key, TLSDir: tlsDir}
		if id == 3 {
			o.TLSDir = dir3
		}
		if id > 1 {
			o.Join = []string{c.Nodes[0].GossipAddr}
		}
		n, err := clusterutil.NewNode(t, o)
		if err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	c.WaitListed(t, 1, 2, 3)
	// Live connections both ways between node 3 and the others.
	for _, p := range [][2]int{{3, 1}, {3, 2}, {1, 3}, {2, 3}, {1, 2}} {
		readsNodeFile(t, c, p[0], p[1])
	}

	code, stderr := runMFS(t, "tls", "revoke", "--dir", tlsDir, "--id", "3")
	if code != 0 {
		t.Fatalf("mfs tls revoke: exit %d: %s", code, stderr)
	}
	fails := func(on, of int) func() bool {
		return func() bool {
			_, err := c.Node(on).ReadFile(fmt.Sprintf("/%d/node-%d.txt", of, of))
			return err != nil
		}
	}
	within := clusterutil.StartTimeout
	for _, p := range [][2]int{{3, 1}, {3, 2}, {1, 3}, {2, 3}} {
		clusterutil.Eventually(t, within, fmt.Sprintf("node %d still reads node %d's file", p[0], p[1]), fails(p[0], p[1]))
	}
	for _, id := range []int{1, 2} {
		n := c.Node(id)
		clusterutil.Eventually(t, within, fmt.Sprintf("node %d did not log both refusals of node 3", id), func() bool {
			// A read that failed because its live connection was
			// closed made no handshake: try both ways again.
			fails(3, id)()
			fails(id, 3)()
			r := refusals(n, 3)
			return r["9p: connection refused before its first message"] > 0 && r["namespace: cannot reach node"] > 0
		})
		if !strings.Contains(n.Log(), "closing the connection of a revoked certificate") {
			t.Errorf("node %d did not log closing node 3's live connections", id)
		}
		if !strings.Contains(n.Log(), "revocation list loaded") {
			t.Errorf("node %d did not log loading the list", id)
		}
	}
	// Node 3 refuses no one: it never saw the list.
	if r := refusals(c.Node(3), 3); len(r) != 0 {
		t.Errorf("node 3 logged refusals of itself: %v", r)
	}
	readsNodeFile(t, c, 1, 2)
	readsNodeFile(t, c, 2, 1)
	// Still refused a while later (every handshake looks again).
	if !fails(3, 1)() || !fails(1, 3)() {
		t.Error("node 3 reached again")
	}
}

// TestTLSExpiryWarning: a node whose certificate ends within 30 days
// warns at start, naming the file.
func TestTLSExpiryWarning(t *testing.T) {
	tlsDir := clusterutil.MakeTLS(t)
	if code, stderr := runMFS(t, "tls", "cert", "--dir", tlsDir, "--id", "1", "--valid", "240h"); code != 0 {
		t.Fatalf("mfs tls cert: exit %d: %s", code, stderr)
	}
	n, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 1, Encrypt: clusterutil.NewKey(t), TLSDir: tlsDir})
	if err != nil {
		t.Fatal(err)
	}
	clusterutil.Eventually(t, clusterutil.StartTimeout, "no expiry warning in the log", func() bool {
		for _, line := range strings.Split(n.Log(), "\n") {
			if strings.Contains(line, `"level":"WARN","msg":"tls: certificate expires soon`) &&
				strings.Contains(line, `"file":"node-1.pem"`) && strings.Contains(line, `"days_left":9`) {
				return true
			}
		}
		return false
	})
}
