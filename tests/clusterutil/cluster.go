package clusterutil

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Options describe a cluster for Start.
type Options struct {
	// Nodes is the number of nodes, numbered 1…Nodes (default 3).
	Nodes int
	// Encrypt is the gossip key given to every node.
	Encrypt string
	// KeyFile is the gossip key file given to every node; without it
	// (and without Encrypt or TLS) node 1 makes one in t.TempDir() and
	// the others share it (NodeOptions.KeyFile).
	KeyFile string
	// Args are further `mfs node` flags for every node.
	Args []string
	// Plain runs every node from the binary built without the race
	// detector (see NodeOptions.Plain).
	Plain bool
	// TLS makes a CA and a certificate per node with `mfs tls` (MakeTLS)
	// and runs every node with --tls-dir, and with a fresh gossip key
	// unless Encrypt is set (a node refuses TLS without one).
	TLS bool
}

// Cluster is a set of nodes started by Start.
type Cluster struct {
	Nodes []*Node
}

// Start starts opts.Nodes nodes (node 1 first, the others joining it) and
// waits until every node's / lists every node.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	c := &Cluster{}
	var tlsDir string
	if opts.TLS {
		all := make([]int, opts.Nodes)
		for i := range all {
			all[i] = i + 1
		}
		tlsDir = MakeTLS(t, all...)
		if opts.Encrypt == "" {
			opts.Encrypt = NewKey(t)
		}
	}
	var ids []int
	for id := 1; id <= opts.Nodes; id++ {
		o := NodeOptions{ID: id, Encrypt: opts.Encrypt, KeyFile: opts.KeyFile, Args: opts.Args, Plain: opts.Plain, TLSDir: tlsDir}
		if id > 1 {
			o.Join = []string{c.Nodes[0].GossipAddr}
		}
		n, err := NewNode(t, o)
		if err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, n)
		ids = append(ids, id)
	}
	c.WaitListed(t, ids...)
	return c
}

// Node returns node id.
func (c *Cluster) Node(id int) *Node {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	panic(fmt.Sprintf("clusterutil: no node %d", id))
}

// SettleTimeout bounds WaitListed.
var SettleTimeout = 60 * time.Second

// WaitListed waits until the root of every running node lists exactly the
// node directories ids (plus home, here, selected, nodes, ctl).
func (c *Cluster) WaitListed(t testing.TB, ids ...int) {
	t.Helper()
	for _, n := range c.Nodes {
		if n.Running() {
			n.WaitListed(t, ids...)
		}
	}
}

// WaitListed waits until n's root lists exactly the node directories ids.
func (n *Node) WaitListed(t testing.TB, ids ...int) {
	t.Helper()
	want := slices.Clone(ids)
	slices.Sort(want)
	var got []int
	var err error
	if !Poll(SettleTimeout, func() bool {
		got, err = n.NodeDirs()
		return err == nil && slices.Equal(got, want)
	}) {
		t.Fatalf("node %d lists nodes %v (err %v), want %v", n.ID, got, err, want)
	}
}

// NodeDirs returns the node numbers n's root lists.
func (n *Node) NodeDirs() ([]int, error) {
	names, err := n.List("/")
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, s := range names {
		if id, err := strconv.Atoi(s); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
