package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/tests/clusterutil"
)

// The network-cut test runs nodes 1 and 2 in one network namespace and
// node 3 in another, joined by a veth pair carrying a private /30 that
// exists only between these two namespaces (nothing is added to, or routed
// through, the host's own namespace). Being off loopback, the nodes talk
// TLS. The test reaches every node's namespace server through a unix
// socket, which crosses network namespaces.
const (
	cutNetA = "10.199.77.1" // nodes 1 and 2
	cutNetB = "10.199.77.2" // node 3
)

// ip runs the ip(8) command.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// makeNetns creates two network namespaces joined by a veth pair and
// returns their names and the veth end inside the second. They are
// deleted (with the veth pair) in t.Cleanup. It skips the test where
// namespaces cannot be created.
func makeNetns(t *testing.T) (nsA, nsB, vethB string) {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network cut test skipped: no ip(8) command (install iproute2)")
	}
	tag := fmt.Sprintf("mfs%d", os.Getpid()%100000)
	nsA, nsB = tag+"a", tag+"b"
	if err := ip("netns", "add", nsA); err != nil {
		t.Skipf("network cut test skipped: cannot create network namespaces (needs root): %v", err)
	}
	t.Cleanup(func() { ip("netns", "del", nsA) })
	if err := ip("netns", "add", nsB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ip("netns", "del", nsB) })
	vethA, vethB := tag+"va", tag+"vb"
	steps := [][]string{
		{"-n", nsA, "link", "add", vethA, "type", "veth", "peer", "name", vethB, "netns", nsB},
		{"-n", nsA, "addr", "add", cutNetA + "/30", "dev", vethA},
		{"-n", nsB, "addr", "add", cutNetB + "/30", "dev", vethB},
		{"-n", nsA, "link", "set", "lo", "up"},
		{"-n", nsB, "link", "set", "lo", "up"},
		{"-n", nsA, "link", "set", vethA, "up"},
		{"-n", nsB, "link", "set", vethB, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			t.Fatal(err)
		}
	}
	return nsA, nsB, vethB
}

func TestClusterNetworkCut(t *testing.T) {
	nsA, nsB, vethB := makeNetns(t)
	sockDir := t.TempDir()
	// The nodes' addresses are off loopback: they talk mutual TLS, with
	// an encrypted gossip, as a node requires there.
	tlsDir, key := clusterutil.MakeTLS(t, 1, 2, 3), clusterutil.NewKey(t)
	start := func(id int, ns, host string, join []string) *clusterutil.Node {
		n, err := clusterutil.NewNode(t, clusterutil.NodeOptions{
			ID:           id,
			Wrap:         []string{"ip", "netns", "exec", ns},
			Listen:       "unix:" + filepath.Join(sockDir, fmt.Sprintf("node%d.sock", id)),
			ExportListen: host + ":0",
			Gossip:       host + ":0",
			Join:         join,
			TLSDir:       tlsDir,
			Encrypt:      key,
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1 := start(1, nsA, cutNetA, nil)
	n2 := start(2, nsA, cutNetA, []string{n1.GossipAddr})
	n3 := start(3, nsB, cutNetB, []string{n1.GossipAddr})
	c := &clusterutil.Cluster{Nodes: []*clusterutil.Node{n1, n2, n3}}
	c.WaitListed(t, 1, 2, 3)
	readsNodeFile(t, c, 1, 3)
	readsNodeFile(t, c, 3, 2)

	// Hold node 3's file open through node 1 across the cut.
	conn, err := dial.Dial(t.Context(), n1.Addr, dial.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	root, err := conn.Attach("")
	if err != nil {
		t.Fatal(err)
	}
	_, f, err := root.Walk([]string{"3", "node-3.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		t.Fatal(err)
	}

	// Cut node 3's link: both sides see the other failed, and serve on.
	if err := ip("-n", nsB, "link", "set", vethB, "down"); err != nil {
		t.Fatal(err)
	}
	// A read of the open file: packets now vanish, so only the node's
	// --timeout ends it; it must be an error, not a hang.
	readFails(t, f, "cut")
	for _, id := range []int{1, 2} {
		waitState(t, c, id, 3, "failed")
		c.Node(id).WaitListed(t, 1, 2)
	}
	n3.WaitListed(t, 3)
	readsNodeFile(t, c, 1, 2)
	readsNodeFile(t, c, 2, 1)
	readsNodeFile(t, c, 3, 3)

	// Restore it: node 3 comes back without restarting anything.
	if err := ip("-n", nsB, "link", "set", vethB, "up"); err != nil {
		t.Fatal(err)
	}
	c.WaitListed(t, 1, 2, 3)
	for _, id := range []int{1, 2} {
		waitState(t, c, id, 3, "alive")
	}
	readsNodeFile(t, c, 1, 3)
	readsNodeFile(t, c, 3, 1)
	for _, n := range c.Nodes {
		if !n.Running() {
			t.Errorf("node %d exited", n.ID)
		}
	}
}
