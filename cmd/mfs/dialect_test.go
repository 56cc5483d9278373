package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"github.com/urfave/cli/v2"

	"mfs/internal/dial/dialtest"
	"mfs/internal/ninep"
	"mfs/srv9p"
	"mfs/srv9p/export"
)

// ranMFS is what a run of mfs in this process printed and exited with.
type ranMFS struct {
	stdout, stderr string
	code           int
}

// runMFS runs `mfs ARGS…` in this process as main does (the error lines
// go to stderr), with stdin.
func runMFS(stdin string, args ...string) ranMFS {
	var out, errb bytes.Buffer
	app := &cli.App{
		Name:           "mfs",
		Commands:       []*cli.Command{ninep.Command(), ninep.MembersCommand()},
		Reader:         strings.NewReader(stdin),
		Writer:         &out,
		ErrWriter:      &errb,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	err := app.Run(append([]string{"mfs"}, args...))
	r := ranMFS{}
	if err != nil {
		for _, l := range errorLines(err) {
			errb.WriteString(l + "\n")
		}
		r.code = exitCode(err)
	}
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}

// loginName is the running user's login name.
func loginName(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// sockListen listens on a unix socket in a short temporary directory and
// returns the listener and its mfs address.
func sockListen(t *testing.T) (net.Listener, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "mfs9p")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, "9p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	return ln, "unix:" + ln.Addr().String()
}

// serveRAMFS serves a fresh 9P2000 tree (9fans.net/go's srv9p) owned by
// the running user and returns it and its address.
func serveRAMFS(t *testing.T) (*dialtest.RAMFS, string) {
	t.Helper()
	fs := dialtest.NewRAMFS(loginName(t))
	ln, addr := sockListen(t)
	go fs.Serve(ln)
	t.Cleanup(func() { ln.Close() })
	return fs, addr
}

// serveExport serves a srv9p export of a fresh directory (every dialect)
// and returns the directory and its address.
func serveExport(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := export.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, addr := sockListen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv9p.NewServer(a).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the export did not stop")
		}
	})
	return dir, addr
}

// step is one command of a verb script and what it must print: stdout
// exactly (unless want is "*"), and stderr exactly.
type step struct {
	stdin string
	args  string // after mfs 9p --addr ADDR --dialect D
	code  int
	want  string
	err   string
}

// runSteps runs a verb script; ADDR in args and err stands for the
// address.
func runSteps(t *testing.T, addr, dialect string, steps []step) {
	t.Helper()
	for _, s := range steps {
		args := append([]string{"9p", "--addr", addr, "--dialect", dialect}, strings.Fields(s.args)...)
		r := runMFS(s.stdin, args...)
		wantErr := strings.ReplaceAll(s.err, "ADDR", addr)
		if r.code != s.code || (s.want != "*" && r.stdout != s.want) || r.stderr != wantErr {
			t.Errorf("mfs 9p --dialect %s %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q",
				dialect, s.args, r.code, r.stdout, r.stderr, s.code, s.want, wantErr)
		}
	}
}

