package srv9p

import (
	"os"
	"path/filepath"
	"testing"

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
	addr := serve(t, "tcp", a)
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
