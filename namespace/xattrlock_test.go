package namespace

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/client"
	"mfs/internal/dial"
)

// rawClient is mfs's client, which sends xattrs, Tlock with the fid and
// Tgetlock as plain messages.
type rawClient struct{ *dial.Conn }

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := dial.Dial(t.Context(), addr, dial.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{c}
}

// open walks to path from a fresh attach (with aname) and opens it
// read-write.
func (c *rawClient) open(t *testing.T, aname, path string) *client.File {
	t.Helper()
	r := attach(t, c.Conn, aname)
	f := walk(t, r, path)
	if _, _, err := f.Open(p9.ReadWrite); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return f.(*client.File)
}

// result renders an operation's outcome for comparison.
func result(v any, err error) string {
	if err != nil {
		var e linux.Errno
		if ok := asErrno(err, &e); ok {
			return "errno " + e.Error()
		}
		return "error " + err.Error()
	}
	return fmt.Sprint(v)
}

func asErrno(err error, e *linux.Errno) bool {
	x, ok := err.(linux.Errno)
	*e = x
	return ok
}

// xattrScript runs a fixed sequence of xattr operations on path and
// returns their outcomes; each runs on a freshly walked fid.
func xattrScript(t *testing.T, c *rawClient, aname, path string) []string {
	r := attach(t, c.Conn, aname)
	fresh := func() *client.File {
		f, err := walkErr(r, path)
		if err != nil {
			t.Fatalf("walk %s: %v", path, err)
		}
		t.Cleanup(func() { f.Close() })
		return f.(*client.File)
	}
	get := func(name string) string {
		b, err := fresh().GetXattr(name)
		return result(string(b), err)
	}
	list := func() string {
		names, err := fresh().ListXattrs()
		slices.Sort(names)
		return result(strings.Join(names, ","), err)
	}
	set := func(name, v string, fl p9.XattrFlags) string {
		return result("ok", fresh().SetXattr(name, []byte(v), fl))
	}
	big := strings.Repeat("x", 3000)
	return []string{
		list(),
		set("user.a", "1", 0),
		get("user.a"),
		set("user.b", big, 0),
		get("user.b"),
		list(),
		set("user.a", "2", p9.XattrCreate),
		set("user.c", "3", p9.XattrReplace),
		set("user.a", "22", p9.XattrReplace),
		get("user.a"),
		get("user.missing"),
		result("ok", fresh().RemoveXattr("user.a")),
		get("user.a"),
		result("ok", fresh().RemoveXattr("user.a")),
		list(),
	}
}

