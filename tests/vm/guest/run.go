//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// runChecks are `mfs run` (issue 13) against the 3-node cluster of
// nsChecks: /bin/mfs mounts node 1's namespace on /mfs in a mount
// namespace of its own, over TCP to mfs.runhost. QEMU's guestfwd carries
// one guest connection at a time per port, so each mfs run of the suite
// has a port of its own: mfs.runport, mfs.runport+1, … (runPort). The
// phase's own mount (home=2) makes the scratch directory, on node 1.
var runChecks = []check{
	{name: "side-by-side", fn: chkRunSideBySide, noTmpfs: true, noScratch: true},
	{name: "nested-inherits", fn: chkRunNested, noTmpfs: true, noScratch: true},
	{name: "user", fn: chkRunUser, noTmpfs: true},
	{name: "exit-statuses", fn: chkRunStatuses, noTmpfs: true, noScratch: true},
}

// The guestfwd ports of the run checks, offsets from mfs.runport.
const (
	runPortA = iota
	runPortB
	runPortNestOuter
	runPortNestInner
	runPortUser
	runPortNotFound
	runPortCannotRun
	runPortNoNode
	runPorts // how many
)

// runAddr is the --addr of the mfs run using port offset i.
func runAddr(e *env, i int) string {
	base, err := strconv.Atoi(e.args["runport"])
	ok(err, "mfs.runport %q", e.args["runport"])
	return fmt.Sprintf("%s:%d", e.args["runhost"], base+i)
}

// mfsRun starts /bin/mfs run with args; its stderr goes to the returned
// buffer.
func mfsRun(ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, "/bin/mfs", append([]string{"run"}, args...)...)
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// runStatus is the exit status of a finished command (-1 when it did not
// start or was killed).
func runStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// noMfsMount fails if the guest's initial mount namespace (this process's)
// has a mount on /mfs.
func noMfsMount(when string) {
	b := readFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == "/mfs" {
			fail("%s: the guest's initial namespace has a mount on /mfs: %s", when, l)
		}
	}
}

