package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// cpStopFiles is the size of the tree TestCpStopsWhenNodeDown copies: a
// few thousand small files, and some symlinks, which count as files.
const (
	cpStopDirs     = 40
	cpStopPerDir   = 100
	cpStopSymlinks = 10
)

// makeSmallTree makes dir with cpStopDirs directories of cpStopPerDir
// small files and cpStopSymlinks symlinks at the top; it returns the
// number of files and symlinks.
func makeSmallTree(t *testing.T, dir string) int {
	t.Helper()
	for d := range cpStopDirs {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range cpStopPerDir {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", f)), []byte("small\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range cpStopSymlinks {
		if err := os.Symlink("d00/f000", filepath.Join(dir, fmt.Sprintf("l%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	return cpStopDirs*cpStopPerDir + cpStopSymlinks
}

// countFiles counts the regular files and symlinks under dir.
func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// cpStopped matches the one line of a copy a down node stopped.
var cpStopped = regexp.MustCompile(`^mfs 9p: cp \S+: host is down; stopped: (\d+) of (\d+) files copied$`)

// TestCpStopsWhenNodeDown: `mfs 9p cp -r` through node 1 stops soon after
// the node at the other end is killed — the destination (a copy up to
// /2) or the source (a copy down from /2) — with one line saying so and
// how many files were copied of how many (symlinks counted: the total is
// what is copied), and exit status 1; not a line per file left.
func TestCpStopsWhenNodeDown(t *testing.T) {
	for _, dir := range []string{"destination", "source"} {
		t.Run(dir, func(t *testing.T) {
			c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
			local := t.TempDir()
			var src, dst, watch string
			var total int
			if dir == "destination" {
				src = filepath.Join(local, "src")
				total = makeSmallTree(t, src)
				dst = ":/2/copy"
				watch = filepath.Join(c.Node(2).Dir, "copy")
			} else {
				total = makeSmallTree(t, filepath.Join(c.Node(2).Dir, "src"))
				src = ":/2/src"
				dst = filepath.Join(local, "copy")
				watch = dst
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, cliBuild(t), "9p", "--addr", c.Node(1).Addr, "cp", "-r", src, dst)
			cmd.Env = cliEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			if !clusterutil.Poll(time.Minute, func() bool { return countFiles(watch) >= 50 }) {
				t.Fatalf("the copy did not start: %d files at %s", countFiles(watch), watch)
			}
			c.Node(2).Kill(t)
			var err error
			select {
			case err = <-exited:
			case <-ctx.Done():
				t.Fatal("cp went on after the node was killed")
			}
			code := cmd.ProcessState.ExitCode()
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if code == 0 {
				t.Skipf("the copy of %d files finished before the kill took effect (%v)", total, err)
			}
			if code != 1 || len(lines) != 1 {
				t.Fatalf("exit %d, %d lines on stderr; want 1 and one line:\n%s", code, len(lines), stderr.String())
			}
			t.Logf("cp -r %s %s, node 2 killed: %s", src, dst, lines[0])
			m := cpStopped.FindStringSubmatch(lines[0])
			if m == nil {
				t.Fatalf("stderr %q, want %s", lines[0], cpStopped)
			}
			copied, _ := strconv.Atoi(m[1])
			planned, _ := strconv.Atoi(m[2])
			if planned != total || copied >= total || copied < 1 {
				t.Errorf("%q: want %d planned and between 1 and %d copied", lines[0], total, total-1)
			}
			if dir == "source" && copied > countFiles(watch) {
				t.Errorf("%d copied, %d files at the destination", copied, countFiles(watch))
			}
		})
	}
}
