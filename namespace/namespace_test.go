package namespace

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/membership"
)

// markNodes writes whoami ("node N") into every node's export.
func (c *cluster) markNodes(t *testing.T) {
	for i, d := range c.dirs {
		mustWriteHost(t, d, "whoami", fmt.Sprintf("node %d", i+1))
	}
}

func TestRootListing(t *testing.T) {
	c := newCluster(t, 3)
	root := attach(t, c.client(t, 1), "")
	got, err := listDir(root, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1", "2", "3", "home", "here", "selected", "nodes", "ctl"}
	if !slices.Equal(got, want) {
		t.Fatalf("root lists %q, want %q", got, want)
	}

	// The listing follows the node table.
	c.ns[0].SetNode(Node{ID: 3, Addr: c.exports[2].addr, State: membership.Failed})
	c.ns[0].SetNode(Node{ID: 7, Addr: "127.0.0.1:1", State: membership.Alive})
	got, _ = listDir(root, "")
	want = []string{"1", "2", "7", "home", "here", "selected", "nodes", "ctl"}
	if !slices.Equal(got, want) {
		t.Fatalf("after changes root lists %q, want %q", got, want)
	}
	if _, err := walkErr(root, "3"); !isErrno(err, linux.EHOSTDOWN) {
		t.Fatalf("walk to failed node 3: %v, want EHOSTDOWN", err)
	}
	c.ns[0].RemoveNode(7)
	if _, err := walkErr(root, "7"); !isErrno(err, linux.ENOENT) {
		t.Fatalf("walk to removed node 7: %v, want ENOENT", err)
	}
}

func TestContextDirs(t *testing.T) {
	c := newCluster(t, 3)
	c.markNodes(t)
	for _, tc := range []struct {
		node                 int // whose namespace
		aname                string
		here, home, selected int
	}{
		{1, "", 1, 1, 1},
		{2, "", 2, 2, 2},
		{1, "home=2", 1, 2, 2},
		{1, "selected=3", 1, 1, 3},
		{1, "home=2/selected=3", 1, 2, 3},
		{1, "selected=3/home=2", 1, 2, 3},
		{3, "home=1/selected=2", 3, 1, 2},
		{2, "home=3/home=1", 2, 1, 1},
	} {
		t.Run(fmt.Sprintf("node%d/%s", tc.node, tc.aname), func(t *testing.T) {
			root := attach(t, c.client(t, tc.node), tc.aname)
			ctl, err := readAll(root, "ctl")
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("here %d home %d selected %d\n", tc.here, tc.home, tc.selected); ctl != want {
				t.Errorf("ctl = %q, want %q", ctl, want)
			}
			for dir, n := range map[string]int{"here": tc.here, "home": tc.home, "selected": tc.selected, "1": 1, "2": 2, "3": 3} {
				got, err := readAll(root, dir+"/whoami")
				if err != nil {
					t.Fatalf("%s/whoami: %v", dir, err)
				}
				if want := fmt.Sprintf("node %d", n); got != want {
					t.Errorf("%s/whoami = %q, want %q", dir, got, want)
				}
			}
		})
	}
}

func TestAttachAtPath(t *testing.T) {
	c := newCluster(t, 3)
	c.markNodes(t)
	mustWriteHost(t, c.dirs[1], "var/log/x", "log of 2")
	mustWriteHost(t, c.dirs[0], "var/log/x", "log of 1")
	for _, tc := range []struct{ aname, file, want string }{
		{"home=2/home/var/log", "x", "log of 2"},
		{"home=2/here/var/log", "x", "log of 1"},
		{"selected=2/selected/var", "log/x", "log of 2"},
		{"2/var", "log/x", "log of 2"},
		{"here", "whoami", "node 1"},
	} {
		root := attach(t, c.client(t, 1), tc.aname)
		got, err := readAll(root, tc.file)
		if err != nil || got != tc.want {
			t.Errorf("attach %q, read %s: %q, %v; want %q", tc.aname, tc.file, got, err, tc.want)
		}
	}
}

func TestTwoAttachesOneConn(t *testing.T) {
	c := newCluster(t, 3)
	c.markNodes(t)
	cl := c.client(t, 1)
	a := attach(t, cl, "home=2")
	b := attach(t, cl, "home=3/selected=1")
	for _, tc := range []struct {
		root      p9.File
		ctl, home string
	}{
		{a, "here 1 home 2 selected 2\n", "node 2"},
		{b, "here 1 home 3 selected 1\n", "node 3"},
	} {
		if got, _ := readAll(tc.root, "ctl"); got != tc.ctl {
			t.Errorf("ctl = %q, want %q", got, tc.ctl)
		}
		if got, _ := readAll(tc.root, "home/whoami"); got != tc.home {
			t.Errorf("home/whoami = %q, want %q", got, tc.home)
		}
	}
}

// writeCtl writes cmd to ctl below root.
func writeCtl(root p9.File, cmd string) error {
	f, err := walkErr(root, "ctl")
	if err != nil {
		return err
	}
	defer f.Close()
	if _, _, err := f.Open(p9.WriteOnly); err != nil {
		return err
	}
	_, err = f.WriteAt([]byte(cmd), 0)
	return err
}

func TestCtlSelect(t *testing.T) {
	c := newCluster(t, 3)
	c.markNodes(t)
	cl := c.client(t, 1)
	root := attach(t, cl, "home=2")
	other := attach(t, cl, "home=2")
	sibling := walk(t, root, "") // a fid of the same attach, walked before the select
	oldSel := walk(t, root, "selected")

	if err := writeCtl(root, "select 3\n"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		from p9.File
		path string
		want string
	}{
		{"same fid", root, "selected/whoami", "node 3"},
		{"earlier sibling fid", sibling, "selected/whoami", "node 3"},
		{"ctl", sibling, "ctl", "here 1 home 2 selected 3\n"},
		{"other attach untouched", other, "selected/whoami", "node 2"},
		{"dir walked before keeps its node", oldSel, "whoami", "node 2"},
		{"home unchanged", root, "home/whoami", "node 2"},
	} {
		if got, err := readAll(tc.from, tc.path); err != nil || got != tc.want {
			t.Errorf("%s: %s = %q, %v; want %q", tc.name, tc.path, got, err, tc.want)
		}
	}

	c.ns[0].SetNode(Node{ID: 2, Addr: c.exports[1].addr, State: membership.Failed})
	for _, tc := range []struct {
		cmd   string
		errno linux.Errno
	}{
		{"select 9", linux.ENOENT},
		{"select 2", linux.EHOSTDOWN},
		{"select x", linux.EINVAL},
		{"select 03", linux.EINVAL},
		{"select", linux.EINVAL},
		{"home 1", linux.EINVAL},
		{"", linux.EINVAL},
	} {
		if err := writeCtl(root, tc.cmd); !isErrno(err, tc.errno) {
			t.Errorf("write %q to ctl: %v, want %v", tc.cmd, err, tc.errno)
		}
	}
	if got, _ := readAll(root, "ctl"); got != "here 1 home 2 selected 3\n" {
		t.Errorf("after bad commands ctl = %q", got)
	}
}

func TestNodesFile(t *testing.T) {
	c := newCluster(t, 3)
	c.ns[0].SetNode(Node{ID: 3, Addr: c.exports[2].addr, State: membership.Left})
	root := attach(t, c.client(t, 1), "home=2")
	got, err := readAll(root, "nodes")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("1 %s alive here\n2 %s alive home,selected\n3 %s left -\n", c.exports[0].addr, c.exports[1].addr, c.exports[2].addr)
	if got != want {
		t.Fatalf("nodes:\n%s\nwant:\n%s", got, want)
	}
	f := walk(t, root, "nodes")
	if _, _, a, err := f.GetAttr(p9.AttrMaskAll); err != nil || a.Size != uint64(len(want)) {
		t.Errorf("nodes size %d, %v; want %d", a.Size, err, len(want))
	}
	// awk-friendly: four fields per line.
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		if len(strings.Fields(l)) != 4 {
			t.Errorf("line %q: want 4 fields", l)
		}
	}
}

