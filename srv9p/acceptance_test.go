package srv9p

import (
	"testing"

	p9test "github.com/hugelgupf/p9/fsimpl/test"
	"github.com/hugelgupf/p9/p9"
)

// entryCountAttacher adapts srv9p to the p9 acceptance suite in one point
// only: the suite calls Readdir(offset, 10) meaning ten entries, as the
// p9.File doc describes count, while the p9 server passes Treaddir's byte
// budget, which is what srv9p implements. The adapter turns an entry count
// into a byte budget that holds that many entries of any name length.
type entryCountAttacher struct{ p9.Attacher }

func (a entryCountAttacher) Attach() (p9.File, error) {
	f, err := a.Attacher.Attach()
	if err != nil {
		return nil, err
	}
	return entryCountFile{f}, nil
}

type entryCountFile struct{ p9.File }

func (f entryCountFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	q, nf, err := f.File.Walk(names)
	if err != nil {
		return nil, nil, err
	}
	return q, entryCountFile{nf}, nil
}

func (f entryCountFile) Readdir(offset uint64, count uint32) (p9.Dirents, error) {
	return f.File.Readdir(offset, count*(direntFixed+255))
}

// TestAcceptance runs the p9 module's acceptance suite for Attachers.
func TestAcceptance(t *testing.T) {
	a, _ := newExport(t)
	p9test.TestFile(t, entryCountAttacher{a})
	b, _ := newExport(t)
	p9test.TestReadWriteFS(t, entryCountAttacher{b})
}
