//go:build linux

package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// nsChecks is part 2: the namespace of a 3-node cluster, mounted through
// node 1 with aname=home=2. Node N's export holds node-N.txt ("node N\n");
// the host sees node N's files as "N/…" (oracle root "ns"). The scratch
// directory is on node 1.
var nsChecks = []check{
	{name: "root-listing", fn: chkNSRoot, noScratch: true},
	{name: "home-is-node-2", fn: chkNSHome, noScratch: true},
	{name: "here-dotdot-pwd", fn: chkNSDotDot, noScratch: true},
	{name: "distinct-node-inodes", fn: chkNSInodes, noScratch: true},
	{name: "find-terminates", fn: chkNSFind, noScratch: true},
	{name: "write-node3-host-sees", fn: chkNSWrite3},
	{name: "mv-across-nodes-exdev", fn: chkNSMove},
	{name: "ctl-context", fn: chkNSCtl, noScratch: true},
	{name: "nodes-file", fn: chkNSNodes, noScratch: true},
	{name: "select-via-ctl", fn: chkNSSelect, noScratch: true},
}

func chkNSRoot(e *env) {
	names := readdirNames(e.root)
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, want := range []string{"1", "2", "3", "home", "here", "selected"} {
		if !have[want] {
			fail("root lists %q, lacks %s", joinSorted(names), want)
		}
	}
	for _, d := range []string{"1", "2", "3", "home", "here", "selected"} {
		st := lstat(e.root + "/" + d)
		eq(st.Mode&unix.S_IFMT, uint32(unix.S_IFDIR), "type of /%s", d)
	}
	out, err := exec.Command("ls", e.root).CombinedOutput()
	ok(err, "ls %s: %s", e.root, out)
	f := strings.Fields(string(out))
	for _, want := range []string{"1", "2", "3", "home", "here", "selected"} {
		if !strings.Contains(" "+strings.Join(f, " ")+" ", " "+want+" ") {
			fail("ls %s prints %q, lacks %s", e.root, out, want)
		}
	}
}

func chkNSHome(e *env) {
	wantContent(e.root+"/home/node-2.txt", "node 2\n")
	var st unix.Stat_t
	wantErr(unix.Lstat(e.root+"/home/node-1.txt", &st), unix.ENOENT, "home/node-1.txt (home is node 2)")
	wantContent(e.root+"/here/node-1.txt", "node 1\n")
	wantContent(e.root+"/selected/node-2.txt", "node 2\n")
	for _, n := range []string{"1", "2", "3"} {
		wantContent(e.root+"/"+n+"/node-"+n+".txt", "node "+n+"\n")
	}
	// A write through home shows under /2.
	writeFile(e.root+"/home/"+e.phase.name+"-via-home", []byte("written via home"), 0o644)
	wantContent(e.root+"/2/"+e.phase.name+"-via-home", "written via home")
}

func chkNSDotDot(e *env) {
	for _, d := range []string{"here", "home", "selected", "2"} {
		ok(unix.Chdir(e.root+"/"+d+"/.."), "cd %s/%s/..", e.root, d)
		wd, err := unix.Getwd()
		ok(err, "getcwd in %s/..", d)
		eq(wd, e.root, "getcwd after cd %s/..", d)
	}
	ok(unix.Chdir("/"), "cd /")
	out, err := exec.Command("sh", "-c", "cd "+e.root+"/here/.. && pwd && pwd -P").CombinedOutput()
	ok(err, "sh cd/pwd: %s", out)
	eq(strings.TrimSpace(string(out)), e.root+"\n"+e.root, "pwd and pwd -P after cd here/..")
	root := lstat(e.root)
	eq(lstat(e.root+"/here/..").Ino, root.Ino, "inode of here/.. vs the root")
}

func chkNSInodes(e *env) {
	seen := map[uint64]string{}
	for _, d := range []string{"", "/1", "/2", "/3"} {
		ino := lstat(e.root + d).Ino
		if o, dup := seen[ino]; dup {
			fail("%s and %s share inode number %d", e.root+o, e.root+d, ino)
		}
		seen[ino] = d
	}
	seen = map[uint64]string{}
	for _, n := range []string{"1", "2", "3"} {
		p := "/" + n + "/node-" + n + ".txt"
		ino := lstat(e.root + p).Ino
		if o, dup := seen[ino]; dup {
			fail("%s and %s share inode number %d", o, p, ino)
		}
		seen[ino] = p
	}
}