// TestNinepDialectFlag: --dialect before or after the verb and
// $MFS_DIALECT pick the dialect; a bad one is a usage error; a server of
// another dialect is named with the flag that would reach it.
func TestNinepDialectFlag(t *testing.T) {
	_, addr := serveRAMFS(t)
	tests := []struct {
		env  string
		args []string
		code int
		err  string
	}{
		{"", []string{"9p", "--addr", addr, "--dialect", "9p2000", "ls", "/"}, 0, ""},
		{"", []string{"9p", "--addr", addr, "ls", "--dialect", "9P2000", "/"}, 0, ""},
		{"9p2000", []string{"9p", "--addr", addr, "ls", "/"}, 0, ""},
		{"9p2000.L", []string{"9p", "--addr", addr, "--dialect", "9p2000", "ls", "/"}, 0, ""},
		{"", []string{"9p", "--addr", addr, "ls", "/"}, 1,
			`mfs 9p: connect ` + addr + `: server answered version "9P2000": it does not speak 9P2000.L (try --dialect 9p2000)` + "\n"},
		{"", []string{"9p", "--addr", addr, "--dialect", "9p2000.u", "ls", "/"}, 1,
			`mfs 9p: connect ` + addr + `: server answered version "9P2000": it does not speak 9P2000.u (try --dialect 9p2000)` + "\n"},
		{"9p2000", []string{"9p", "--addr", addr, "ls", "--dialect", "9p2000.L", "/"}, 1,
			`mfs 9p: connect ` + addr + `: server answered version "9P2000": it does not speak 9P2000.L (try --dialect 9p2000)` + "\n"},
		{"", []string{"9p", "--addr", addr, "--dialect", "plan9", "ls", "/"}, 2,
			`mfs 9p: --dialect "plan9": want 9p2000.L, 9p2000.u or 9p2000` + "\n"},
		{"9P2000.X", []string{"9p", "--addr", addr, "ls", "/"}, 2,
			`mfs 9p: --dialect "9P2000.X": want 9p2000.L, 9p2000.u or 9p2000` + "\n"},
		{"", []string{"members", "--addr", addr, "--dialect", "nine"}, 2,
			`mfs members: --dialect "nine": want 9p2000.L, 9p2000.u or 9p2000` + "\n"},
	}
	for _, tt := range tests {
		if tt.env != "" {
			t.Setenv("MFS_DIALECT", tt.env)
		} else {
			os.Unsetenv("MFS_DIALECT")
		}
		r := runMFS("", tt.args...)
		if r.code != tt.code || r.stderr != tt.err {
			t.Errorf("MFS_DIALECT=%s mfs %s: exit %d, stderr %q; want %d, %q", tt.env, strings.Join(tt.args, " "), r.code, r.stderr, tt.code, tt.err)
		}
	}
}

