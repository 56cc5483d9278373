package namespace

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"9fans.net/go/plan9"

	"mfs/srv9p"
	"mfs/srv9p/srv9ptest"
)

// TestPlan9Client runs 9p(1)'s operations through 9fans.net/go's
// plan9/client, a real 9P2000 client, against node 1's namespace: on its
// own files (/here, in-process) and on node 2's (/2, through the peer
// connection, which speaks 9P2000.L to node 2 whatever the client
// speaks).
func TestPlan9Client(t *testing.T) {
	c := newCluster(t, 2)
	srv9ptest.Plan9Tree(t, c.dirs[0])
	srv9ptest.Plan9Tree(t, c.dirs[1])
	for _, tt := range []struct {
		name, prefix string
		node         int
	}{{"here", "here/", 1}, {"node2", "2/", 2}, {"home", "home/", 2}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := c.dirs[tt.node-1]
			aname := ""
			if tt.name == "home" {
				aname = "home=2"
			}
			srv9ptest.Plan9Ops(t, srv9ptest.DialPlan9(t, c.nsSrv[0].addr, "root", aname), tt.prefix, dir)
		})
	}
}

// TestPlan9AbsoluteLinks: below /N an absolute symlink target is a path
// of node N's tree (the root its export serves), so 9P2000 follows it
// there, on the serving node and on another.
func TestPlan9AbsoluteLinks(t *testing.T) {
	c := newCluster(t, 2)
	for _, dir := range c.dirs {
		srv9ptest.Plan9Tree(t, dir)
		if err := os.Symlink("/usr/bin", filepath.Join(dir, "rootabs")); err != nil {
			t.Fatal(err)
		}
	}
	fs := srv9ptest.DialPlan9(t, c.nsSrv[0].addr, "root", "")
	for _, p := range []string{"here/rootabs/tool", "2/rootabs/tool", "1/rootabs/tool"} {
		fid, err := fs.Open(p, plan9.OREAD)
		if err != nil {
			t.Errorf("open %s: %v", p, err)
			continue
		}
		fid.Close()
	}
}

// TestStatEntries: the stats a 9P2000 or 9P2000.u directory read carries
// are, on /here (the export's, in-process) and on /2 (overlapped on the
// peer connection), what a walk to each entry would find.
func TestStatEntries(t *testing.T) {
	c := newCluster(t, 2)
	for _, dir := range c.dirs {
		srv9ptest.Plan9Tree(t, dir)
	}
	root, err := c.ns[0].Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, top := range []string{"here", "2"} {
		t.Run(top, func(t *testing.T) {
			_, dir, err := root.Walk([]string{top})
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			srv9ptest.CheckStatEntries[srv9p.EntryStat](t, dir, "many")
			_, sub, err := dir.Walk([]string{"many"})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			many := make([]string, 100)
			for i := range many {
				many[i] = fmt.Sprintf("entry-with-a-long-name-%04d", i*10)
			}
			srv9ptest.CheckStatEntries[srv9p.EntryStat](t, sub, many...)
		})
	}
}
