package srv9ptest

import (
	"testing"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// Entry is one answer of srv9p.EntryStater's StatEntries: S in
// CheckStatEntries is srv9p.EntryStat, which this package cannot name
// (srv9p's own tests import it).
type Entry = struct {
	QID    p9.QID
	Attr   p9.Attr
	Target string
	Err    error
}

// EntryNames are the names CheckStatEntries asks a Plan9Tree directory
// for: every kind of entry, missing and malformed names, and the names
// that are no entry's.
var EntryNames = []string{"hello.txt", "usr", "bin", "abs", "fifo", "missing", "a/b", "", ".", ".."}

// CheckStatEntries wants dir's StatEntries, asked once for EntryNames and
// extra (dir is a Plan9Tree directory), to answer for every name what
// dir.WalkGetAttr of that name answers: the same error, or the same QID,
// attributes and symlink target; and EINVAL for "." and "..".
func CheckStatEntries[S ~Entry](t *testing.T, dir p9.File, extra ...string) {
	t.Helper()
	es, ok := dir.(interface{ StatEntries([]string) []S })
	if !ok {
		t.Fatalf("%T has no StatEntries", dir)
	}
	names := append(append([]string(nil), EntryNames...), extra...)
	got := es.StatEntries(names)
	if len(got) != len(names) {
		t.Fatalf("StatEntries of %d names: %d answers", len(names), len(got))
	}
	for i, name := range names {
		e := Entry(got[i])
		if name == "." || name == ".." {
			if linux.ExtractErrno(e.Err) != linux.EINVAL {
				t.Errorf("StatEntries(%q): %v, want EINVAL", name, e.Err)
			}
			continue
		}
		wq, nf, _, wattr, werr := dir.WalkGetAttr([]string{name})
		if (e.Err == nil) != (werr == nil) || (e.Err != nil && linux.ExtractErrno(e.Err) != linux.ExtractErrno(werr)) {
			t.Errorf("%q: StatEntries error %v, WalkGetAttr error %v", name, e.Err, werr)
			if werr == nil {
				nf.Close()
			}
			continue
		}
		if e.Err != nil {
			continue
		}
		wantTarget := ""
		if wattr.Mode.IsSymlink() {
			wantTarget, _ = nf.Readlink()
		}
		nf.Close()
		if wattr.Mode.IsSymlink() {
			// Reading the link after the stat moved its atime.
			e.Attr.ATimeSeconds, e.Attr.ATimeNanoSeconds = wattr.ATimeSeconds, wattr.ATimeNanoSeconds
		}
		if len(wq) != 1 || e.QID != wq[0] || e.Attr != wattr || e.Target != wantTarget {
			t.Errorf("%q: StatEntries = %v %+v %q\nWalkGetAttr = %v %+v %q", name, e.QID, e.Attr, e.Target, wq, wattr, wantTarget)
		}
	}
}
