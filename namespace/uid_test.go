package namespace

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// TestAttachUIDThroughNamespace: files made through a namespace attach
// whose Tattach carried n_uname belong to that uid, on the serving node
// (in-process export) and on a remote one (the peer runs the create as
// that user); without n_uname, to the user the uname names. The group the
// create asks for is one these users (no passwd entry: the gid of their
// own number, no other groups) may not give, so the files keep that gid,
// as they would locally.
func TestAttachUIDThroughNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
	c := newCluster(t, 2)
	const gid = 4321
	for i, tc := range []struct {
		name    string
		node    int      // namespace to attach to
		uid     uint32   // n_uname; ^0 for none
		aname   string   // attach name
		walk    []string // from the attach to the node's root
		host    int      // node whose export holds the files
		wantUID uint32
	}{
		{"here", 1, 1234, "", []string{"here"}, 1, 1234},
		{"number of here", 1, 1235, "", []string{"1"}, 1, 1235},
		{"remote", 1, 1236, "", []string{"2"}, 2, 1236},
		{"home context remote", 1, 1237, "home=2", []string{"home"}, 2, 1237},
		{"attach at a remote path", 1, 1238, "/2", nil, 2, 1238},
		// Without n_uname the uname is the claim: "someone" names no user
		// of this machine, so the attach is the anonymous user.
		{"no n_uname, here", 1, ^uint32(0), "", []string{"here"}, 1, 65534},
		{"no n_uname, remote", 1, ^uint32(0), "", []string{"2"}, 2, 65534},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := "u" + string(rune('a'+i))
			// Operations run as the attach's user: it needs a
			// directory it may write in.
			if err := os.Mkdir(filepath.Join(c.dirs[tc.host-1], sub), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(c.dirs[tc.host-1], sub), 0o777); err != nil {
				t.Fatal(err)
			}
			w := srv9ptest.DialRaw(t, c.nsSrv[tc.node-1].addr)
			must := func(_ fcall.Msg, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(w.RPC(&fcall.Tattach{Fid: 1, Afid: fcall.NoFid, Uname: "someone", Aname: tc.aname, NUname: p9.UID(tc.uid)}))
			must(w.RPC(&fcall.Twalk{Fid: 1, NewFid: 2, Names: append(tc.walk, sub)}))
			must(w.RPC(&fcall.Twalk{Fid: 2, NewFid: 3}))
			must(w.RPC(&fcall.Tlcreate{Fid: 3, Name: "f", Flags: p9.ReadWrite, Mode: 0o640, GID: gid}))
			must(w.RPC(&fcall.Tmkdir{Dfid: 2, Name: "d", Mode: 0o750, GID: gid}))
			must(w.RPC(&fcall.Tsymlink{Fid: 2, Name: "s", Target: "target", GID: gid}))
			must(w.RPC(&fcall.Tmknod{Dfid: 2, Name: "p", Mode: unix.S_IFIFO | 0o600, GID: gid}))
			for _, n := range []string{"f", "d", "s", "p"} {
				fi, err := os.Lstat(filepath.Join(c.dirs[tc.host-1], sub, n))
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				// No passwd entry, no group of that number: the
				// user-private gid (nobody has its own).
				wantGID := tc.wantUID
				if st.Uid != tc.wantUID || st.Gid != wantGID {
					t.Errorf("%s: owner %d:%d, want %d:%d", n, st.Uid, st.Gid, tc.wantUID, wantGID)
				}
			}
		})
	}
}

// TestChmodSetidThroughNamespace: chmod with setuid/setgid bits through
// the namespace sets them on the serving node and on a remote one.
func TestChmodSetidThroughNamespace(t *testing.T) {
	c := newCluster(t, 2)
	mustWriteHost(t, c.dirs[0], "m/f", "x")
	mustWriteHost(t, c.dirs[1], "m/f", "x")
	for _, tc := range []struct {
		name string
		walk []string
		host int
	}{
		{"here", []string{"here", "m", "f"}, 1},
		{"remote", []string{"2", "m", "f"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := srv9ptest.DialRaw(t, c.nsSrv[0].addr)
			if err := w.Attach(1); err != nil {
				t.Fatal(err)
			}
			if err := w.Walk(1, 2, tc.walk...); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(c.dirs[tc.host-1], "m", "f")
			for _, mode := range []uint32{04755, 02710, 06700, 0o640} {
				if err := w.Setattr(2, 1, mode, 0); err != nil {
					t.Fatalf("chmod %04o: %v", mode, err)
				}
				var st unix.Stat_t
				if err := unix.Stat(p, &st); err != nil {
					t.Fatal(err)
				}
				if st.Mode&07777 != mode {
					t.Errorf("chmod %04o: host mode %04o", mode, st.Mode&07777)
				}
			}
		})
	}
}