func TestXattrsRemoteLikeLocal(t *testing.T) {
	c := newCluster(t, 3)
	for _, f := range []string{"ref", "f1", "f2", "f3"} {
		mustWriteHost(t, c.dirs[1], "x/"+f, "")
	}
	want := xattrScript(t, dialRaw(t, c.exports[1].addr), "", "x/ref") // srv9p itself
	if want[2] != "1" || want[4] != strings.Repeat("x", 3000) {
		t.Fatalf("reference run did not set xattrs: %q", want)
	}
	for _, tc := range []struct {
		node        int
		aname, path string
	}{
		{2, "", "here/x/f1"},       // local file, in-process
		{1, "", "2/x/f2"},          // remote file, proxied
		{3, "home=2", "home/x/f3"}, // remote through a context dir
	} {
		t.Run(tc.aname+"/"+tc.path, func(t *testing.T) {
			got := xattrScript(t, dialRaw(t, c.nsSrv[tc.node-1].addr), tc.aname, tc.path)
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// lockScript has two clients lock one file in turns and returns the
// outcomes (statuses and Rgetlock contents).
func lockScript(t *testing.T, a, b *rawClient, aname, path string) []string {
	fa := a.open(t, aname, path)
	fb := b.open(t, aname, path)
	lock := func(_ *rawClient, f *client.File, typ p9.LockType, start, length uint64) string {
		st, err := f.Lock(42, typ, 0, start, length, "client")
		return result(st, err)
	}
	get := func(_ *rawClient, f *client.File, typ p9.LockType, start, length uint64) string {
		g, err := f.GetLock(client.LockInfo{Type: typ, Start: start, Length: length, PID: 42, Client: "client"})
		return result(fmt.Sprintf("%v %d+%d", g.Type, g.Start, g.Length), err)
	}
	return []string{
		lock(a, fa, p9.WriteLock, 0, 100),
		lock(b, fb, p9.WriteLock, 0, 100),
		lock(b, fb, p9.ReadLock, 50, 10),
		get(b, fb, p9.WriteLock, 0, 10),
		get(b, fb, p9.ReadLock, 200, 10),
		get(b, fb, p9.Unlock, 50, 10),  // what the kernel sends: any conflict?
		get(b, fb, p9.Unlock, 200, 10), // free
		lock(b, fb, p9.WriteLock, 100, 10),
		get(a, fa, p9.WriteLock, 100, 5),
		get(a, fa, p9.Unlock, 0, 0),
		lock(a, fa, p9.Unlock, 0, 100),
		lock(b, fb, p9.WriteLock, 0, 100),
		lock(a, fa, p9.ReadLock, 0, 1),
		lock(b, fb, p9.Unlock, 0, 0),
		lock(a, fa, p9.ReadLock, 0, 1),
		lock(a, fa, p9.LockType(7), 0, 1),
	}
}

func TestLocksRemoteLikeLocal(t *testing.T) {
	c := newCluster(t, 3)
	for _, f := range []string{"ref", "f1", "f2", "f3", "g"} {
		mustWriteHost(t, c.dirs[1], "l/"+f, "data")
	}
	want := lockScript(t, dialRaw(t, c.exports[1].addr), dialRaw(t, c.exports[1].addr), "", "l/ref")
	t.Logf("srv9p: %q", want)
	if want[0] != "LockStatusOK" || want[1] != "LockStatusBlocked" || !strings.HasPrefix(want[3], "WriteLock") ||
		want[5] != "WriteLock 0+100" || want[6] != "Unlock 200+10" {
		t.Fatalf("reference run did not conflict: %q", want)
	}
	for _, tc := range []struct {
		node        int
		aname, path string
	}{
		{2, "", "here/l/f1"},
		{1, "", "2/l/f2"},
		{3, "selected=2", "selected/l/f3"},
	} {
		t.Run(tc.aname+"/"+tc.path, func(t *testing.T) {
			addr := c.nsSrv[tc.node-1].addr
			got := lockScript(t, dialRaw(t, addr), dialRaw(t, addr), tc.aname, tc.path)
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
	// Two clients on different nodes contend for one file of node 2.
	a, b := dialRaw(t, c.nsSrv[0].addr), dialRaw(t, c.nsSrv[2].addr)
	fa := a.open(t, "", "2/l/g")
	fb := b.open(t, "home=2", "home/l/g")
	if st, err := fa.Lock(1, p9.WriteLock, 0, 0, 0, "a"); err != nil || st != p9.LockStatusOK {
		t.Fatalf("lock via node 1: %v %v", st, err)
	}
	if st, err := fb.Lock(1, p9.WriteLock, 0, 0, 0, "b"); err != nil || st != p9.LockStatusBlocked {
		t.Fatalf("conflicting lock via node 3: %v %v, want blocked", st, err)
	}
}

// TestFidSurvivesXattrWalk: after Txattrwalks from an open fid (as the
// kernel sends for getxattr), the fid still reads and writes, locally and
// through the proxy.
func TestFidSurvivesXattrWalk(t *testing.T) {
	c := newCluster(t, 2)
	mustWriteHost(t, c.dirs[1], "s/f", "abc")
	mustWriteHost(t, c.dirs[1], "s/g", "abc")
	for _, tc := range []struct {
		node int
		path string
	}{{2, "here/s/f"}, {1, "2/s/g"}} {
		t.Run(tc.path, func(t *testing.T) {
			cl := dialRaw(t, c.nsSrv[tc.node-1].addr)
			f := walk(t, attach(t, cl.Conn, ""), tc.path)
			if _, _, err := f.Open(p9.ReadWrite); err != nil {
				t.Fatal(err)
			}
			cf := f.(*client.File)
			for i := 0; i < 3; i++ {
				if _, err := cf.ListXattrs(); err != nil {
					t.Fatalf("list: %v", err)
				}
				cf.GetXattr("user.none") // fails; must not matter
			}
			buf := make([]byte, 3)
			if n, err := f.ReadAt(buf, 0); err != nil || string(buf[:n]) != "abc" {
				t.Fatalf("read after xattr walks: %q, %v", buf[:n], err)
			}
			if _, err := f.WriteAt([]byte("xyz"), 0); err != nil {
				t.Fatalf("write after xattr walks: %v", err)
			}
		})
	}
}
