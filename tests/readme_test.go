package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"mfs/tests/clusterutil"
	"mfs/tests/diodtest"
)

// readmeMarker precedes every README block that runs against `mfs demo`.
const readmeMarker = "<!-- demo -->"

// readmeBlocks returns the README's marked blocks: each marker must be
// followed by a ```sh block.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var blocks []string
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != readmeMarker {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j == len(lines) || lines[j] != "```sh" {
			t.Fatalf("README.md:%d: %s not followed by a ```sh block", i+1, readmeMarker)
		}
		var body []string
		for j++; j < len(lines) && lines[j] != "```"; j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: unterminated block", i+1)
		}
		blocks = append(blocks, strings.Join(body, "\n")+"\n")
		i = j
	}
	return blocks
}

// TestREADME runs every marked README block, in order, with sh -e against
// a real `mfs demo` (mfs first in PATH, MFS_ADDR from the demo's first
// line), and the commands the demo's banner prints: as root, and as uid
// 1000 running a demo of its own, as an ordinary user would. Kernel mounts
// are left out (the VM tests mount).
func TestREADME(t *testing.T) {
	blocks := readmeBlocks(t)
	if len(blocks) < 10 {
		t.Fatalf("README has %d blocks marked %s, want at least 10", len(blocks), readmeMarker)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the examples as root and as uid 1000")
	}
	t.Run("root", func(t *testing.T) { runREADME(t, blocks, nil) })
	t.Run("uid 1000", func(t *testing.T) {
		runREADME(t, blocks, &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{}})
	})
}

// readmeEnv is where one user runs the demo and the examples.
type readmeEnv struct {
	cred *syscall.Credential // nil: root, as the test runs
	env  []string
	dir  string // working directory of the examples
	tmp  string // the demo's TMPDIR
}

