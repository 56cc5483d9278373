package srv9p

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// attachAs attaches fid to aname with n_uname uid (^0: none), as the
// Linux client does once per local user with access=user or access=client,
// and returns the Rattach QID bytes.
func (r *rawConn) attachAs(fid, uid uint32, aname string) ([]byte, error) {
	var b enc
	b.u32(fid).u32(^uint32(0)).str("someone").str(aname).u32(uid)
	d, err := r.call(104, b)
	return d, err
}

// makeAll makes one entry of each kind in the directory at fid, as a
// client with group gid: a file f, a directory d, a symlink s and a fifo p.
func (r *rawConn) makeAll(t *testing.T, fid, tmp, gid uint32) {
	t.Helper()
	if err := r.walk(fid, tmp); err != nil {
		t.Fatal(err)
	}
	var b enc
	b.u32(tmp).str("f").u32(rdwr).u32(0o640).u32(gid)
	if _, err := r.call(14, b); err != nil { // Tlcreate
		t.Fatalf("create: %v", err)
	}
	r.clunk(tmp)
	b = nil
	b.u32(fid).str("d").u32(0o750).u32(gid)
	if _, err := r.call(72, b); err != nil { // Tmkdir
		t.Fatalf("mkdir: %v", err)
	}
	b = nil
	b.u32(fid).str("s").str("target").u32(gid)
	if _, err := r.call(16, b); err != nil { // Tsymlink
		t.Fatalf("symlink: %v", err)
	}
	b = nil
	b.u32(fid).str("p").u32(unix.S_IFIFO | 0o600).u32(0).u32(0).u32(gid)
	if _, err := r.call(18, b); err != nil { // Tmknod
		t.Fatalf("mknod: %v", err)
	}
}

// owners returns the uid and gid of path on the host.
func owners(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// TestAttachUID: files made through an attach with n_uname belong to that
// uid, in the attach's root and below, with the group from the message;
// without n_uname they belong to the server's user.
func TestAttachUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
	a, dir := newExport(t)
	if err := os.MkdirAll(filepath.Join(dir, "sub", "deep"), 0o777); err != nil {
		t.Fatal(err)
	}
	addr := serve(t, "tcp", a)
	plainQID, err := dialRaw(t, addr).attachAs(1, ^uint32(0), "")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		uid     uint32
		aname   string
		walk    []string // from the attach, before making
		dir     string   // where the entries land, below the export
		wantUID uint32
	}{
		{"root attach", 1234, "", nil, "", 1234},
		{"slash attach", 1235, "/", nil, "", 1235},
		{"attach at a path", 1236, "/sub/deep", nil, "sub/deep", 1236},
		{"walked below", 1237, "", []string{"sub", "deep"}, "sub/deep", 1237},
		{"uid 0", 0, "", nil, "", 0},
		{"no n_uname", ^uint32(0), "", nil, "", uint32(os.Geteuid())},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh directory per case: the names are fixed.
			sub := filepath.Join(dir, tc.dir, "c"+string(rune('a'+i)))
			if err := os.Mkdir(sub, 0o777); err != nil {
				t.Fatal(err)
			}
			r := dialRaw(t, addr)
			q, err := r.attachAs(1, tc.uid, tc.aname)
			if err != nil {
				t.Fatalf("attach: %v", err)
			}
			// The p9 server answers with the root's QID, whatever the
			// attach name; the uid element must not change that.
			// (type[1] version[4] path[8]; the version follows the
			// root's mtime, which the cases change.)
			if q[0] != plainQID[0] || string(q[5:13]) != string(plainQID[5:13]) {
				t.Errorf("Rattach QID %x, want the root's %x", q, plainQID)
			}
			if err := r.walk(1, 2, append(tc.walk, filepath.Base(sub))...); err != nil {
				t.Fatal(err)
			}
			const gid = 4321
			r.makeAll(t, 2, 3, gid)
			for _, n := range []string{"f", "d", "s", "p"} {
				u, g := owners(t, filepath.Join(sub, n))
				if u != tc.wantUID || g != gid {
					t.Errorf("%s: owner %d:%d, want %d:%d", n, u, g, tc.wantUID, gid)
				}
			}
			if fi, _ := os.Stat(filepath.Join(sub, "f")); fi.Mode().Perm() != 0o640 {
				t.Errorf("f: mode %v after the chown, want 0640", fi.Mode())
			}
		})
	}
}

// TestReservedNames: a client cannot name the uid element, neither in a
// walk nor in an attach name, nor forge one.
func TestReservedNames(t *testing.T) {
	a, _ := newExport(t)
	r := dialRaw(t, serve(t, "tcp", a))
	if err := r.attach(1); err != nil {
		t.Fatal(err)
	}
	elem := UIDElement(7)
	for _, tc := range []struct {
		name  string
		walk  []string
		aname string
	}{
		{"walk the element", []string{elem}, ""},
		{"walk a forged element", []string{uidMagic + "guess.7"}, ""},
		{"walk the element after a dot-dot", []string{"..", elem}, ""},
		{"attach with the element", nil, elem},
		{"attach with /element/x", nil, "/" + elem + "/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.walk != nil {
				err = r.walk(1, 2, tc.walk...)
			} else {
				_, err = r.attachAs(2, 5, tc.aname)
			}
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
	// Without the filter in front, a forged element is just a missing
	// name.
	root, err := a.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, _, err := root.Walk([]string{uidMagic + "guess.7"}); err == nil {
		t.Fatal("forged element walked")
	}
	if uid, ok := AttachUID(elem); !ok || uid != 7 {
		t.Fatalf("AttachUID(UIDElement(7)) = %d, %v", uid, ok)
	}
	if _, ok := AttachUID(UIDElement(p9.NoUID)); ok {
		t.Fatal("AttachUID accepts NoUID")
	}
}
