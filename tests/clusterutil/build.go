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
	buildDir  string // set by Main
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

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
	if buildDir == "" {
		t.Fatal("clusterutil: the package's TestMain must call clusterutil.Main")
	}
	buildOnce.Do(func() {
		binPath = filepath.Join(buildDir, "mfs")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "mfs/cmd/mfs")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}