// newReadmeEnv makes a user's home with a runtime and a temporary
// directory it owns, and a directory holding the mfs binary it can run.
func newReadmeEnv(t *testing.T, cred *syscall.Credential) *readmeEnv {
	t.Helper()
	base, err := os.MkdirTemp("", "mfs-readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(base, 0o755))
	bin := filepath.Join(base, "bin")
	must(os.Mkdir(bin, 0o755))
	must(copyFile(clusterutil.Binary(t), filepath.Join(bin, "mfs"), 0o755))
	home := filepath.Join(base, "home")
	e := &readmeEnv{cred: cred, dir: filepath.Join(home, "work"), tmp: filepath.Join(home, "tmp")}
	run := filepath.Join(home, "run")
	for _, d := range []string{home, e.dir, e.tmp, run} {
		must(os.Mkdir(d, 0o700))
		if cred != nil {
			must(os.Chown(d, int(cred.Uid), int(cred.Gid)))
		}
	}
	e.env = []string{
		"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + home,
		"XDG_RUNTIME_DIR=" + run,
		"TMPDIR=" + e.tmp,
		"LANG=C.UTF-8",
	}
	return e
}

// copyFile copies src to dst with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// command is sh -c script as the environment's user, in its own process
// group (so the whole group can be signalled), killed if the test dies.
func (e *readmeEnv) command(ctx context.Context, script string, extraEnv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
	cmd.Env = append(append([]string{}, e.env...), extraEnv...)
	cmd.Dir = e.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs script and fails the test with its output unless it exits 0.
func (e *readmeEnv) run(t *testing.T, what, script string, extraEnv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, script, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("%s: %v\n--- script:\n%s--- stdout:\n%s--- stderr:\n%s", what, err, script, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// demo is a running `mfs demo` and what its banner said.
type demo struct {
	cmd    *exec.Cmd
	banner []string
	lines  chan string
	stderr *bytes.Buffer
	addr   string // MFS_ADDR
}

// startDemo runs `mfs demo` as the environment's user (found in PATH, as
// a reader would) and reads its banner.
func (e *readmeEnv) startDemo(t *testing.T) *demo {
	t.Helper()
	cmd := e.command(context.Background(), "exec mfs demo")
	d := &demo{cmd: cmd, lines: make(chan string, 64), stderr: &bytes.Buffer{}}
	cmd.Stderr = d.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		close(d.lines)
	}()
	deadline := time.After(clusterutil.StartTimeout)
	for {
		select {
		case l, ok := <-d.lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("demo exited early:\n%s\n%s", strings.Join(d.banner, "\n"), d.stderr.String())
			}
			d.banner = append(d.banner, l)
			if strings.HasPrefix(l, "Ctrl-C stops the demo") {
				m := regexp.MustCompile(`^export MFS_ADDR=(\S+)$`).FindStringSubmatch(d.banner[0])
				if m == nil {
					t.Fatalf("the banner's first line is %q, want export MFS_ADDR=…", d.banner[0])
				}
				d.addr = m[1]
				return d
			}
		case <-deadline:
			t.Fatalf("demo printed no banner in %v:\n%s\n%s", clusterutil.StartTimeout, strings.Join(d.banner, "\n"), d.stderr.String())
		}
	}
}

// section returns the banner's indented command lines after the line
// that starts with heading, up to the next blank line.
func (d *demo) section(t *testing.T, heading string) []string {
	t.Helper()
	var out []string
	in := false
	for _, l := range d.banner {
		switch {
		case strings.HasPrefix(l, heading):
			in = true
		case in && strings.TrimSpace(l) == "":
			return out
		case in:
			if !strings.HasPrefix(l, "  ") {
				t.Fatalf("banner line %q under %q is not a command", l, heading)
			}
			out = append(out, strings.TrimSpace(l))
		}
	}
	if len(out) == 0 {
		t.Fatalf("banner has no %q section:\n%s", heading, strings.Join(d.banner, "\n"))
	}
	return out
}

// stop interrupts the demo (Ctrl-C) and checks it exits 0 leaving
// nothing in its TMPDIR.
func (d *demo) stop(t *testing.T, e *readmeEnv) {
	t.Helper()
	syscall.Kill(d.cmd.Process.Pid, syscall.SIGINT)
	done := make(chan error, 1)
	go func() {
		for range d.lines {
		}
		done <- d.cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo after Ctrl-C: %v\n%s", err, d.stderr.String())
		}
	case <-time.After(clusterutil.StartTimeout):
		t.Fatal("demo does not exit after Ctrl-C")
	}
	if left, _ := os.ReadDir(e.tmp); len(left) != 0 {
		t.Errorf("demo left %v in its TMPDIR", left)
	}
}

func runREADME(t *testing.T, blocks []string, cred *syscall.Credential) {
	e := newReadmeEnv(t, cred)
	d := e.startDemo(t)
	mfsAddr := "MFS_ADDR=" + d.addr

	// The banner's commands, in the shell the banner tells to export
	// MFS_ADDR in.
	for _, c := range d.section(t, "Try") {
		e.run(t, "banner: "+c, c+"\n", mfsAddr)
	}

	for i, b := range blocks {
		t.Run(fmt.Sprintf("block %d", i+1), func(t *testing.T) {
			if strings.Contains(b, "diodls") || strings.Contains(b, "diodcat") {
				if why := diodtest.Missing("diodls", "diodcat"); why != "" {
					t.Skip(why)
				}
			}
			e.run(t, fmt.Sprintf("README block %d", i+1), b, mfsAddr)
		})
	}

	t.Run("banner: add a node", func(t *testing.T) { demoAddNode(t, e, d, mfsAddr) })
	if t.Failed() {
		t.Logf("banner:\n%s\ndemo's stderr:\n%s", strings.Join(d.banner, "\n"), d.stderr.String())
	}
	d.stop(t, e)
}

// demoAddNode runs the banner's commands that add node 4: its
// certificate, then the node, until the demo's namespace lists it alive
// and reads its directory; then stops it with SIGTERM.
func demoAddNode(t *testing.T, e *readmeEnv, d *demo, mfsAddr string) {
	cmds := d.section(t, "Add node 4")
	// The certificate, the gossip key into the environment (not on the
	// node's command line, where ps shows it), the node.
	if len(cmds) != 3 || !strings.HasPrefix(cmds[1], "export MFS_ENCRYPT=") || !strings.Contains(cmds[2], " node --id 4 ") || strings.Contains(cmds[2], "--encrypt") {
		t.Fatalf("banner's add-a-node commands: %q", cmds)
	}
	e.run(t, "banner: "+cmds[0], cmds[0]+"\n")
	// exec: the node is the shell's process, for SIGTERM.
	line, ok := strings.CutPrefix(cmds[2], "mkdir -p ")
	if !ok || !strings.Contains(line, " && mfs node ") {
		t.Fatalf("banner's node command: %q", cmds[2])
	}
	node := e.command(context.Background(), cmds[1]+"\nmkdir -p "+strings.Replace(line, " && mfs node ", " && exec mfs node ", 1))
	var out bytes.Buffer
	node.Stdout, node.Stderr = &out, &out
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- node.Wait() }()
	defer func() {
		syscall.Kill(-node.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("node 4's output:\n%s", out.String())
		}
	}()
	deadline := time.Now().Add(clusterutil.StartTimeout)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		cmd := e.command(ctx, "mfs 9p nodes && mfs 9p ls /4", mfsAddr)
		got, err := cmd.CombinedOutput()
		cancel()
		if err == nil && regexp.MustCompile(`(?m)^4\s+\S+\s+alive`).Match(got) {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("node 4 exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 4 not listed alive by the demo after %v: %s", clusterutil.StartTimeout, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(node.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("node 4 after SIGTERM: %v", err)
		}
	case <-time.After(clusterutil.StartTimeout):
		t.Error("node 4 does not exit after SIGTERM")
	}
}
