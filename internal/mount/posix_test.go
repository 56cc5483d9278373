package mount

import (
	"bufio"
	gocontext "context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// posixSuites are the suites of the VM tests' check table (tests/vm/guest)
// that need no 9P mount of their own: what a process does on a local file
// system, checked errno by errno.
var posixSuites = []string{"export", "mmap", "user", "legacy"}

// TestPOSIX runs the check table the kernel's v9fs mounts are held to in
// QEMU (tests/vm) through the FUSE mount, on node 1's own files (/here)
// and node 2's (/2), as root and as uid 1000. Each TAP line of the guest
// binary ("guest local") is a subtest; a SKIP line skips it with the
// check's reason.
func TestPOSIX(t *testing.T) {
	c := newTestCluster(t)
	guest := buildGuest(t)
	for _, uid := range []uint32{0, 1000} {
		for _, n := range []struct{ name, disk string }{{"here", c.disk[0]}, {"2", c.disk[1]}} {
			t.Run(fmt.Sprintf("uid%d/%s", uid, n.name), func(t *testing.T) {
				scratch := fmt.Sprintf("posix-uid%d", uid)
				hostDir := filepath.Join(n.disk, scratch)
				if err := os.Mkdir(hostDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(hostDir, int(uid), int(uid)); err != nil {
					t.Fatal(err)
				}
				root := filepath.Join(c.dir, n.name, scratch)
				for _, suite := range posixSuites {
					t.Run(suite, func(t *testing.T) { runGuest(t, guest, uid, suite, root, hostDir) })
				}
			})
		}
	}
}

// buildGuest builds the VM tests' guest binary into a directory every
// user can reach.
func buildGuest(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "guest")
	cmd := exec.Command(goTool, "build", "-o", out, "mfs/tests/vm/guest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the guest binary: %v\n%s", err, b)
	}
	return out
}

// runGuest runs one suite with "guest local" as uid and turns each TAP
// line into a subtest as it comes.
func runGuest(t *testing.T, guest string, uid uint32, suite, root, hostDir string) {
	ctx, cancel := gocontext.WithTimeout(gocontext.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, guest, "local", suite, suite, root, hostDir)
	cmd.Dir = "/"
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, checks, last := false, 0, ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "MFS-VM-DONE" {
			done = true
			continue
		}
		if c, found := strings.CutPrefix(line, "MFS-VM-RUN "); found {
			last = c
			continue
		}
		r, isTAP := parseTAP(line)
		if !isTAP {
			if strings.HasPrefix(line, "# ") {
				t.Log(line)
			}
			continue
		}
		checks++
		t.Run(strings.TrimPrefix(r.name, suite+"/"), func(t *testing.T) {
			switch {
			case r.skip != "":
				t.Skip(r.skip)
			case !r.ok:
				t.Error(r.detail)
			}
		})
	}
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("guest local %s: no end within the deadline, in check %s", suite, last)
	}
	if err != nil || !done || checks == 0 {
		t.Fatalf("guest local %s: %v, done %v, %d checks\n%s", suite, err, done, checks, stderr.String())
	}
}

// tapResult is one TAP line of the guest binary.
type tapResult struct {
	name   string
	ok     bool
	skip   string // the reason of a SKIP
	detail string // what failed
}

// parseTAP parses "ok N - NAME", "ok N - NAME # SKIP REASON" and
// "not ok N - NAME: DETAIL".
func parseTAP(line string) (tapResult, bool) {
	var r tapResult
	rest, isOK := strings.CutPrefix(line, "ok ")
	if !isOK {
		var found bool
		if rest, found = strings.CutPrefix(line, "not ok "); !found {
			return r, false
		}
	}
	_, rest, found := strings.Cut(rest, " - ")
	if !found {
		return r, false
	}
	r.ok = isOK
	if isOK {
		r.name, r.skip, _ = strings.Cut(rest, " # SKIP ")
	} else {
		r.name, r.detail, _ = strings.Cut(rest, ": ")
	}
	return r, true
}
