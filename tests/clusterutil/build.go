package clusterutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildDir string // set by Main
	race     = build{race: raceEnabled}
	plain    = build{}
)

// build is one mfs binary, built at most once per test binary.
type build struct {
	race bool
	once sync.Once
	path string
	err  error
}

// Main runs the tests of a package that uses clusterutil and removes the
// mfs binary built for them. Call it from TestMain.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mfs-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterutil:", err)
		return 1
	}
	buildDir = dir
	defer os.RemoveAll(dir)
	return m.Run()
}

// Binary returns the path of the mfs binary: $MFS_BIN if set, otherwise
// one built on first use (with -race when the tests run with -race).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MFS_BIN"); p != "" {
		return p
	}
	return race.get(t)
}

// PlainBinary returns an mfs binary built without the race detector, for
// tests that measure the process itself (memory, speed), which the race
// detector's shadow memory and slowdown would distort.
func PlainBinary(t testing.TB) string {
	t.Helper()
	if !raceEnabled {
		return Binary(t)
	}
	return plain.get(t)
}

func (b *build) get(t testing.TB) string {
	t.Helper()
	if buildDir == "" {
		t.Fatal("clusterutil: the package's TestMain must call clusterutil.Main")
	}
	b.once.Do(func() {
		name := "mfs"
		args := []string{"build"}
		if b.race {
			name = "mfs-race"
			args = append(args, "-race")
		}
		b.path = filepath.Join(buildDir, name)
		args = append(args, "-o", b.path, "mfs/cmd/mfs")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