// chkNSFind: find over one node and over the whole namespace ends, without
// "loop" complaints (find trusts inode numbers to detect cycles).
func chkNSFind(e *env) {
	for _, args := range [][]string{{e.root + "/1", "-xdev"}, {e.root}} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "find", args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			fail("find %v did not end within 60 s", args)
		}
		ok(err, "find %v: %s", args, stderr.String())
		if s := stderr.String(); s != "" {
			fail("find %v complains: %s", args, s)
		}
		if !strings.Contains(stdout.String(), "node-1.txt") {
			fail("find %v does not list node-1.txt", args)
		}
	}
}

// chkNSWrite3: a write into /3 is on node 3's disk at once, and the
// host's change is read back at once (cache=none: no stale cache).
func chkNSWrite3(e *env) {
	name := "3/" + e.phase.name + "-x"
	fd, err := unix.Open(e.root+"/"+name, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, 0o644)
	ok(err, "create %s", name)
	defer unix.Close(fd)
	writeAll(fd, []byte("to node 3"), name)
	got, err := e.host.ReadFile(name)
	ok(err, "host read node 3's %s", name)
	eq(string(got), "to node 3", "node 3's file on the host, before close")
	ok(e.host.WriteFile(name, []byte("changed on node 3")), "host write")
	wantContent(e.root+"/"+name, "changed on node 3")
}

// chkNSMove: rename across nodes is EXDEV, and mv falls back to copying.
func chkNSMove(e *env) {
	src := e.p("mvsrc")
	writeFile(src, []byte("moving house"), 0o644)
	dst := e.root + "/3/" + e.phase.name + "-moved"
	wantErr(unix.Rename(src, dst), unix.EXDEV, "rename from node 1 to node 3")
	wantErr(unix.Link(src, dst), unix.EXDEV, "link from node 1 to node 3")
	out, err := exec.Command("mv", src, dst).CombinedOutput()
	ok(err, "mv: %s", out)
	wantContent(dst, "moving house")
	var st unix.Stat_t
	wantErr(unix.Lstat(src, &st), unix.ENOENT, "source after mv")
	got, err := e.host.ReadFile("3/" + e.phase.name + "-moved")
	ok(err, "host read on node 3")
	eq(string(got), "moving house", "node 3's copy on the host")
	_, err = e.host.Stat(e.h("mvsrc"))
	wantErr(err, unix.ENOENT, "node 1's source on the host after mv")
}

// chkNSCtl: ctl tells this attach's context; selected follows home.
func chkNSCtl(e *env) {
	wantContent(e.root+"/ctl", "here 1 home 2 selected 2\n")
}

// chkNSNodes: the node table, one "ID ADDR STATE MARKS" line per node.
func chkNSNodes(e *env) {
	b := readFile(e.root + "/nodes")
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	eq(len(lines), 3, "lines in nodes (%q)", b)
	wantMarks := map[string]string{"1": "here", "2": "home,selected", "3": "-"}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 4 {
			fail("nodes line %q: want ID ADDR STATE MARKS", l)
		}
		want, known := wantMarks[f[0]]
		if !known {
			fail("nodes line %q: unknown node", l)
		}
		eq(f[2], "alive", "state of node %s", f[0])
		eq(f[3], want, "marks of node %s", f[0])
		delete(wantMarks, f[0])
	}
}

// chkNSSelect: `echo select 3 > ctl` from a shell (open with O_TRUNC, so
// the kernel also sends a Tsetattr of size 0) moves selected to node 3 for
// this attach; select 2 moves it back.
func chkNSSelect(e *env) {
	out, err := exec.Command("sh", "-c", "echo select 3 > "+e.root+"/ctl").CombinedOutput()
	ok(err, "echo select 3 > ctl: %s", out)
	wantContent(e.root+"/ctl", "here 1 home 2 selected 3\n")
	wantContent(e.root+"/selected/node-3.txt", "node 3\n")
	var st unix.Stat_t
	wantErr(unix.Lstat(e.root+"/selected/node-2.txt", &st), unix.ENOENT, "selected/node-2.txt after select 3")
	out, err = exec.Command("sh", "-c", "echo select 2 > "+e.root+"/ctl").CombinedOutput()
	ok(err, "echo select 2 > ctl: %s", out)
	wantContent(e.root+"/selected/node-2.txt", "node 2\n")
	out, err = exec.Command("sh", "-c", "echo select 9 > "+e.root+"/ctl").CombinedOutput()
	if err == nil {
		fail("echo select 9 > ctl (no node 9) succeeded")
	}
	wantContent(e.root+"/ctl", "here 1 home 2 selected 2\n")
}
