package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mfs/membership"
	"mfs/tests/clusterutil"
)

// Issue 19: without TLS a cluster's gossip is encrypted with a key only
// root reads (a key file; clusterutil gives each test cluster its own in
// t.TempDir(), where `mfs node` as root would use /var/lib/mfs/gossip.key).
// An ordinary user's node, run in `unshare -r` as the attacker ran it
// (uid 0 inside, uid 1000 outside), cannot join such a cluster.

// attackerUID is the ordinary user the attacks run as.
const attackerUID = 1000

// attacker is an ordinary user's directory: an export tree with a loot
// file, and room for a key file of its own.
type attacker struct {
	bin, dir, export string
}

func newAttacker(t *testing.T) *attacker {
	t.Helper()
	base, err := os.MkdirTemp("", "mfs-attacker-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	a := &attacker{bin: clusterutil.WorldBinary(t), dir: filepath.Join(base, "home"), export: filepath.Join(base, "home", "tree")}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{a.dir, a.export} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, attackerUID, attackerUID); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(a.export, "loot"), []byte("attacker\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(filepath.Join(a.export, "loot"), attackerUID, attackerUID)
	return a
}

// node runs `mfs node --id id --join join` as the attacker, inside
// `unshare -r`, with o's key and further flags, and waits until it
// exits: it must not become ready. It returns the node (for its log) and
// its last line.
func (a *attacker) node(t *testing.T, id int, join string, o clusterutil.NodeOptions) (*clusterutil.Node, string) {
	t.Helper()
	o.ID, o.Dir, o.Join, o.Bin = id, a.export, []string{join}, a.bin
	o.Wrap = []string{"setpriv", fmt.Sprintf("--reuid=%d", attackerUID), fmt.Sprintf("--regid=%d", attackerUID), "--clear-groups", "unshare", "-r"}
	n, err := clusterutil.NewNode(t, o)
	if err == nil {
		t.Fatalf("the attacker's node %d joined:\n%s", id, n.Log())
	}
	code, last := n.Wait(t)
	if code == 0 || !strings.HasPrefix(last, "mfs node: ") {
		t.Fatalf("the attacker's node: exit %d, last line %q; want an error", code, last)
	}
	return n, last
}

// onlyNodes checks that every running node of c lists exactly ids, and
// that no file of the attacker's tree shows under any of them.
func onlyNodes(t *testing.T, c *clusterutil.Cluster, ids ...int) {
	t.Helper()
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		got, err := n.NodeDirs()
		if err != nil || !slices.Equal(got, ids) {
			t.Errorf("node %d lists nodes %v (%v), want %v", n.ID, got, err, ids)
		}
		for _, id := range ids {
			if b, err := n.ReadFile(fmt.Sprintf("/%d/loot", id)); err == nil {
				t.Errorf("node %d reads the attacker's /%d/loot: %q", n.ID, id, b)
			}
		}
	}
}

// TestKeyOrdinaryUserCannotJoin: attack 1 of issue 19. A default root
// cluster (no --encrypt: its key file) lists no node of an ordinary user,
// whatever key that user tries, and the refused node says why.
func TestKeyOrdinaryUserCannotJoin(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
	keyFile := c.Node(1).KeyFile()
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the cluster's key file %s: %v, %v; want mode 0600", keyFile, fi, err)
	}
	if !strings.Contains(c.Node(1).Log(), `"key_file":"`+keyFile+`","made":true`) {
		t.Errorf("node 1 does not say where its key file is:\n%s", c.Node(1).Log())
	}
	key, _ := os.ReadFile(keyFile)
	a := newAttacker(t)
	tests := []struct {
		name string
		o    clusterutil.NodeOptions
		want string // in the node's last line
		warn bool   // the node ran, and warned that gossip was undecryptable
	}{
		// Inside unshare -r the node is "root": its default key file is
		// /var/lib/mfs/gossip.key, which the user cannot read or make.
		{"no key", clusterutil.NodeOptions{NoKey: true}, "gossip key file /var/lib/mfs/gossip.key", false},
		{"the cluster's key file", clusterutil.NodeOptions{KeyFile: keyFile}, "gossip key file " + keyFile + ": permission denied", false},
		{"a key file of its own", clusterutil.NodeOptions{KeyFile: filepath.Join(a.dir, "gossip.key")}, "gossip encryption mismatch", true},
		{"a wrong --encrypt", clusterutil.NodeOptions{Encrypt: clusterutil.NewKey(t)}, "gossip encryption mismatch", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, last := a.node(t, 3, c.Node(1).GossipAddr, tt.o)
			if !strings.Contains(last, tt.want) {
				t.Errorf("last line %q, want %q", last, tt.want)
			}
			if strings.Contains(n.Log(), strings.TrimSpace(string(key))) {
				t.Errorf("the cluster's key is in the attacker's log")
			}
			if tt.warn && !strings.Contains(n.Log(), `"level":"WARN","msg":"`+membership.KeyWarning+`"`) {
				t.Errorf("the refused node's log does not say %q:\n%s", membership.KeyWarning, n.Log())
			}
			onlyNodes(t, c, 1, 2)
		})
	}
	// The member it knocked at says so too, naming the peer.
	if log := c.Node(1).Log(); !strings.Contains(log, `"level":"WARN","msg":"`+membership.KeyWarning+`"`) {
		t.Errorf("node 1 did not warn of undecryptable gossip:\n%s", log)
	}
	readsNodeFile(t, c, 1, 2)
	readsNodeFile(t, c, 2, 1)
}

// TestKeyIDTakeover: attack 2 of issue 19. Node 2 crashes; an ordinary
// user's node claiming id 2 cannot join (with no key, or one of its
// own); the real node 2 restarts with its key file, rejoins, and /2
// serves its tree.
func TestKeyIDTakeover(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
	c.Node(2).Kill(t)
	waitState(t, c, 1, 2, "failed")
	a := newAttacker(t)
	for _, o := range []clusterutil.NodeOptions{{NoKey: true}, {KeyFile: filepath.Join(a.dir, "gossip.key")}} {
		_, last := a.node(t, 2, c.Node(1).GossipAddr, o)
		if !strings.Contains(last, "gossip key file /var/lib/mfs/gossip.key") && !strings.Contains(last, "gossip encryption mismatch") {
			t.Errorf("the attacker's node 2: %q, want a key error", last)
		}
		onlyNodes(t, c, 1) // a failed node is not listed
		if got, err := c.Node(1).ReadFile("/2/loot"); err == nil {
			t.Fatalf("/2 serves the attacker's loot: %q", got)
		}
	}
	c.Node(2).Restart(t, c.Node(1).GossipAddr)
	c.WaitListed(t, 1, 2)
	waitState(t, c, 1, 2, "alive")
	readsNodeFile(t, c, 1, 2)
	onlyNodes(t, c, 1, 2)
}
