package export

import (
	"testing"

	p9test "github.com/hugelgupf/p9/fsimpl/test"
)

// TestAcceptance runs the p9 module's acceptance suite for Attachers on the
// export as it is: Readdir counts entries, as the suite and p9.File say.
func TestAcceptance(t *testing.T) {
	a, _ := newExport(t)
	p9test.TestFile(t, a)
	b, _ := newExport(t)
	p9test.TestReadWriteFS(t, b)
}
