package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// runAs runs the mfs binary with args as uid (root when 0) and returns its
// exit status and stderr.
func runAs(t *testing.T, uid uint32, args ...string) (int, string) {
	t.Helper()
	bin := clusterutil.Binary(t)
	if uid != 0 {
		bin = clusterutil.WorldBinary(t)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(clusterutil.StartTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("mfs %v hangs", args)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// host9p reports whether this kernel lists 9p in /proc/filesystems.
func host9p(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "9p" {
			return true
		}
	}
	return false
}

// TestRunNotRoot: mfs run started by an ordinary user fails with one line
// saying it needs root, and status 125, before it mounts or creates
// anything.
func TestRunNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the binary as another user")
	}
	mnt := filepath.Join(t.TempDir(), "mfs")
	status, stderr := runAs(t, 1000, "run", "--mnt", mnt, "--", "true")
	want := "mfs run: needs root (CAP_SYS_ADMIN) to mount, as MOSIX's mosrun did\n"
	if status != 125 || stderr != want {
		t.Errorf("mfs run as uid 1000: status %d, stderr %q; want 125, %q", status, stderr, want)
	}
	if _, err := os.Stat(mnt); err == nil {
		t.Errorf("mfs run as uid 1000 created %s", mnt)
	}
}

// TestRunNo9p: as root on a kernel without the 9p file system, mfs run
// fails with one line naming modprobe 9p, and status 125.
func TestRunNo9p(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if host9p(t) {
		t.Skip("this kernel has 9p")
	}
	status, stderr := runAs(t, 0, "run", "--mnt", filepath.Join(t.TempDir(), "mfs"), "--", "true")
	if status != 125 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "mfs run: ") || !strings.Contains(stderr, "modprobe 9p") {
		t.Errorf("mfs run without 9p: status %d, stderr %q; want 125 and one line naming modprobe 9p", status, stderr)
	}
}

// TestRunUsage: command-line mistakes are mfs run's own failures, status
// 125 (not 2 as in the other commands), one line each.
func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "no command to run"},
		{[]string{"run", "--"}, "no command to run"},
		{[]string{"run", "--home", "x", "--", "true"}, `--home "x"`},
		{[]string{"run", "--home", "02", "--", "true"}, `--home "02"`},
		{[]string{"run", "--select", "0", "--", "true"}, `--select "0"`},
		{[]string{"run", "--mnt", "rel", "--", "true"}, "absolute"},
		{[]string{"run", "--bogus", "--", "true"}, "-bogus"},
		{[]string{"run-inner"}, "step of mfs run"},
	}
	for _, tt := range tests {
		status, stderr := runAs(t, 0, tt.args...)
		if status != 125 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "mfs run: ") || !strings.Contains(stderr, tt.want) {
			t.Errorf("mfs %q: status %d, stderr %q; want 125 and one line with %q", tt.args, status, stderr, tt.want)
		}
	}
}