// TestNinepPlan9Server drives the verbs in 9P2000 against a 9P2000 server
// (9fans.net/go's srv9p, the Go port of plan9port's lib9p) and checks its
// tree after each.
func TestNinepPlan9Server(t *testing.T) {
	fs, addr := serveRAMFS(t)
	local := t.TempDir()
	if err := os.WriteFile(filepath.Join(local, "up.txt"), []byte("up\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	has := func(p string) bool { _, _, ok := fs.Lookup(p); return ok }
	data := func(p string) string { _, b, _ := fs.Lookup(p); return string(b) }
	mode := func(p string) plan9.Perm { d, _, _ := fs.Lookup(p); return d.Mode }
	qid := func(p string) uint64 { d, _, _ := fs.Lookup(p); return d.Qid.Path }

	runSteps(t, addr, "9p2000", []step{
		{stdin: "hello\n", args: "write /a.txt"},
		{args: "read /a.txt", want: "hello\n"},
		{stdin: "world\n", args: "write --append /a.txt"},
		{args: "read a.txt", want: "hello\nworld\n"},
		{stdin: "new\n", args: "write /a.txt"},
		{args: "read /a.txt", want: "new\n"},
		{args: "mkdir /d"},
		{args: "mkdir -p /d/e/f /d/e"},
		{args: "mkdir /d", code: 1, err: "mfs 9p: mkdir /d: file already exists\n"},
		{args: "ls /", want: "a.txt\nd\n"},
		{args: "ls -R /d", want: "/d:\ne\n\n/d/e:\nf\n\n/d/e/f:\n"},
		{args: "ls -d /d /a.txt", want: "/a.txt\n/d\n"},
		{args: "read /missing", code: 1, err: "mfs 9p: read /missing: file not found\n"},
		{args: "read /d", code: 1, err: "mfs 9p: read /d: is a directory\n"},
		{args: "touch /t /d/t2"},
		{args: "touch -c /nope"},
		{args: "chmod 600 /a.txt"},
		{args: "chmod 751 /d"},
	})
	if !has("t") || !has("d/t2") || has("nope") || mode("a.txt") != 0o600 || mode("d") != plan9.DMDIR|0o751 {
		t.Errorf("touch and chmod: t %v d/t2 %v nope %v, a.txt mode %v, d mode %v", has("t"), has("d/t2"), has("nope"), mode("a.txt"), mode("d"))
	}

	// mv within a directory is a rename (the qid stays), across
	// directories a copy and a remove, onto a file a replacement.
	q := qid("a.txt")
	runSteps(t, addr, "9p2000", []step{
		{args: "mv /a.txt /b.txt"},
		{args: "mv /b.txt /d/e"},
		{args: "mv /t /d/e/b.txt"},
		{args: "mv /d/t2 /d/t3"},
		{stdin: "x\n", args: "write /d/x"},
		{args: "mv /d/x /d/t3"},
		{args: "mkdir /d/dd"},
		{args: "mv /d/dd /d/t3", code: 1, err: "mfs 9p: mv /d/dd /d/t3: not a directory\n"},
		{args: "rm /d/dd"},
	})
	if has("a.txt") || has("b.txt") || has("t") || !has("d/e/b.txt") || data("d/e/b.txt") != "" || data("d/t3") != "x\n" || has("d/t2") || has("d/x") {
		t.Errorf("after mv: / has %v %v %v, d/e/b.txt %v %q, d/t3 %v", has("a.txt"), has("b.txt"), has("t"), has("d/e/b.txt"), data("d/e/b.txt"), has("d/t3"))
	}
	if q == qid("d/e/b.txt") {
		t.Error("mv across directories kept the qid: not a copy?")
	}

	// cp up and down, ls -l, stat, and what 9P2000 lacks.
	runSteps(t, addr, "9p2000", []step{
		{args: "cp " + filepath.Join(local, "up.txt") + " :/d/"},
		{args: "cp -r :/d " + filepath.Join(local, "down")},
		{args: "ls -l /d", want: "*"},
		{args: "stat /d/up.txt", want: "*"},
		{args: "ln -s up.txt /d/l", code: 1, err: "mfs 9p: ln up.txt /d/l: no symlinks in 9P2000\n"},
		{args: "ln /d/up.txt /d/h", code: 1, err: "mfs 9p: ln /d/up.txt /d/h: no hard links in 9P2000\n"},
		{args: "readlink /d/up.txt", code: 1, err: "mfs 9p: readlink /d/up.txt: no symlinks in 9P2000\n"},
		{args: "df /", code: 1, err: "mfs 9p: df /: no statfs in 9P2000\n"},
	})
	if data("d/up.txt") != "up\n" || mode("d/up.txt") != 0o640 {
		t.Errorf("cp up: %q mode %v", data("d/up.txt"), mode("d/up.txt"))
	}
	if b, err := os.ReadFile(filepath.Join(local, "down", "up.txt")); err != nil || string(b) != "up\n" {
		t.Errorf("cp down: %q, %v", b, err)
	}
	r := runMFS("", "9p", "--addr", addr, "--dialect", "9p2000", "ls", "-l", "/d")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "drwx") ||
		!strings.HasPrefix(lines[2], "-rw-r----- 1 "+loginName(t)+" ") || !strings.HasSuffix(lines[2], " up.txt") {
		t.Errorf("ls -l /d:\n%s", r.stdout)
	}

	// rm, and what is left.
	runSteps(t, addr, "9p2000", []step{
		{args: "rm /d", code: 1, err: "mfs 9p: rm /d: directory not empty\n"},
		{args: "rm -r /d/e"},
		{args: "rm /d/up.txt /nope", code: 1, err: "mfs 9p: rm /nope: file not found\n"},
		{args: "rm -f /nope /d/t3"},
		{args: "ls /d", want: ""},
		{args: "rm -r /d"},
		{args: "ls /", want: ""},
	})
}

// TestNinepDialectsExport drives the verbs in each dialect against mfs's
// own server (a srv9p export, which speaks all three) and checks the
// exported directory after them. What a dialect lacks fails with one
// line naming it.
func TestNinepDialectsExport(t *testing.T) {
	for _, dl := range []string{"9p2000.L", "9p2000.u", "9p2000"} {
		t.Run(dl, func(t *testing.T) {
			dir, addr := serveExport(t)
			host := func(p string) string {
				b, err := os.ReadFile(filepath.Join(dir, p))
				if err != nil {
					return "<" + err.Error() + ">"
				}
				return string(b)
			}
			enoent, name := "no such file or directory", "9P2000.u"
			if dl == "9p2000" {
				enoent, name = "file does not exist", "9P2000"
			}
			steps := []step{
				{stdin: "hello\n", args: "write /a.txt"},
				{stdin: "world\n", args: "write --append /a.txt"},
				{args: "read /a.txt", want: "hello\nworld\n"},
				{args: "mkdir -p /d/e"},
				{args: "mkdir /d", code: 1, err: "mfs 9p: mkdir /d: file exists\n"},
				{args: "read /missing", code: 1, err: "mfs 9p: read /missing: " + enoent + "\n"},
				{args: "chmod 640 /a.txt"},
				{args: "mv /a.txt /b.txt"},
				{args: "mv /b.txt /d/e"},
				{args: "touch /d/t"},
				{stdin: "t\n", args: "write /d/u"},
				{args: "mv /d/u /d/t"},
				{args: "read /d/t", want: "t\n"},
				{args: "ls -R /d", want: "/d:\ne\nt\n\n/d/e:\nb.txt\n"},
				{args: "cp -r :/d :/copy"},
			}
			switch dl {
			case "9p2000":
				steps = append(steps,
					step{args: "ln -s b.txt /d/e/l", code: 1, err: "mfs 9p: ln b.txt /d/e/l: no symlinks in 9P2000\n"},
					step{args: "ln /d/e/b.txt /d/h", code: 1, err: "mfs 9p: ln /d/e/b.txt /d/h: no hard links in 9P2000\n"},
				)
			default:
				steps = append(steps,
					step{args: "ln -s b.txt /d/e/l"},
					step{args: "readlink /d/e/l", want: "b.txt\n"},
					step{args: "ln /d/e/b.txt /d/h"},
					step{args: "read /d/e/l", code: 1, err: "mfs 9p: read /d/e/l: is a symbolic link to \"b.txt\" (not followed; use its target)\n"},
				)
			}
			if dl == "9p2000.L" {
				steps = append(steps, step{args: "df /", want: "*"})
			} else {
				steps = append(steps, step{args: "df /", code: 1, err: "mfs 9p: df /: no statfs in " + name + "\n"})
			}
			steps = append(steps,
				step{args: "rm -r /d/e"},
				step{args: "rm /d/t /nope", code: 1, err: "mfs 9p: rm /nope: " + enoent + "\n"},
			)
			runSteps(t, addr, dl, steps)
			if got := host("copy/e/b.txt"); got != "hello\nworld\n" {
				t.Errorf("copy/e/b.txt: %q", got)
			}
			if fi, err := os.Stat(filepath.Join(dir, "copy/e/b.txt")); err != nil || fi.Mode() != 0o640 {
				t.Errorf("copy/e/b.txt: %v, %v; want mode 0640", fi.Mode(), err)
			}
			ents, _ := os.ReadDir(filepath.Join(dir, "d"))
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			want := ""
			if dl != "9p2000" {
				want = "h" // the hard link outlives the file
			}
			if strings.Join(names, " ") != want {
				t.Errorf("d has %q, want %q", names, want)
			}
		})
	}
}
