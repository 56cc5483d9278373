package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// Lock types and status on the wire.
const (
	rdlck, wrlck, unlck        = 0, 1, 2
	lockOK, lockBlocked        = 0, 1
	lockFlagBlock              = 1
	rdwr                uint32 = 2
)

func TestLocks(t *testing.T) {
	a, dir := newExport(t)
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 200), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := srv9ptest.Serve(t, network, a)
			c1, c2 := srv9ptest.OpenRaw(t, addr), srv9ptest.OpenRaw(t, addr)
			steps := []struct {
				name          string
				c             *rawConn
				typ           p9.LockType
				flags         p9.LockFlags
				start, length uint64
				want          p9.LockStatus
			}{
				{"c1 write-locks 0..99", c1, wrlck, 0, 0, 100, lockOK},
				{"c2 overlapping write lock conflicts", c2, wrlck, 0, 50, 10, lockBlocked},
				{"c2 read lock conflicts too", c2, rdlck, 0, 99, 1, lockBlocked},
				{"c2 beyond the range is free", c2, wrlck, 0, 100, 0, lockOK},
				{"c1 cannot take c2's range", c1, rdlck, 0, 150, 1, lockBlocked},
				{"c1 unlocks 0..49", c1, unlck, 0, 0, 50, lockOK},
				{"c2 now gets 0..49", c2, wrlck, 0, 0, 50, lockOK},
				{"c2 still not 50..99", c2, wrlck, 0, 50, 1, lockBlocked},
				{"c1 unlocks all", c1, unlck, 0, 0, 0, lockOK},
				{"c2 gets 50..99", c2, wrlck, 0, 50, 50, lockOK},
				{"c2 unlocks all", c2, unlck, 0, 0, 0, lockOK},
				{"c1 read-locks all", c1, rdlck, 0, 0, 0, lockOK},
				{"c2 read locks share", c2, rdlck, 0, 0, 0, lockOK},
				{"c2 cannot write-lock", c2, wrlck, 0, 0, 0, lockBlocked},
			}
			for _, s := range steps {
				got, err := s.c.Lock(2, s.typ, s.flags, s.start, s.length)
				if err != nil || got != s.want {
					t.Fatalf("%s: status %d, %v; want %d", s.name, got, err, s.want)
				}
			}
			// Clunking c1's fid closes its descriptor and drops its locks.
			c2.Lock(2, unlck, 0, 0, 0)
			if st, _ := c1.Lock(2, wrlck, 0, 0, 0); st != lockOK {
				t.Fatalf("c1 write lock after c2 unlocked: %d", st)
			}
			if err := c1.Clunk(2); err != nil {
				t.Fatal(err)
			}
			if st, err := c2.Lock(2, wrlck, 0, 0, 0); st != lockOK || err != nil {
				t.Fatalf("c2 after c1 clunked: %d, %v", st, err)
			}
			c2.Lock(2, unlck, 0, 0, 0)
		})
	}
}

// TestLockHostConflict checks that a 9P lock conflicts with a lock a host
// process holds on the same file.
func TestLockHostConflict(t *testing.T) {
	a, dir := newExport(t)
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(p, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 10, Len: 10}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	c := srv9ptest.OpenRaw(t, srv9ptest.Serve(t, "tcp", a))
	if st, err := c.Lock(2, rdlck, 0, 15, 1); st != lockBlocked || err != nil {
		t.Fatalf("lock under a host lock: %d, %v", st, err)
	}
	if st, err := c.Lock(2, wrlck, 0, 20, 5); st != lockOK || err != nil {
		t.Fatalf("lock beside a host lock: %d, %v", st, err)
	}
	// And the host sees the 9P client's lock.
	probe := unix.Flock_t{Type: unix.F_WRLCK, Start: 22, Len: 1}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &probe); err != nil {
		t.Fatal(err)
	}
	if probe.Type != unix.F_WRLCK || probe.Start != 20 || probe.Len != 5 {
		t.Fatalf("host F_OFD_GETLK sees %+v", probe)
	}
}

