package cred

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// fsids returns the calling thread's fsuid and fsgid (setfsuid(-1)
// changes nothing and answers the current value).
func fsids() (int, int) {
	uid, _ := unix.SetfsuidRetUid(-1)
	gid, _ := unix.SetfsgidRetGid(-1)
	return uid, gid
}

// TestRunAsPanic: a panic in fn leaves the thread with the process's own
// credentials, and the goroutine no longer locked to it.
func TestRunAsPanic(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching credentials needs root")
	}
	c := New(1000, 1000, []int{1000})
	if c.Self() {
		t.Fatal("uid 1000 is the process's own")
	}
	runtime.LockOSThread() // so that the checks below run on fn's thread
	defer runtime.UnlockOSThread()
	var inside int
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v", p)
			}
		}()
		RunAs(c, func() {
			inside, _ = fsids()
			panic("boom")
		})
	}()
	if inside != 1000 {
		t.Errorf("fsuid inside RunAs %d, want 1000", inside)
	}
	if uid, gid := fsids(); uid != os.Geteuid() || gid != os.Getegid() {
		t.Errorf("after the panic the thread has fsuid %d fsgid %d", uid, gid)
	}
	g, err := unix.Getgroups()
	if err != nil || len(g) == 1 && g[0] == 1000 {
		t.Errorf("after the panic the thread has groups %v (%v)", g, err)
	}
}

// TestCache: a uid's Cred comes from the databases, and the process's
// own identity needs no switch.
func TestCache(t *testing.T) {
	cs := NewCache(65534)
	if cs.EUID() != uint32(os.Geteuid()) {
		t.Errorf("EUID %d", cs.EUID())
	}
	own := cs.Of(uint32(os.Geteuid()))
	if !own.Self() || own.ForLookup() == nil || own.ForLookup().keepCaps != true {
		t.Errorf("own Cred %+v", own)
	}
	if RunAs(own, func() {}) != nil {
		t.Error("RunAs as oneself failed")
	}
	if cs.Of(4000000) != cs.Of(4000000) {
		t.Error("Of does not cache")
	}
}
