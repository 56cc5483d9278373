package export

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"mfs/srv9p/srv9ptest"

	"github.com/hugelgupf/p9/p9"
)

// TestFidsFollowInodes checks what descriptor-based fids give over
// path-based ones (diod's weak spots): an open file unlinked by another
// client can still be read and stat'ed, and fids below a renamed directory
// still work.
func TestFidsFollowInodes(t *testing.T) {
	a, dir := newExport(t)
	if err := srv9ptest.Build("d d", "f d/f content", "f gone bye")(dir); err != nil {
		t.Fatal(err)
	}
	addr := srv9ptest.Serve(t, "tcp", a)
	_, root := attachRemote(t, addr)
	_, other := attachRemote(t, addr)

	t.Run("open-unlinked", func(t *testing.T) {
		f, err := srv9ptest.Walk(root, "gone")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, _, err := f.Open(p9.ReadOnly); err != nil {
			t.Fatal(err)
		}
		if err := other.UnlinkAt("gone", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
			t.Fatalf("file still there: %v", err)
		}
		b, err := srv9ptest.ReadAll(f)
		if err != nil || string(b) != "bye" {
			t.Fatalf("read after unlink: %q, %v", b, err)
		}
		_, _, attr, err := f.GetAttr(p9.AttrMaskAll)
		if err != nil || attr.NLink != 0 || attr.Size != 3 {
			t.Fatalf("getattr after unlink: %v, %v", attr, err)
		}
	})
	t.Run("renamed-parent", func(t *testing.T) {
		f, err := srv9ptest.Walk(root, "d/f")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := other.RenameAt("d", other, "e"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.Open(p9.ReadWrite); err != nil {
			t.Fatalf("open below a renamed directory: %v", err)
		}
		if _, err := f.WriteAt([]byte("C"), 0); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "e", "f")); string(b) != "Content" {
			t.Fatalf("e/f holds %q", b)
		}
	})
}

// TestNoDescriptorLeak runs many operations over a connection, closes it,
// and checks that the process's descriptor count comes back down.
func TestNoDescriptorLeak(t *testing.T) {
	a, dir := newExport(t)
	if err := srv9ptest.Build("d d", "f d/f data")(dir); err != nil {
		t.Fatal(err)
	}
	a, pendingWaits := srv9ptest.LockWaits(a)
	addr := srv9ptest.Serve(t, "tcp", a)
	before := fdCount(t)
	c, root := attachRemote(t, addr)
	r := dialRaw(t, addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		f, err := srv9ptest.Walk(root, "d/f")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.Open(p9.ReadOnly); err != nil {
			t.Fatal(err)
		}
		srv9ptest.ReadAll(f)
		f.Close()
		d, _ := srv9ptest.Walk(root, "d")
		nf, err := srv9ptest.Create(d, "n", p9.ReadWrite, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		nf.Close()
		d.UnlinkAt("n", 0)
		srv9ptest.ReadDir(d, 4096)
		d.Close()
		if err := r.Walk(1, 2, "d", "f"); err != nil {
			t.Fatal(err)
		}
		r.GetXattr(2, 3, "user.none")
		r.GetXattr(2, 3, "")
		r.Lopen(2, rdwr)
		r.Lock(2, wrlck, 0, 0, 0)
		r.GetLock(2, wrlck, 0, 0, "x")
		r.Lock(2, wrlck, lockFlagBlock, 0, 0) // granted at once: own lock
		r.Setattr(2, 0x1, 04644, 0)
		if err := r.Clunk(2); err != nil {
			t.Fatalf("round %d: clunk: %v", i, err)
		}
	}
	c.Close()
	r.Conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for fdCount(t) > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors before, %d after", before, fdCount(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := pendingWaits(); n != 0 {
		t.Errorf("%d lock waits left", n)
	}
}

// TestFailedXattrwalkFreesClone checks that a failed Txattrwalk leaves no
// fid behind, so distinct new fids do not pile up descriptors.
func TestFailedXattrwalkFreesClone(t *testing.T) {
	r, _ := rawAtFile(t)
	before := fdCount(t)
	for i := range 50 {
		if _, err := r.GetXattr(2, uint32(100+i), "user.missing"); err == nil {
			t.Fatal("Txattrwalk of a missing attribute succeeded")
		}
	}
	if after := fdCount(t); after > before+5 {
		t.Fatalf("%d descriptors before 50 failed Txattrwalks, %d after", before, after)
	}
	// The fids are free for the client to use again.
	if err := r.Walk(1, 100, "f"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.GetXattr(100, 101, ""); err != nil || len(got) != 0 {
		t.Fatalf("list on a reused fid: %q, %v", got, err)
	}
}