// TestGetLock sends hand-made Tgetlock frames through Serve's filter.
func TestGetLock(t *testing.T) {
	a, dir := newExport(t)
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := srv9ptest.Serve(t, "unix", a)
	c1, c2 := srv9ptest.OpenRaw(t, addr), srv9ptest.OpenRaw(t, addr)
	if st, err := c1.Lock(2, wrlck, 0, 100, 50); st != lockOK || err != nil {
		t.Fatalf("lock: %d, %v", st, err)
	}
	cases := []struct {
		name          string
		c             *rawConn
		typ           p9.LockType
		start, length uint64
		want          fcall.Rgetlock
	}{
		{"conflict reported", c2, wrlck, 0, 0, fcall.Rgetlock{LockType: wrlck, Start: 100, Length: 50, Client: "me"}},
		{"read probe conflicts with write lock", c2, rdlck, 120, 1, fcall.Rgetlock{LockType: wrlck, Start: 100, Length: 50, Client: "me"}},
		{"free range", c2, wrlck, 0, 100, fcall.Rgetlock{LockType: unlck, Start: 0, Length: 100, Client: "me"}},
		{"unlck probe finds the write lock", c2, unlck, 120, 1, fcall.Rgetlock{LockType: wrlck, Start: 100, Length: 50, Client: "me"}},
		{"unlck probe of a free range", c2, unlck, 200, 100, fcall.Rgetlock{LockType: unlck, Start: 200, Length: 100, Client: "me"}},
		{"unlck probe by the holder", c1, unlck, 0, 0, fcall.Rgetlock{LockType: unlck, Start: 0, Length: 0, Client: "me"}},
		{"own lock does not conflict", c1, wrlck, 0, 0, fcall.Rgetlock{LockType: unlck, Start: 0, Length: 0, Client: "me"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.GetLock(2, tc.typ, tc.start, tc.length, "me")
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Fatalf("Rgetlock %+v, want %+v", got, tc.want)
			}
		})
	}
	// Tgetlock must not take a lock: c2 probing did not lock anything.
	if st, _ := c1.Lock(2, wrlck, 0, 0, 0); st != lockOK {
		t.Fatalf("c1 cannot lock the whole file after c2's probes: %d", st)
	}
	// Errors pass through: unopened fid 1 (the root) has no descriptor.
	if _, err := c2.GetLock(1, wrlck, 0, 0, "me"); err == nil {
		t.Fatal("Tgetlock on an unopened fid succeeded")
	}
	// Requests after a Tgetlock still flow.
	if b, err := c2.Read(2, 0, 10); err != nil || len(b) != 0 {
		t.Fatalf("read after Tgetlock: %q, %v", b, err)
	}
}

// TestWalkNotDir checks the filter's fix: a walk from a file is ENOTDIR.
func TestWalkNotDir(t *testing.T) {
	r, _ := rawAtFile(t)
	for _, tc := range []struct {
		name  string
		fid   uint32
		names []string
		want  error
	}{
		{"from a file", 2, []string{"x"}, linux.ENOTDIR},
		{"through a file", 1, []string{"f", "x"}, linux.ENOTDIR},
		{"dot-dot stays EINVAL", 1, []string{".."}, linux.EINVAL},
		{"missing", 1, []string{"nope"}, linux.ENOENT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.Walk(tc.fid, 3, tc.names...); err != tc.want {
				t.Fatalf("walk %v: %v, want %v", tc.names, err, tc.want)
			}
		})
	}
}

// TestXattrWire sets, reads, lists and removes attributes with the
// Txattrcreate/Txattrwalk messages the kernel sends.
func TestXattrWire(t *testing.T) {
	r, dir := rawAtFile(t)
	p := filepath.Join(dir, "f")
	if err := r.SetXattr(2, 3, "user.color", []byte("blue"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := unix.Getxattr(p, "user.color", buf); err != nil || string(buf[:n]) != "blue" {
		t.Fatalf("host sees %q, %v", buf[:n], err)
	}
	if got, err := r.GetXattr(2, 3, "user.color"); err != nil || string(got) != "blue" {
		t.Fatalf("Txattrwalk: %q, %v", got, err)
	}
	if got, err := r.GetXattr(2, 3, ""); err != nil || string(got) != "user.color\x00" {
		t.Fatalf("list: %q, %v", got, err)
	}
	if err := r.SetXattr(2, 3, "user.color", []byte("red"), unix.XATTR_CREATE); err != linux.EEXIST {
		t.Fatalf("XATTR_CREATE over an existing one: %v", err)
	}
	if err := r.SetXattr(2, 3, "user.color", nil, unix.XATTR_REPLACE); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := unix.Getxattr(p, "user.color", buf); err != unix.ENODATA {
		t.Fatalf("host after remove: %v", err)
	}
	// The file's own fid survives the attribute fids clunked above (the
	// p9 server alone would have closed it with the first of them).
	if err := r.Lopen(2, rdwr); err != nil {
		t.Fatalf("open the file after xattr walks: %v", err)
	}
	if err := r.Write(2, 0, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "still here" {
		t.Fatalf("file holds %q", b)
	}
	// A failed GetXattr reaches the client with its own errno.
	if _, err := r.GetXattr(2, 3, "user.missing"); err != linux.ENODATA {
		t.Fatalf("Txattrwalk of a missing attribute: %v, want ENODATA", err)
	}
	if _, err := r.GetXattr(2, 3, "bogus.ns"); err != linux.EOPNOTSUPP {
		t.Fatalf("Txattrwalk in an unknown namespace: %v, want EOPNOTSUPP", err)
	}
	// The file's fid still works after failed Txattrwalks.
	if b, err := r.Read(2, 0, 64); err != nil || string(b) != "still here" {
		t.Fatalf("read after failed Txattrwalks: %q, %v", b, err)
	}
	// A Txattrwalk from a bad fid is answered once, with an error.
	if _, err := r.GetXattr(99, 3, "user.color"); err != linux.EBADF {
		t.Fatalf("Txattrwalk from an unknown fid: %v", err)
	}
}
