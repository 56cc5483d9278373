package tests

import (
	"os"
	"testing"

	"mfs/tests/clusterutil"
)

// TestMain builds the mfs binary once for every end-to-end test of this
// package (see clusterutil.Main).
func TestMain(m *testing.M) { os.Exit(clusterutil.Main(m)) }

func TestClusterListsEveryNode(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 3})
	for _, n := range c.Nodes {
		lines, err := n.Nodes()
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 3 {
			t.Fatalf("node %d nodes file: %+v", n.ID, lines)
		}
		for _, l := range lines {
			if want := c.Node(l.ID).ExportAddr; l.Addr != want || l.State != "alive" {
				t.Errorf("node %d lists %+v, want addr %s alive", n.ID, l, want)
			}
		}
	}
}
