package namespace

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAttachUIDThroughNamespace: files made through a namespace attach
// whose Tattach carried n_uname belong to that uid, on the serving node
// (in-process export) and on a remote one (a setattr after the proxied
// create); without n_uname, to the server's user.
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
		{"no n_uname, here", 1, ^uint32(0), "", []string{"here"}, 1, 0},
		{"no n_uname, remote", 1, ^uint32(0), "", []string{"2"}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := "u" + string(rune('a'+i))
			if err := os.Mkdir(filepath.Join(c.dirs[tc.host-1], sub), 0o777); err != nil {
				t.Fatal(err)
			}
			w := dialFrames(t, c.nsSrv[tc.node-1].addr)
			w.call(104, 1, enc(nil).u32(1).u32(^uint32(0)).str("someone").str(tc.aname).u32(tc.uid), 105)
			path := append(tc.walk, sub)
			walk := enc(nil).u32(1).u32(2).u16(uint16(len(path)))
			for _, n := range path {
				walk = walk.str(n)
			}
			w.call(110, 2, walk, 111)
			w.call(110, 3, enc(nil).u32(2).u32(3).u16(0), 111)
			w.call(14, 4, enc(nil).u32(3).str("f").u32(2).u32(0o640).u32(gid), 15)                     // Tlcreate
			w.call(72, 5, enc(nil).u32(2).str("d").u32(0o750).u32(gid), 73)                            // Tmkdir
			w.call(16, 6, enc(nil).u32(2).str("s").str("target").u32(gid), 17)                         // Tsymlink
			w.call(18, 7, enc(nil).u32(2).str("p").u32(unix.S_IFIFO|0o600).u32(0).u32(0).u32(gid), 19) // Tmknod
			for _, n := range []string{"f", "d", "s", "p"} {
				fi, err := os.Lstat(filepath.Join(c.dirs[tc.host-1], sub, n))
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if st.Uid != tc.wantUID || st.Gid != gid {
					t.Errorf("%s: owner %d:%d, want %d:%d", n, st.Uid, st.Gid, tc.wantUID, gid)
				}
			}
		})
	}
}

// TestChmodSetidThroughNamespace: chmod with setuid/setgid bits through
// the namespace sets them on the serving node and on a remote one (an
// injected Tsetattr, since the p9 client's codec drops them).
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
			w := dialFrames(t, c.nsSrv[0].addr)
			w.call(104, 1, enc(nil).u32(1).u32(^uint32(0)).str("").str("").u32(^uint32(0)), 105)
			walk := enc(nil).u32(1).u32(2).u16(uint16(len(tc.walk)))
			for _, n := range tc.walk {
				walk = walk.str(n)
			}
			w.call(110, 2, walk, 111)
			p := filepath.Join(c.dirs[tc.host-1], "m", "f")
			for i, mode := range []uint32{04755, 02710, 06700, 0o640} {
				w.call(26, uint16(3+i), enc(nil).u32(2).u32(1).u32(mode).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0), 27)
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
