package namespace

import (
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hugelgupf/p9/fsimpl/test"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
	"mfs/membership"
	"mfs/srv9p"
)

func TestConsistency(t *testing.T) {
	c := newCluster(t, 3)
	mustWriteHost(t, c.dirs[1], "d/.keep", "")
	r1 := attach(t, c.client(t, 1), "")
	r2 := attach(t, c.client(t, 2), "")
	r3 := attach(t, c.client(t, 3), "")

	if err := writeFile(r1, "2/d", "f", "written via node 1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		root p9.File
		path string
	}{
		{"node 2 here", r2, "here/d/f"},
		{"node 3 /2", r3, "2/d/f"},
		{"node 1 /2", r1, "2/d/f"},
	} {
		if got, err := readAll(tc.root, tc.path); err != nil || got != "written via node 1" {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}

	d := walk(t, r1, "2/d")
	if err := d.RenameAt("f", d, "g"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		root p9.File
		dir  string
	}{{r2, "here/d"}, {r3, "2/d"}} {
		names, err := listDir(tc.root, tc.dir)
		if err != nil || !slices.Equal(names, []string{".keep", "g"}) {
			t.Errorf("%s after rename: %q, %v", tc.dir, names, err)
		}
	}
	if err := d.UnlinkAt("g", 0); err != nil {
		t.Skipf("unlink: %v (export does not unlink)", err)
	}
	for _, tc := range []struct {
		root p9.File
		path string
	}{{r2, "here/d/g"}, {r3, "2/d/g"}} {
		if _, err := walkErr(tc.root, tc.path); !isErrno(err, linux.ENOENT) {
			t.Errorf("%s after unlink: %v, want ENOENT", tc.path, err)
		}
	}
}

// walkAttacher hands a client file, walked to some directory, to the
// p9 acceptance suite as its root.
type walkAttacher struct{ f p9.File }

func (w walkAttacher) Attach() (p9.File, error) {
	_, f, err := w.f.Walk(nil)
	return byteCount{f}, err
}

// byteCount adapts the acceptance suite to the p9 client, for the run
// over the wire: the client sends Readdir's count as Treaddir's byte
// budget (the suite passes a number of entries, 10), and listings include
// "." and ".." (the suite walks every listed name, and the server refuses
// to walk those two).
type byteCount struct{ p9.File }

func (b byteCount) Readdir(off uint64, count uint32) (p9.Dirents, error) {
	ds, err := b.File.Readdir(off, count*(24+256))
	var out p9.Dirents
	for _, d := range ds {
		if d.Name != "." && d.Name != ".." {
			out = append(out, d)
		}
	}
	return out, err
}

func (b byteCount) Walk(names []string) ([]p9.QID, p9.File, error) {
	q, f, err := b.File.Walk(names)
	if err != nil {
		return nil, nil, err
	}
	return q, byteCount{f}, nil
}

func TestAcceptance(t *testing.T) {
	c := newCluster(t, 3)
	t.Run("srv9p export directly", func(t *testing.T) {
		mustWriteHost(t, c.dirs[0], "acc0/.keep", "")
		cl, err := dial.Dial(t.Context(), c.exports[0].addr, dial.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		r, err := cl.Attach("")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		test.TestFile(t, walkAttacher{walk(t, r, "acc0")})
	})
	for _, d := range c.dirs {
		mustWriteHost(t, d, "acc/.keep", "")
		mustWriteHost(t, d, "acc2/.keep", "")
		mustWriteHost(t, d, "acc3/.keep", "")
	}
	// In-process, on the namespace itself, for files of the serving node:
	// no adapter (Readdir counts entries, as the suite and p9.File say).
	for _, tc := range []struct {
		ns    int
		aname string
	}{{1, "here/acc"}, {1, "1/acc2"}, {3, "home=3/home/acc"}, {3, "selected=3/selected/acc2"}} {
		t.Run(tc.aname, func(t *testing.T) {
			test.TestFile(t, namedAttacher{c.ns[tc.ns-1], tc.aname})
		})
	}
	// Files of other nodes, over the wire: the suite walks every listed
	// name, "." and ".." too, which 9P2000.L does not let a client send to
	// a peer, so these go through byteCount.
	for _, aname := range []string{"2/acc3", "home=3/home/acc3", "selected=2/selected/acc"} {
		t.Run(aname, func(t *testing.T) {
			test.TestFile(t, walkAttacher{attach(t, c.client(t, 1), aname)})
		})
	}
}

// namedAttacher attaches the namespace with an attach name, as a Tattach
// carrying it does.
type namedAttacher struct {
	ns    *Namespace
	aname string
}

func (a namedAttacher) Attach() (p9.File, error) {
	return a.ns.AttachWith(srv9p.Attach{Name: a.aname, UID: p9.NoUID})
}

func TestUniqueQIDs(t *testing.T) {
	// Three nodes exporting one directory: the same inodes everywhere.
	shared := t.TempDir()
	mustWriteHost(t, shared, "sub/f", "x")
	c := &cluster{}
	for i := 1; i <= 3; i++ {
		c.dirs = append(c.dirs, shared)
		c.exports = append(c.exports, serve(t, exportOf(t, shared)))
	}
	ns, err := New(1, exportOf(t, shared), WithLogger(testLog(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	for j := 1; j <= 3; j++ {
		ns.SetNode(Node{ID: j, Addr: c.exports[j-1].addr, State: membership.Alive})
	}
	root, _ := ns.Attach()
	seen := map[uint64]string{}
	check := func(path string, q p9.QID) {
		if prev, ok := seen[q.Path]; ok {
			t.Errorf("%s and %s share qid.path %#x", prev, path, q.Path)
		}
		seen[q.Path] = path
	}
	q, _, _, _ := root.GetAttr(p9.AttrMaskAll)
	check("/", q)
	for _, n := range []string{"1", "2", "3", "nodes", "ctl"} {
		qs, f, err := root.Walk([]string{n})
		if err != nil {
			t.Fatal(err)
		}
		check(n, qs[0])
		gq, _, _, _ := f.GetAttr(p9.AttrMaskAll)
		if gq != qs[0] {
			t.Errorf("%s: walk qid %v, getattr qid %v", n, qs[0], gq)
		}
		f.Close()
		if n == "nodes" || n == "ctl" {
			continue
		}
		qs, f, err = root.Walk([]string{n, "sub", "f"})
		if err != nil {
			t.Fatal(err)
		}
		check(n+"/sub", qs[1])
		check(n+"/sub/f", qs[2])
		f.Close()
	}
	// Context dirs present the same files as /N: same QIDs by design.
	qh, fh, _ := root.Walk([]string{"here", "sub"})
	q1, f1, _ := root.Walk([]string{"1", "sub"})
	defer fh.Close()
	defer f1.Close()
	if qh[1] != q1[1] || qh[0] != q1[0] {
		t.Errorf("here/sub %v and 1/sub %v differ", qh, q1)
	}
	// Large paths (other devices) are remapped, not truncated.
	a := ns.mapQID(2, p9.QID{Path: 5})
	b := ns.mapQID(2, p9.QID{Path: 1<<48 | 5})
	c2 := ns.mapQID(2, p9.QID{Path: 1<<63 | 5})
	if a.Path == b.Path || b.Path == c2.Path || a.Path == c2.Path || ns.mapQID(2, p9.QID{Path: 1<<48 | 5}) != b {
		t.Errorf("remap: %#x %#x %#x", a.Path, b.Path, c2.Path)
	}
}

func TestEXDEV(t *testing.T) {
	c := newCluster(t, 3)
	for _, d := range c.dirs {
		mustWriteHost(t, d, "d/f", "x")
	}
	cl := c.client(t, 1)
	root := attach(t, cl, "")
	for _, tc := range []struct{ from, to string }{
		{"1/d", "2/d"},
		{"2/d", "3/d"},
		{"3/d", "here/d"},
		{"2/d", ""},
	} {
		from := walk(t, root, tc.from)
		to := walk(t, root, tc.to)
		if err := from.RenameAt("f", to, "g"); !isErrno(err, linux.EXDEV) {
			t.Errorf("rename %s/f → %s/g: %v, want EXDEV", tc.from, tc.to, err)
		}
		target := walk(t, root, tc.from+"/f")
		if err := to.Link(target, "h"); !isErrno(err, linux.EXDEV) && tc.to != "" {
			t.Errorf("link %s/f → %s/h: %v, want EXDEV", tc.from, tc.to, err)
		}
	}
	// Within one node, through different entry points, rename works.
	from := walk(t, root, "2/d")
	to := walk(t, attach(t, cl, "selected=2"), "selected/d")
	if err := from.RenameAt("f", to, "g"); err != nil {
		t.Errorf("rename within node 2: %v", err)
	}
}

func TestPeerDeath(t *testing.T) {
	const bound = 700 * time.Millisecond
	for _, tc := range []struct {
		name string
		kill func(c *cluster, hang net.Listener)
	}{
		{"export closed mid-read", func(c *cluster, _ net.Listener) { c.exports[1].stop() }},
		{"connections reset", func(c *cluster, _ net.Listener) { c.exports[1].dropConns() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			t.Run("run", func(t *testing.T) {
				c := newCluster(t, 3, WithTimeout(bound))
				mustWriteHost(t, c.dirs[1], "big", string(make([]byte, 8<<20)))
				root := attach(t, c.client(t, 1), "")
				f := walk(t, root, "2/big")
				if _, _, err := f.Open(p9.ReadOnly); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 1<<20)
				if _, err := f.ReadAt(buf, 0); err != nil {
					t.Fatal(err)
				}
				tc.kill(c, nil)
				start := time.Now()
				var err error
				for off := int64(0); err == nil && off < 8<<20; off += 1 << 20 {
					_, err = f.ReadAt(buf, off)
				}
				if el := time.Since(start); err == nil || el > bound+time.Second {
					t.Fatalf("read after peer death: %v after %v", err, el)
				}
				if !isErrno(err, linux.EHOSTDOWN) {
					t.Errorf("read after peer death: %v, want EHOSTDOWN", err)
				}
				// The rest of the union works, and the node itself again
				// once it is back (here: same export, new listener).
				if _, err := readAll(root, "3"); err == nil {
					t.Log("read dir as file?")
				}
				if _, err := listDir(root, "3"); err != nil {
					t.Errorf("node 3 after node 2 died: %v", err)
				}
				if tc.name == "connections reset" {
					// The export still listens: the next walk dials again.
					if _, err := listDir(root, "2"); err != nil {
						t.Errorf("node 2 after its connection reset: %v", err)
					}
				}
				s := serve(t, exportOf(t, c.dirs[1]))
				c.ns[0].SetNode(Node{ID: 2, Addr: s.addr, State: membership.Alive})
				if _, err := listDir(root, "2"); err != nil {
					t.Errorf("node 2 back: %v", err)
				}
				// The old file stays dead.
				if _, err := f.ReadAt(buf, 0); err == nil {
					t.Error("file of the dead connection read again")
				}
			})
			waitGoroutines(t, before, 5*time.Second)
		})
	}
}

func TestPeerHangs(t *testing.T) {
	// A peer that accepts and never answers: every call fails within the
	// bound, with EHOSTDOWN.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c := newCluster(t, 2, WithTimeout(300*time.Millisecond))
	c.ns[0].SetNode(Node{ID: 2, Addr: ln.Addr().String(), State: membership.Alive})
	root := attach(t, c.client(t, 1), "")
	start := time.Now()
	_, err = walkErr(root, "2")
	if el := time.Since(start); !isErrno(err, linux.EHOSTDOWN) || el > 2*time.Second {
		t.Fatalf("walk to hanging peer: %v after %v, want EHOSTDOWN within bound", err, el)
	}
	if _, err := listDir(root, "1"); err != nil {
		t.Fatalf("node 1 while node 2 hangs: %v", err)
	}

	// Many callers at once share one failed dial instead of queueing
	// for one timeout each.
	var wg sync.WaitGroup
	start = time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := walkErr(root, "2"); !isErrno(err, linux.EHOSTDOWN) {
				t.Errorf("concurrent walk to hanging peer: %v", err)
			}
		}()
	}
	wg.Wait()
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("8 concurrent walks to a hanging peer took %v, want about one timeout (300ms)", el)
	}
}
