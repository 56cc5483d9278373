package tests

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mfs/tests/clusterutil"
	"mfs/tests/diodtest"
)

// The times cpMakeTree gives every entry, for -p to keep.
var (
	cpATime = unix.NsecToTimespec(time.Date(2020, 1, 2, 3, 4, 5, 500000000, time.UTC).UnixNano())
	cpMTime = unix.NsecToTimespec(time.Date(2021, 3, 4, 5, 6, 7, 123456789, time.UTC).UnixNano())
)

// cpEntry is one entry of the tree cpMakeTree makes.
type cpEntry struct {
	name   string
	mode   uint32 // permissions; the type is in the name ("/" ends a directory) or target
	size   int    // of a file: bytes of a pattern seeded by the name
	target string // of a symlink
}

// cpTree is the tree of the cp and mv tests: modes of every kind (an
// executable, setuid, setgid, sticky, a read-only directory holding a read-
// only file), a file of several chunks at msize 16384, an empty file,
// symlinks relative, absolute and dangling, and a deep path.
var cpTree = []cpEntry{
	{name: "a.txt", mode: 0o644, size: 6},
	{name: "empty", mode: 0o644},
	{name: "secret", mode: 0o600, size: 100},
	{name: "big.bin", mode: 0o640, size: 300_000},
	{name: "bin/", mode: 0o755},
	{name: "bin/run.sh", mode: 0o755, size: 40},
	{name: "bin/suid", mode: 0o4755, size: 1000},
	{name: "bin/sgid", mode: 0o2711, size: 10},
	{name: "ro/", mode: 0o555},
	{name: "ro/inside", mode: 0o444, size: 20},
	{name: "tmp/", mode: 0o1777},
	{name: "deep/", mode: 0o750},
	{name: "deep/a/", mode: 0o700},
	{name: "deep/a/b/", mode: 0o711},
	{name: "deep/a/b/c.txt", mode: 0o664, size: 5000},
	{name: "links/", mode: 0o755},
	{name: "links/rel", target: "../a.txt"},
	{name: "links/abs", target: "/etc/hostname"},
	{name: "links/dangling", target: "nowhere"},
}

// cpOwner is the owner cpMakeTree gives name when run as root.
func cpOwner(name string) (uid, gid int) {
	h := sha256.Sum256([]byte(name))
	return 1000 + int(h[0]), 2000 + int(h[1])
}

// cpMakeTree makes cpTree under dir (which must not exist): contents
// seeded by name, so two trees made so are alike; the times cpATime and
// cpMTime; as root, owners from cpOwner.
func cpMakeTree(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(dir, 0o755))
	for _, e := range cpTree {
		p := filepath.Join(dir, e.name)
		switch {
		case strings.HasSuffix(e.name, "/"):
			must(os.Mkdir(p, 0o700))
		case e.target != "":
			must(os.Symlink(e.target, p))
		default:
			must(os.WriteFile(p, cpContent(e.name, e.size), 0o600))
		}
	}
	// Children before parents: a read-only directory last, and setting
	// anything in a directory would change its times.
	for i := len(cpTree) - 1; i >= -1; i-- {
		p, e := dir, cpEntry{mode: 0o755}
		if i >= 0 {
			e = cpTree[i]
			p = filepath.Join(dir, e.name)
		}
		if os.Geteuid() == 0 && i >= 0 {
			uid, gid := cpOwner(e.name)
			must(os.Lchown(p, uid, gid))
		}
		if e.target == "" {
			must(unix.Chmod(p, e.mode)) // after chown, which clears setuid
		}
		must(unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{cpATime, cpMTime}, unix.AT_SYMLINK_NOFOLLOW))
	}
}

