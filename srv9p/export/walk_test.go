package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hugelgupf/p9/p9"
)

// TestCloneWalk: a clone walk (no names) gives a file of the same inode;
// WalkGetAttr also gives its attributes.
func TestCloneWalk(t *testing.T) {
	a, dir := newExport(t)
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o750); err != nil {
		t.Fatal(err)
	}
	root, err := a.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, sub, err := root.Walk([]string{"d"})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for _, tc := range []struct {
		name  string
		from  p9.File
		names []string
	}{
		{"root", root, nil},
		{"dir", sub, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _, wattr, err := tc.from.GetAttr(p9.AttrMaskAll)
			if err != nil {
				t.Fatal(err)
			}
			qids, f, err := tc.from.Walk(tc.names)
			if err != nil {
				t.Fatal(err)
			}
			if len(qids) != len(tc.names) || len(qids) == 1 && qids[0] != want {
				t.Errorf("Walk QIDs %v, want %d of %v", qids, len(tc.names), want)
			}
			if q, _, _, err := f.GetAttr(p9.AttrMaskAll); err != nil || q != want {
				t.Errorf("clone's GetAttr: %v, %v; want %v", q, err, want)
			}
			f.Close()
			qids, f, valid, attr, err := tc.from.WalkGetAttr(tc.names)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if len(qids) != len(tc.names) || !valid.Mode || !valid.INo || attr != wattr {
				t.Errorf("WalkGetAttr: %d QIDs, valid %v, attr %+v; want %+v", len(qids), valid, attr, wattr)
			}
		})
	}
}
