package tests

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// fuseCluster starts two real nodes, node 1 with its namespace mounted
// at the returned directory (which every user can reach).
func fuseCluster(t *testing.T) (mnt string, n1, n2 *clusterutil.Node) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: a FUSE mount without fusermount")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
	base := t.TempDir()
	if err := os.Chmod(filepath.Dir(base), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	mnt = filepath.Join(base, "mfs")
	n1, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 1, Args: []string{"--mount", mnt}})
	if err != nil {
		t.Fatal(err)
	}
	n2, err = clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 2, Join: []string{n1.GossipAddr}})
	if err != nil {
		t.Fatal(err)
	}
	n1.WaitListed(t, 1, 2)
	return mnt, n1, n2
}

// shAs runs a shell script as uid with M set to the mount point and MFS
// to a binary everyone can run.
func shAs(t *testing.T, uid uint32, env []string, script string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestFUSERun: `mfs run` on the node's FUSE mount, as an ordinary user:
// CMD and its children get the context, the caller keeps its own.
func TestFUSERun(t *testing.T) {
	mnt, _, _ := fuseCluster(t)
	env := []string{"M=" + mnt, "MFS=" + clusterutil.WorldBinary(t)}
	out, err := shAs(t, 1000, env, `
		$MFS run --mnt $M --select 2 -- sh -c 'cat $M/selected/node-2.txt; cat $M/ctl | sed "s/pid [0-9]*/pid N/"'
		echo "status $?"
		cat $M/ctl
		$MFS run --mnt $M --home 2 -- cat $M/home/node-2.txt
		$MFS run --mnt $M --select 9 -- true; echo "status $?"
		$MFS run --mnt $M -- /nonexistent; echo "status $?"`)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "node 2\nhere 1 home 1 selected 2 from pid N\nstatus 0\nhere 1 home 1 selected 1 from default\nnode 2\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("got\n%s\nwant it to start with\n%s", out, want)
	}
	rest := strings.TrimPrefix(out, want)
	if !strings.Contains(rest, "select 9: ") || !strings.Contains(rest, "status 125") || !strings.HasSuffix(rest, "status 127\n") {
		t.Errorf("failures: %q (want select 9 refused with 125, a missing command 127)", rest)
	}
}

// TestFUSENodeDown: a node killed gives EHOSTDOWN through the mount, no
// hang; a node coming back is used again.
func TestFUSENodeDown(t *testing.T) {
	mnt, _, n2 := fuseCluster(t)
	p := filepath.Join(mnt, "2", "node-2.txt")
	if b, err := os.ReadFile(p); err != nil || string(b) != "node 2\n" {
		t.Fatalf("read %s: %q, %v", p, b, err)
	}
	n2.Kill(t)
	start := time.Now()
	ok := clusterutil.Poll(3*clusterutil.PeerTimeout, func() bool {
		_, err := os.ReadFile(p)
		return errors.Is(err, syscall.EHOSTDOWN) || errors.Is(err, syscall.ENOENT)
	})
	if !ok {
		_, err := os.ReadFile(p)
		t.Fatalf("after node 2 was killed: %v after %v, want EHOSTDOWN", err, time.Since(start))
	}
	n2.Restart(t)
	if !clusterutil.Poll(60*time.Second, func() bool { b, err := os.ReadFile(p); return err == nil && string(b) == "node 2\n" }) {
		_, err := os.ReadFile(p)
		t.Fatalf("node 2 back: %v", err)
	}
}

// TestFUSEMountLifetime: SIGTERM unmounts; a node killed leaves a dead
// mount that the next start replaces.
func TestFUSEMountLifetime(t *testing.T) {
	mnt, n1, _ := fuseCluster(t)
	n1.Kill(t)
	if _, err := os.Stat(mnt); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("after kill -9: stat %s: %v, want ENOTCONN (a dead mount)", mnt, err)
	}
	n1.Restart(t)
	if b, err := os.ReadFile(filepath.Join(mnt, "1", "node-1.txt")); err != nil || string(b) != "node 1\n" {
		t.Fatalf("restarted node's mount: %q, %v", b, err)
	}
	if !strings.Contains(n1.Log(), "replacing the mount a dead node left") {
		t.Errorf("the restart did not say it replaced the dead mount")
	}
	n1.Stop(t)
	b, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(b), " "+mnt+" ") {
		t.Errorf("still mounted after SIGTERM")
	}
}