// cpContent is size bytes seeded by name.
func cpContent(name string, size int) []byte {
	h := sha256.Sum256([]byte(name))
	r := rand.New(rand.NewChaCha8(h))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// cpCheck says what cpCheckTree compares beyond contents, types and modes.
type cpCheck struct {
	owners bool // owner and group as in the source
	ours   bool // owner and group ours (a copy without -p)
	times  bool // atime and mtime cpATime and cpMTime (symlinks' too)
}

// cpCheckTree compares the tree got on disk with the tree want: the same
// names, types, permission bits (setuid, setgid and sticky too), contents
// (by checksum) and symlink targets, and what chk asks. Every entry is
// looked at before its directory is read, which would change its atime;
// with chk.times, got's times are as they were when it returns.
func cpCheckTree(t *testing.T, want, got string, chk cpCheck) {
	t.Helper()
	var names []string
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		names = append(names, rel)
		rel = filepath.Join(filepath.Base(got), rel) // for the messages
		var ws, gs unix.Stat_t
		if err := unix.Lstat(p, &ws); err != nil {
			return err
		}
		q := filepath.Join(got, names[len(names)-1])
		if err := unix.Lstat(q, &gs); err != nil {
			t.Errorf("%s: %v", rel, err)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if ws.Mode != gs.Mode {
			t.Errorf("%s: mode %#o, want %#o", rel, gs.Mode, ws.Mode)
		}
		switch {
		case chk.owners && (ws.Uid != gs.Uid || ws.Gid != gs.Gid):
			t.Errorf("%s: owner %d:%d, want %d:%d", rel, gs.Uid, gs.Gid, ws.Uid, ws.Gid)
		case chk.ours && (gs.Uid != uint32(os.Getuid()) || gs.Gid != uint32(os.Getgid())):
			t.Errorf("%s: owner %d:%d, want ours %d:%d", rel, gs.Uid, gs.Gid, os.Getuid(), os.Getgid())
		}
		if chk.times && (gs.Atim != cpATime || gs.Mtim != cpMTime) {
			t.Errorf("%s: atime %v mtime %v, want %v %v", rel,
				time.Unix(gs.Atim.Unix()), time.Unix(gs.Mtim.Unix()), time.Unix(cpATime.Unix()), time.Unix(cpMTime.Unix()))
		}
		switch ws.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			if a, b := cpSum(t, p), cpSum(t, q); a != b {
				t.Errorf("%s: contents differ (%d bytes, want %d)", rel, gs.Size, ws.Size)
			}
		case unix.S_IFLNK:
			a, _ := os.Readlink(p)
			b, _ := os.Readlink(q)
			if a != b {
				t.Errorf("%s: symlink to %q, want %q", rel, b, a)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing more in got than in want.
	n := 0
	filepath.WalkDir(got, func(string, fs.DirEntry, error) error { n++; return nil })
	if n != len(names) {
		t.Errorf("%s has %d entries, %s %d", got, n, want, len(names))
	}
	if chk.times {
		// Reading got changed atimes: put them back for the next copy.
		for _, rel := range names {
			unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(got, rel), []unix.Timespec{cpATime, cpMTime}, unix.AT_SYMLINK_NOFOLLOW)
		}
	}
}

// cpSum is the SHA-256 of the file p.
func cpSum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// cpRun runs `mfs 9p --addr addr args…` and fails unless it exits 0 with
// nothing on stdout or stderr (no bar: stderr is not a terminal).
func cpRun(t *testing.T, addr string, args ...string) {
	t.Helper()
	r := cliRun(t, nil, nil, append([]string{"9p", "--addr", addr}, args...)...)
	if r.code != 0 || r.stderr != "" || r.stdout != "" {
		t.Fatalf("mfs 9p %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
}

// TestCpRoundTrip copies a tree up to an export and down again, with and
// without -p, at an msize that splits the large file into concurrent
// chunks, and compares each copy with the source on disk: contents by
// checksum, every mode bit (setuid, sticky, a read-only directory), symlink
// targets; with -p owners (as root) and times; without, our owner, and modes
// whatever the umask.
func TestCpRoundTrip(t *testing.T) {
	base := t.TempDir()
	src, exp := filepath.Join(base, "src"), filepath.Join(base, "export")
	cpMakeTree(t, src)
	if err := os.Mkdir(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := cliStartExport(t, exp)
	root := os.Geteuid() == 0

	cpRun(t, addr, "--msize", "16384", "cp", "-rp", src, ":/up")
	cpCheckTree(t, src, filepath.Join(exp, "up"), cpCheck{owners: root, times: true})
	down := filepath.Join(base, "down")
	cpRun(t, addr, "--msize", "16384", "cp", "-r", "-p", ":/up", down)
	cpCheckTree(t, src, down, cpCheck{owners: root, times: true})

	// Without -p: modes still kept, whatever the umask; owner ours.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	cpRun(t, addr, "cp", "-r", src, ":/plain")
	cpCheckTree(t, src, filepath.Join(exp, "plain"), cpCheck{ours: true})
	cpRun(t, addr, "cp", "-R", ":/plain", filepath.Join(base, "plain"))
	cpCheckTree(t, src, filepath.Join(base, "plain"), cpCheck{ours: true})
	syscall.Umask(old)

	// Into an existing directory, several sources at once; an existing
	// file is overwritten.
	if err := os.WriteFile(filepath.Join(exp, "up", "a.txt"), []byte("to be overwritten, longer than the source"), 0o600); err != nil {
		t.Fatal(err)
	}
	into := filepath.Join(base, "into")
	if err := os.Mkdir(into, 0o755); err != nil {
		t.Fatal(err)
	}
	cpRun(t, addr, "cp", filepath.Join(src, "a.txt"), filepath.Join(src, "bin/suid"), ":/up/bin/run.sh", ":/up/")
	cpRun(t, addr, "cp", ":/up/a.txt", ":/up/suid", ":/up/bin/run.sh", into)
	for _, name := range []string{"a.txt", "suid", "run.sh"} {
		var ws, gs unix.Stat_t
		from := filepath.Join(src, name)
		if name != "a.txt" {
			from = filepath.Join(src, "bin", name)
		}
		if err := unix.Stat(from, &ws); err != nil {
			t.Fatal(err)
		}
		if err := unix.Stat(filepath.Join(into, name), &gs); err != nil {
			t.Fatal(err)
		}
		if gs.Mode != ws.Mode || cpSum(t, from) != cpSum(t, filepath.Join(into, name)) {
			t.Errorf("%s: mode %#o, want %#o, or contents differ", name, gs.Mode, ws.Mode)
		}
	}

	// A local symlink on the command line is followed without -r, as
	// cp(1) does; a file to a new name.
	cpRun(t, addr, "cp", filepath.Join(src, "links/rel"), ":/followed")
	if b, err := os.ReadFile(filepath.Join(exp, "followed")); err != nil || !bytes.Equal(b, cpContent("a.txt", 6)) {
		t.Errorf("followed symlink: %q, %v", b, err)
	}
}

// TestCpErrors checks each failure of cp: its lines on stderr (exact, one
// per failure, in order), its exit status, that nothing is on stdout, and
// that the copy went on with the rest.
func TestCpErrors(t *testing.T) {
	base := t.TempDir()
	exp := filepath.Join(base, "export")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(exp, "d/sub"), 0o755))
	must(os.WriteFile(filepath.Join(exp, "f"), []byte("f\n"), 0o644))
	must(os.WriteFile(filepath.Join(exp, "g"), []byte("g\n"), 0o644))
	must(os.WriteFile(filepath.Join(exp, "d/sub/x"), []byte("x\n"), 0o644))
	must(os.MkdirAll(filepath.Join(exp, "special/in"), 0o755))
	must(unix.Mkfifo(filepath.Join(exp, "special/fifo"), 0o644))
	must(os.WriteFile(filepath.Join(exp, "special/in/ok"), []byte("ok\n"), 0o644))
	local := filepath.Join(base, "local")
	must(os.Mkdir(local, 0o755))
	addr := cliStartExport(t, exp)

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
		copied []string // files under local that must be there afterwards
	}{
		{"missing local source", []string{local + "/nope", ":/x"}, 1,
			[]string{"mfs 9p: cp " + local + "/nope: no such file or directory"}, nil},
		{"missing 9P source", []string{":/nope", local + "/x"}, 1,
			[]string{"mfs 9p: cp :/nope: no such file or directory"}, nil},
		{"omitting directory", []string{":/d", local + "/d"}, 1,
			[]string{"mfs 9p: cp :/d: omitting directory (copy directories with -r)"}, nil},
		{"several sources into a file", []string{":/f", ":/g", ":/f"}, 1,
			[]string{"mfs 9p: cp :/f: not a directory"}, nil},
		{"several sources into nothing", []string{":/f", ":/g", ":/none"}, 1,
			[]string{"mfs 9p: cp :/none: no such file or directory"}, nil},
		{"trailing slash on a missing target", []string{":/f", local + "/none/"}, 1,
			[]string{"mfs 9p: cp " + local + "/none/: not a directory"}, nil},
		{"same file", []string{":/f", ":/x/../f"}, 1,
			[]string{"mfs 9p: cp :/f :/f: are the same file"}, nil},
		{"directory into itself", []string{"-r", ":/d", ":/d/sub"}, 1,
			[]string{"mfs 9p: cp :/d :/d/sub/d: cannot copy a directory into itself"}, nil},
		{"goes on past failures", []string{"-r", ":/nope", ":/d", ":/f", ":/gone", local}, 1,
			[]string{"mfs 9p: cp :/nope: no such file or directory", "mfs 9p: cp :/gone: no such file or directory"},
			[]string{"d/sub/x", "f"}},
		{"special file skipped", []string{"-r", ":/special", local}, 1,
			[]string{"mfs 9p: cp :/special/fifo: not a regular file, directory or symlink: skipped"},
			[]string{"special/in/ok"}},
		{"no 9P path", []string{local + "/a", local + "/b"}, 2,
			[]string{"mfs 9p: cp: no 9P path: write one with a leading ':', as in :/2/tmp/x"}, nil},
		{"one argument", []string{":/f"}, 2,
			[]string{"mfs 9p: cp: want cp [-r] [-p] SRC… DST (see mfs 9p cp --help)"}, nil},
		{"unknown flag", []string{"-z", ":/f", local}, 2,
			[]string{"mfs 9p: cp: unknown flag -z"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cliRun(t, nil, nil, append([]string{"9p", "--addr", addr, "cp"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if want := strings.Join(tt.stderr, "\n") + "\n"; r.stderr != want {
				t.Errorf("stderr\n%s\nwant\n%s", r.stderr, want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			for _, name := range tt.copied {
				if a, b := cpSum(t, filepath.Join(exp, name)), cpSum(t, filepath.Join(local, name)); a != b {
					t.Errorf("%s: copy differs", name)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(exp, "d/sub/d")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cp into itself made %s (%v)", "d/sub/d", err)
	}
}

// TestCpNodeToNode copies between the nodes of a real 2-node cluster:
// /1 to /2 through node 1's namespace (the bytes pass through the client),
// checked on node 2's disk against node 1's; and from this host into /2 and
// back, with -p.
func TestCpNodeToNode(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
	n1, n2 := c.Node(1), c.Node(2)
	root := os.Geteuid() == 0
	cpMakeTree(t, filepath.Join(n1.Dir, "tree"))

	cpRun(t, n1.Addr, "--msize", "16384", "cp", "-rp", ":/1/tree", ":/2/copy")
	cpCheckTree(t, filepath.Join(n1.Dir, "tree"), filepath.Join(n2.Dir, "copy"), cpCheck{owners: root, times: true})

	src := filepath.Join(t.TempDir(), "src")
	cpMakeTree(t, src)
	cpRun(t, n1.Addr, "cp", "-rp", src, ":/2/up")
	cpCheckTree(t, src, filepath.Join(n2.Dir, "up"), cpCheck{owners: root, times: true})
	down := filepath.Join(t.TempDir(), "down")
	cpRun(t, n1.Addr, "cp", "-rp", ":/2/up", down)
	cpCheckTree(t, src, down, cpCheck{owners: root, times: true})
}

// TestMvAcrossNodes moves a tree and a file from node 1 to node 2, which
// no rename can do: mv copies, then removes. The source is gone from node
// 1's disk and the copy on node 2's is the tree as it was (made again
// alike to compare), owners and times too.
func TestMvAcrossNodes(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
	n1, n2 := c.Node(1), c.Node(2)
	root := os.Geteuid() == 0
	ref := filepath.Join(t.TempDir(), "ref")
	cpMakeTree(t, ref)
	cpMakeTree(t, filepath.Join(n1.Dir, "tree"))

	cpRun(t, n1.Addr, "mv", "/1/tree", "/2/moved")
	if _, err := os.Lstat(filepath.Join(n1.Dir, "tree")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("source still on node 1 (%v)", err)
	}
	cpCheckTree(t, ref, filepath.Join(n2.Dir, "moved"), cpCheck{owners: root, times: true})

	// A file into a directory, replacing nothing; then onto a file.
	cpRun(t, n2.Addr, "mv", "/1/node-1.txt", "/2/moved/")
	if b, err := os.ReadFile(filepath.Join(n2.Dir, "moved/node-1.txt")); err != nil || string(b) != "node 1\n" {
		t.Errorf("moved file: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(n1.Dir, "node-1.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("moved file still on node 1 (%v)", err)
	}
	cpRun(t, n2.Addr, "mv", "/2/moved/node-1.txt", "/1/a.txt")
	if b, err := os.ReadFile(filepath.Join(n1.Dir, "a.txt")); err != nil || string(b) != "node 1\n" {
		t.Errorf("moved back: %q, %v", b, err)
	}

	// A directory onto a non-empty one (bin/d2, moving d2 into bin):
	// refused, as rename(2) refuses, and nothing moves.
	for _, d := range []string{filepath.Join(n1.Dir, "d2"), filepath.Join(n2.Dir, "moved/bin/d2")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := cliRun(t, nil, nil, "9p", "--addr", n1.Addr, "mv", "/1/d2", "/2/moved/bin")
	if want := "mfs 9p: mv /1/d2 /2/moved/bin: directory not empty\n"; r.code != 1 || r.stderr != want {
		t.Errorf("onto a non-empty directory: exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
	if b, err := os.ReadFile(filepath.Join(n1.Dir, "d2/f")); err != nil || string(b) != filepath.Join(n1.Dir, "d2") {
		t.Errorf("after the refused move: %q, %v", b, err)
	}
}

// TestCpSpeed measures the target: a 500-file tree (a few KiB
// each, in nested directories) copied with one `mfs 9p cp -r` against one
// `mfs 9p write` per file from a shell loop, in the same run, to an export
// and through node 1 into /2 of a 2-node cluster. It reports the times and
// the ratio (the target is 5×); it fails only if a copy is wrong, never on
// time.
func TestCpSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("copies 500 files four times")
	}
	src := filepath.Join(t.TempDir(), "tree")
	var files []string
	for i := range 10 {
		for j := range 5 {
			for k := range 10 {
				files = append(files, fmt.Sprintf("d%d/e%d/f%d.txt", i, j, k))
			}
		}
	}
	total := 0
	for i, f := range files {
		p := filepath.Join(src, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		size := 1024 + (i*997)%7168 // 1 to 8 KiB
		total += size
		if err := os.WriteFile(p, cpContent(f, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := clusterutil.PlainBinary(t)

	measure := func(t *testing.T, addr, base, disk string) {
		t.Helper()
		// The newcomer's way: one process and connection per file.
		script := `set -e
cd "$SRC"
"$MFS" 9p --addr "$ADDR" mkdir -p $(find . -mindepth 1 -type d | sed "s|^\.|$BASE/loop|")
find . -type f | while read -r f; do "$MFS" 9p --addr "$ADDR" write "$BASE/loop/${f#./}" < "$f"; done`
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", script)
		cmd.Env = append(cliEnv(), "SRC="+src, "MFS="+bin, "ADDR="+addr, "BASE="+base)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("write loop: %v: %s", err, out)
		}
		loop := time.Since(start)

		cmd = exec.CommandContext(ctx, bin, "9p", "--addr", addr, "cp", "-r", src, ":"+base+"/cp")
		cmd.Env = cliEnv()
		start = time.Now()
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("cp -r: %v: %q", err, out)
		}
		cp := time.Since(start)

		for _, f := range files {
			want := cpSum(t, filepath.Join(src, f))
			if cpSum(t, filepath.Join(disk, "loop", f)) != want || cpSum(t, filepath.Join(disk, "cp", f)) != want {
				t.Fatalf("%s: a copy differs", f)
			}
		}
		t.Logf("%d files, %d KiB: one `mfs 9p write` per file %v, `mfs 9p cp -r` %v: %.1f× faster (target 5×)",
			len(files), total>>10, loop.Round(time.Millisecond), cp.Round(time.Millisecond), float64(loop)/float64(cp))
	}

	t.Run("export", func(t *testing.T) {
		exp := t.TempDir()
		addr := cliStartExportAs(t, bin, exp, t.TempDir(), nil)
		measure(t, addr, "", exp)
	})
	t.Run("cluster", func(t *testing.T) {
		c := clusterutil.Start(t, clusterutil.Options{Nodes: 2, Plain: true})
		measure(t, c.Node(1).Addr, "/2", c.Node(2).Dir)
	})
}

// TestCpDiod copies the tree up to diod, a 9P2000.L server mfs did not
// write, and down again, with -p, and compares both copies with the source.
func TestCpDiod(t *testing.T) {
	if why := diodtest.Missing("diod"); why != "" {
		t.Skip(why)
	}
	base := t.TempDir()
	src, exp := filepath.Join(base, "src"), filepath.Join(base, "export")
	cpMakeTree(t, src)
	if err := os.Mkdir(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	addr, diodLog := diodtest.StartDiodLog(t, exp)
	root := os.Geteuid() == 0
	cpRun(t, addr, "--aname", exp, "cp", "-rp", src, ":/up")
	cpCheckTree(t, src, filepath.Join(exp, "up"), cpCheck{owners: root, times: true})
	cpRun(t, addr, "--aname", exp, "cp", "-rp", ":/up", filepath.Join(base, "down"))
	cpCheckTree(t, src, filepath.Join(base, "down"), cpCheck{owners: root, times: true})
	// diod may run a connection's requests in any order: the client must
	// not send a request on a fid whose Twalk is still unanswered.
	if n := strings.Count(diodLog(), "invalid fid"); n != 0 {
		t.Errorf("diod logged %d \"invalid fid\" lines: a request was pipelined behind the walk that makes its fid", n)
	}
}
