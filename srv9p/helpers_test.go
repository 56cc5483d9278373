package srv9p_test

import (
	"testing"

	"mfs/srv9p/export"

	"github.com/hugelgupf/p9/p9"
)

// newExport exports a fresh temporary directory.
func newExport(t testing.TB, opts ...export.Option) (p9.Attacher, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := export.New(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

// Lock types and status on the wire.
const (
	rdlck, wrlck, unlck        = 0, 1, 2
	lockOK, lockBlocked        = 0, 1
	lockFlagBlock              = 1
	rdwr                uint32 = 2
)