// waitFile waits for path to exist, or fails after d.
func waitFile(path string, d time.Duration, what string) {
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			fail("%s: %s did not appear within %v", what, path, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runTreeScript is CMD of one tree of chkRunSideBySide: record the tree's
// view and a child's, say ready, wait for the go-ahead, then (tree A)
// select node 1 or (tree B) wait until A has, and record ctl again.
const runTreeScript = `d=$1; me=$2
cat /mfs/ctl > $d/$me.ctl0
ls /mfs/home > $d/$me.home
ls /mfs/selected > $d/$me.selected
sh -c 'cat /mfs/ctl /mfs/home/node-*.txt /mfs/selected/node-*.txt' > $d/$me.child
touch $d/$me.ready
while [ ! -e $d/go ]; do sleep 0.05; done
if [ $me = A ]; then
	echo select 1 > /mfs/ctl || exit 99
	cat /mfs/ctl > $d/$me.ctl1
	ls /mfs/selected > $d/$me.selected1
	touch $d/A.selected
	exit 7
fi
while [ ! -e $d/A.selected ]; do sleep 0.05; done
cat /mfs/ctl > $d/$me.ctl1
ls /mfs/selected > $d/$me.selected1
`

// chkRunSideBySide: two trees, A with home 2 and selected 3 and B with
// home 3 and selected 2, alive at the same moment, see different files
// under /mfs/home and /mfs/selected; a child of CMD sees its tree's; a
// select in A leaves B's selection alone; the guest's own namespace never
// has /mfs; A's status 7 comes back.
func chkRunSideBySide(e *env) {
	d := "/tmp/run-" + e.phase.name
	ok(os.MkdirAll(d, 0o755), "mkdir %s", d)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	a, aout := mfsRun(ctx, "--addr", runAddr(e, runPortA), "--home", "2", "--select", "3", "--", "sh", "-c", runTreeScript, "sh", d, "A")
	b, bout := mfsRun(ctx, "--addr", runAddr(e, runPortB), "--home", "3", "--select", "2", "--", "sh", "-c", runTreeScript, "sh", d, "B")
	ok(a.Start(), "start tree A")
	ok(b.Start(), "start tree B")
	aerr, berr := make(chan error, 1), make(chan error, 1)
	go func() { aerr <- a.Wait() }()
	go func() { berr <- b.Wait() }()
	defer func() {
		os.WriteFile(d+"/go", nil, 0o644)
		cancel()
	}()
	for _, me := range []string{"A", "B"} {
		deadline := time.Now().Add(60 * time.Second)
		for {
			if _, err := os.Stat(d + "/" + me + ".ready"); err == nil {
				break
			}
			select {
			case err := <-aerr:
				fail("tree A ended before both were ready (status %d): %s", runStatus(err), aout)
			case err := <-berr:
				fail("tree B ended before both were ready (status %d): %s", runStatus(err), bout)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				fail("tree %s not ready after 60 s", me)
			}
		}
	}
	// Both trees are alive and mounted now.
	noMfsMount("while both trees run")
	wantContent(d+"/A.ctl0", "here 1 home 2 selected 3\n")
	wantContent(d+"/B.ctl0", "here 1 home 3 selected 2\n")
	wantHas(d+"/A.home", "node-2.txt", "node-3.txt")
	wantHas(d+"/A.selected", "node-3.txt", "node-2.txt")
	wantHas(d+"/B.home", "node-3.txt", "node-2.txt")
	wantHas(d+"/B.selected", "node-2.txt", "node-3.txt")
	wantContent(d+"/A.child", "here 1 home 2 selected 3\nnode 2\nnode 3\n")
	wantContent(d+"/B.child", "here 1 home 3 selected 2\nnode 3\nnode 2\n")
	ok(os.WriteFile(d+"/go", nil, 0o644), "go-ahead")
	eq(runStatus(<-aerr), 7, "tree A's status (sh exit 7): %s", aout)
	eq(runStatus(<-berr), 0, "tree B's status: %s", bout)
	wantContent(d+"/A.ctl1", "here 1 home 2 selected 1\n")
	wantHas(d+"/A.selected1", "node-1.txt", "node-3.txt")
	wantContent(d+"/B.ctl1", "here 1 home 3 selected 2\n")
	wantHas(d+"/B.selected1", "node-2.txt", "node-1.txt")
	noMfsMount("after both trees ended")
}

// wantHas fails unless the listing in path names has and not hasNot.
func wantHas(path, has, hasNot string) {
	names := strings.Fields(string(readFile(path)))
	found := map[string]bool{}
	for _, n := range names {
		found[n] = true
	}
	if !found[has] || found[hasNot] {
		fail("%s lists %q: want %s and not %s", path, names, has, hasNot)
	}
}

// chkRunNested: an mfs run inside a tree, without --home and --select,
// inherits the tree's context (read from /mfs/ctl before it mounts its own).
func chkRunNested(e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	inner := "/bin/mfs run --addr " + runAddr(e, runPortNestInner) + " -- sh -c 'cat /mfs/ctl; ls /mfs/selected'"
	cmd, out := mfsRun(ctx, "--addr", runAddr(e, runPortNestOuter), "--home", "3", "--select", "2", "--", "sh", "-c", inner)
	err := cmd.Run()
	eq(runStatus(err), 0, "nested mfs run status: %s", out)
	eq(out.String(), "here 1 home 3 selected 2\nnode-2.txt\n", "nested mfs run's view")
	noMfsMount("after the nested runs")
}

// chkRunUser: --user 1000 (a uid without a passwd entry) runs CMD as uid
// and gid 1000, and a file it creates is uid 1000's on the host.
func chkRunUser(e *env) {
	ok(os.Chmod(e.dir, 0o777), "chmod 0777 %s", e.dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, out := mfsRun(ctx, "--addr", runAddr(e, runPortUser), "--user", "1000", "--",
		"sh", "-c", "id -u; id -g; echo by-user > /mfs/"+e.rel+"/by-user")
	err := cmd.Run()
	eq(runStatus(err), 0, "mfs run --user 1000 status: %s", out)
	eq(out.String(), "1000\n1000\n", "id -u; id -g under --user 1000")
	st, err := e.host.Stat(e.h("by-user"))
	ok(err, "host stat by-user")
	eq(st.UID, uint32(1000), "host uid of a file made under --user 1000")
	eq(st.GID, uint32(1000), "host gid of a file made under --user 1000")
	wantHostContent(e, "by-user", "by-user\n")
}

// chkRunStatuses: as env(1), 127 for a CMD not found, 126 for one that
// cannot be run, 125 for mfs run's own failures (a node that is not
// there, no node socket, a usage error), each with one "mfs run:" line.
func chkRunStatuses(e *env) {
	tests := []struct {
		args   []string
		status int
		msg    string
	}{
		{[]string{"--addr", runAddr(e, runPortNotFound), "--", "no-such-command"}, 127, "no-such-command"},
		{[]string{"--addr", runAddr(e, runPortCannotRun), "--", "/tmp"}, 126, "/tmp"},
		{[]string{"--addr", runAddr(e, runPortNoNode), "--select", "9", "--", "true"}, 125, "mount"},
		{[]string{"--addr", "unix:/run/no-such.sock", "--", "true"}, 125, "no node socket"},
		{[]string{"--home", "x", "--", "true"}, 125, "--home"},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd, out := mfsRun(ctx, tt.args...)
		err := cmd.Run()
		cancel()
		s := out.String()
		if runStatus(err) != tt.status || !strings.HasPrefix(s, "mfs run: ") || strings.Count(s, "\n") != 1 || !strings.Contains(s, tt.msg) {
			fail("mfs run %q: status %d, output %q; want %d and one mfs run: line naming %s", tt.args, runStatus(err), s, tt.status, tt.msg)
		}
	}
	noMfsMount("after the failed runs")
}