func TestBadAttachNames(t *testing.T) {
	c := newCluster(t, 3)
	c.ns[0].SetNode(Node{ID: 3, Addr: c.exports[2].addr, State: membership.Failed})
	cl := c.client(t, 1)
	for _, tc := range []struct {
		aname string
		errno linux.Errno
	}{
		{"bogus=1", linux.EINVAL},
		{"home=x", linux.EINVAL},
		{"home=", linux.EINVAL},
		{"home=02", linux.EINVAL},
		{"home=-1", linux.EINVAL},
		{"selected=9", linux.ENOENT},
		{"home=3", linux.EHOSTDOWN},
		{"home=2/bogus=1", linux.EINVAL},
		{"nosuch", linux.ENOENT},
		{"3", linux.EHOSTDOWN},
		{"home=2/home/nosuch", linux.ENOENT},
		{"here/var=1", linux.ENOENT},
		{"nodes/x", linux.ENOTDIR},
		{"here/../x", linux.EINVAL},
	} {
		if f, err := cl.Attach(tc.aname); !isErrno(err, tc.errno) {
			if f != nil {
				f.Close()
			}
			t.Errorf("attach %q: %v, want %v", tc.aname, err, tc.errno)
		}
	}
	// The connection still works.
	attach(t, cl, "home=2")
}

func TestHereAlwaysReachable(t *testing.T) {
	// Whatever membership says about the serving node, its own files are
	// in-process and stay reachable; nodes shows the reported state.
	c := newCluster(t, 2)
	c.markNodes(t)
	c.ns[0].SetNode(Node{ID: 1, Addr: c.exports[0].addr, State: membership.Left})
	root := attach(t, c.client(t, 1), "home=1")
	if got, err := readAll(root, "here/whoami"); err != nil || got != "node 1" {
		t.Errorf("here/whoami: %q, %v", got, err)
	}
	if names, _ := listDir(root, ""); !slices.Contains(names, "1") {
		t.Errorf("root %q lacks the serving node", names)
	}
	if got, _ := readAll(root, "nodes"); !strings.HasPrefix(got, fmt.Sprintf("1 %s left here,home,selected\n", c.exports[0].addr)) {
		t.Errorf("nodes: %q", got)
	}
}

func TestClosedNamespace(t *testing.T) {
	c := newCluster(t, 2)
	c.markNodes(t)
	root, err := c.ns[0].Attach()
	if err != nil {
		t.Fatal(err)
	}
	c.ns[0].Close()
	if _, err := c.ns[0].Attach(); err == nil {
		t.Error("attach after Close succeeded")
	}
	if _, _, err := root.Walk([]string{"2"}); !isErrno(err, linux.EHOSTDOWN) {
		t.Errorf("walk to a peer after Close: %v, want EHOSTDOWN", err)
	}
}
