package namespace

import (
	"fmt"
	"testing"

	"github.com/hugelgupf/p9/linux"

	"mfs/membership"
)

// TestErrnoTable checks the package doc's errors table: a node listed as
// failed is EHOSTDOWN, a node that left, was reaped or never was a member
// is ENOENT, the same through /N, the context directories, attach names
// and ctl; the serving node is usable whatever its state.
func TestErrnoTable(t *testing.T) {
	c := newCluster(t, 5)
	c.markNodes(t)
	ns := c.ns[0]
	// Node 2 failed, 3 left, 4 was reaped; there never was a node 9.
	ns.SetNode(Node{ID: 2, Addr: c.exports[1].addr, State: membership.Failed})
	ns.SetNode(Node{ID: 3, Addr: c.exports[2].addr, State: membership.Left})
	ns.RemoveNode(4)
	ns.SetNode(Node{ID: 1, Addr: c.exports[0].addr, State: membership.Failed}) // the serving node
	cl := c.client(t, 1)

	for _, tc := range []struct {
		node  int
		errno linux.Errno
	}{
		{1, 0},
		{2, linux.EHOSTDOWN},
		{3, linux.ENOENT},
		{4, linux.ENOENT},
		{5, 0},
		{9, linux.ENOENT},
	} {
		n := tc.node
		t.Run(fmt.Sprintf("node %d", n), func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if tc.errno == 0 && err != nil || tc.errno != 0 && !isErrno(err, tc.errno) {
					t.Errorf("%s: %v, want %v", what, err, errnoName(tc.errno))
				}
			}
			root := attach(t, cl, "")
			_, err := readAll(root, fmt.Sprintf("%d/whoami", n))
			check(fmt.Sprintf("/%d/whoami", n), err)

			for _, aname := range []string{fmt.Sprintf("home=%d", n), fmt.Sprintf("selected=%d", n), fmt.Sprint(n), fmt.Sprintf("%d/whoami", n)} {
				f, err := cl.Attach(aname)
				check("attach "+aname, err)
				if err == nil {
					f.Close()
				}
			}

			check(fmt.Sprintf("ctl select %d", n), writeCtl(root, fmt.Sprintf("select %d", n)))
		})
	}

	// Context directories whose node stopped being usable after the
	// attach named it: the same errnos.
	for _, tc := range []struct {
		state membership.State
		errno linux.Errno
	}{{membership.Failed, linux.EHOSTDOWN}, {membership.Left, linux.ENOENT}} {
		ns.SetNode(Node{ID: 5, Addr: c.exports[4].addr, State: membership.Alive})
		root := attach(t, cl, "home=5/selected=5")
		ns.SetNode(Node{ID: 5, Addr: c.exports[4].addr, State: tc.state})
		for _, dir := range []string{"home", "selected", "5"} {
			if _, err := readAll(root, dir+"/whoami"); !isErrno(err, tc.errno) {
				t.Errorf("node 5 %v: %s/whoami: %v, want %v", tc.state, dir, err, errnoName(tc.errno))
			}
		}
	}
	ns.RemoveNode(5)
	if _, err := readAll(attach(t, cl, ""), "5/whoami"); !isErrno(err, linux.ENOENT) {
		t.Errorf("node 5 reaped: /5/whoami: %v, want ENOENT", err)
	}
}

// errnoName names an errno for messages (0: success).
func errnoName(e linux.Errno) string {
	if e == 0 {
		return "success"
	}
	return fmt.Sprintf("%v (%d)", e, int(e))
}
