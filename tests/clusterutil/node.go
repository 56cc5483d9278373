package clusterutil

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long a node may take to report "ready" (joined)
// or to exit after a signal.
var StartTimeout = 60 * time.Second

// PeerTimeout is each node's --timeout, the bound on one operation sent to
// a peer: long enough for a race-enabled build on a loaded machine, short
// enough that a dead peer shows as an error well within the helpers'
// OpTimeout.
var PeerTimeout = func() time.Duration {
	if raceEnabled {
		return 8 * time.Second
	}
	return 4 * time.Second
}()

// NodeOptions describe one `mfs node` process. Zero values give a node on
// loopback with free ports, the fast gossip profile and a fresh seeded
// export directory.
type NodeOptions struct {
	// ID is the node number (--id).
	ID int
	// Dir is the export root (--root); "" makes a temporary directory
	// holding node-ID.txt.
	Dir string
	// Join lists gossip addresses to join (--join).
	Join []string
	// Encrypt is the gossip key (--encrypt), base64.
	Encrypt string
	// KeyFile is the gossip key file (--key-file). Without Encrypt,
	// KeyFile, TLSDir or a key flag in Args, a node uses the key file of
	// the node at Join[0] if this process started it (as an admin copies
	// the key to a new node), or else a fresh one in t.TempDir(): no test
	// writes /var/lib/mfs.
	KeyFile string
	// NoKey gives neither --encrypt nor --key-file, whatever the above:
	// the node uses its user's default key file. Only for nodes run as
	// another user (see Wrap), which cannot touch root's /var/lib/mfs.
	NoKey bool
	// TLSDir holds the cluster's certificates (--tls-dir; see MakeTLS).
	TLSDir string
	// Listen, ExportListen and Gossip default to 127.0.0.1:0.
	Listen, ExportListen, Gossip string
	// Args are further flags for `mfs node`.
	Args []string
	// Wrap prefixes the command, e.g. {"ip", "netns", "exec", "ns1"}.
	Wrap []string
	// Plain runs the binary built without the race detector
	// (PlainBinary), for tests that measure the node's speed or CPU.
	Plain bool
	// Bin, if set, is the binary to run (e.g. WorldBinary's copy, for
	// a node run as another user).
	Bin string
}

// binary returns the mfs binary the options ask for.
func (o NodeOptions) binary(t testing.TB) string {
	t.Helper()
	if o.Bin != "" {
		return o.Bin
	}
	if o.Plain {
		return PlainBinary(t)
	}
	return Binary(t)
}

// Node is one `mfs node` process. Its address fields are the addresses it
// actually bound (free ports resolved), read from its log.
type Node struct {
	ID int
	// Dir is the node's export root.
	Dir string
	// Addr is the namespace address (for dial.Dial and `mfs 9p --addr`).
	Addr string
	// ExportAddr is the srv9p export address peers use.
	ExportAddr string
	// GossipAddr is the serf address others --join.
	GossipAddr string

	t    testing.TB
	opts NodeOptions
	proc *process
}

// process is one run of the binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited and its log is read
	err  error         // from Wait

	mu    sync.Mutex
	lines []string
}

// NewNode starts a node and waits until it reports ready (it joined) or
// exits. A node that exits before ready is an error carrying its last log
// line (the "mfs node: …" message). The node is stopped in t.Cleanup.
func NewNode(t testing.TB, o NodeOptions) (*Node, error) {
	t.Helper()
	bin := o.binary(t)
	if o.Dir == "" {
		o.Dir = t.TempDir()
		name := filepath.Join(o.Dir, fmt.Sprintf("node-%d.txt", o.ID))
		if err := os.WriteFile(name, fmt.Appendf(nil, "node %d\n", o.ID), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*string{&o.Listen, &o.ExportListen, &o.Gossip} {
		if *p == "" {
			*p = "127.0.0.1:0"
		}
	}
	if !o.NoKey && o.Encrypt == "" && o.KeyFile == "" && o.TLSDir == "" && !slices.Contains(o.Args, "--encrypt") && !slices.Contains(o.Args, "--key-file") {
		if len(o.Join) > 0 {
			o.KeyFile = keyFileOf(o.Join[0])
		}
		if o.KeyFile == "" {
			o.KeyFile = filepath.Join(t.TempDir(), "gossip.key")
		}
	}
	n := &Node{ID: o.ID, Dir: o.Dir, t: t, opts: o}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of node %d:\n%s", n.ID, n.Log())
		}
		n.stop(syscall.SIGTERM)
	})
	return n, n.start(bin)
}

// args builds the command line of the node.
func (n *Node) args(bin string) []string {
	o := n.opts
	a := append([]string{}, o.Wrap...)
	a = append(a, bin, "node",
		"--id", strconv.Itoa(o.ID),
		"--root", o.Dir,
		"--listen", o.Listen,
		"--export-listen", o.ExportListen,
		"--gossip", o.Gossip,
		"--profile", "fast",
		"--log-format", "json",
		"--timeout", PeerTimeout.String())
	if len(o.Join) > 0 {
		a = append(a, "--join", strings.Join(o.Join, ","))
	}
	if o.Encrypt != "" && !o.NoKey {
		a = append(a, "--encrypt", o.Encrypt)
	}
	if o.KeyFile != "" && !o.NoKey {
		a = append(a, "--key-file", o.KeyFile)
	}
	if o.TLSDir != "" {
		a = append(a, "--tls-dir", o.TLSDir)
	}
	return append(a, o.Args...)
}

func (n *Node) start(bin string) error {
	args := n.args(bin)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = sysProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = cmd.Stderr
	p := &process{cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	n.proc = p
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		p.err = cmd.Wait()
		close(p.done)
	}()

	deadline := time.Now().Add(StartTimeout)
	for {
		if n.readAddrs() && n.logged("ready") {
			setKeyFile(n.GossipAddr, n.opts.KeyFile)
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("node %d exited (%v): %s", n.ID, p.err, n.lastLine())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %d not ready after %v", n.ID, StartTimeout)
		}
	}
}

// logEntry is the part of a JSON log line clusterutil reads.
type logEntry struct {
	Msg     string `json:"msg"`
	Service string `json:"service"`
	Addr    string `json:"addr"`
}

// entries returns the node's current process's JSON log lines.
func (n *Node) entries() []logEntry {
	p := n.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []logEntry
	for _, l := range p.lines {
		var e logEntry
		if json.Unmarshal([]byte(l), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// readAddrs fills the address fields from "listening" lines; it reports
// whether all three were found.
func (n *Node) readAddrs() bool {
	var ns, ex, g string
	for _, e := range n.entries() {
		if e.Msg != "listening" {
			continue
		}
		switch e.Service {
		case "namespace":
			if ns == "" {
				ns = e.Addr
			}
		case "export":
			ex = e.Addr
		case "gossip":
			g = e.Addr
		}
	}
	if ns == "" || ex == "" || g == "" {
		return false
	}
	n.Addr, n.ExportAddr, n.GossipAddr = ns, ex, g
	return true
}

// logged reports whether the current process logged a line with msg.
func (n *Node) logged(msg string) bool {
	for _, e := range n.entries() {
		if e.Msg == msg {
			return true
		}
	}
	return false
}

func (n *Node) lastLine() string {
	p := n.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) == 0 {
		return "(no output)"
	}
	return p.lines[len(p.lines)-1]
}

// Log returns everything the node's current process wrote.
func (n *Node) Log() string {
	if n.proc == nil {
		return ""
	}
	n.proc.mu.Lock()
	defer n.proc.mu.Unlock()
	return strings.Join(n.proc.lines, "\n")
}

// PID returns the process id of the node's current process (the one
// Restart started, after a restart), for reading its CPU time from /proc;
// 0 if it never started.
func (n *Node) PID() int {
	if n.proc == nil || n.proc.cmd.Process == nil {
		return 0
	}
	return n.proc.cmd.Process.Pid
}

// Running reports whether the node's process is alive.
func (n *Node) Running() bool {
	if n.proc == nil {
		return false
	}
	select {
	case <-n.proc.done:
		return false
	default:
		return true
	}
}

// Wait waits for the process to exit and returns its exit code and last
// log line. It fails the test if the process does not exit in StartTimeout.
func (n *Node) Wait(t testing.TB) (code int, last string) {
	t.Helper()
	select {
	case <-n.proc.done:
	case <-time.After(StartTimeout):
		t.Fatalf("node %d did not exit", n.ID)
	}
	code = 0
	var ee *exec.ExitError
	if errors.As(n.proc.err, &ee) {
		code = ee.ExitCode()
	}
	return code, n.lastLine()
}

// stop signals the process and waits; after StartTimeout it kills it.
func (n *Node) stop(sig syscall.Signal) {
	if !n.Running() {
		return
	}
	n.proc.cmd.Process.Signal(sig)
	select {
	case <-n.proc.done:
	case <-time.After(StartTimeout):
		n.proc.cmd.Process.Kill()
		<-n.proc.done
	}
}

// Stop sends SIGTERM (a graceful leave) and waits for the exit; the exit
// status must be 0.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	n.stop(syscall.SIGTERM)
	if code, last := n.Wait(t); code != 0 {
		t.Fatalf("node %d exited with %d after SIGTERM: %s", n.ID, code, last)
	}
}

// Kill sends SIGKILL (a crash) and waits for the exit.
func (n *Node) Kill(t testing.TB) {
	t.Helper()
	n.stop(syscall.SIGKILL)
}

// Restart starts the node again with the same id, directory and addresses
// (the ports it bound the first time), joining Join or else every given
// address.
func (n *Node) Restart(t testing.TB, join ...string) {
	t.Helper()
	if n.Running() {
		t.Fatalf("restart of node %d: still running", n.ID)
	}
	n.opts.Listen, n.opts.ExportListen, n.opts.Gossip = n.Addr, n.ExportAddr, n.GossipAddr
	if len(join) > 0 {
		n.opts.Join = join
	}
	if err := n.start(n.opts.binary(t)); err != nil {
		t.Fatal(err)
	}
}

// KeyFile returns the node's --key-file ("" with Encrypt or TLS).
func (n *Node) KeyFile() string { return n.opts.KeyFile }

// keyFiles are the key files of the nodes this process started, by
// gossip address.
var keyFiles = struct {
	sync.Mutex
	m map[string]string
}{m: make(map[string]string)}

func setKeyFile(gossip, file string) {
	keyFiles.Lock()
	defer keyFiles.Unlock()
	keyFiles.m[gossip] = file
}

// keyFileOf returns the key file of the node at a gossip address, or "".
func keyFileOf(gossip string) string {
	keyFiles.Lock()
	defer keyFiles.Unlock()
	return keyFiles.m[gossip]
}

// WorldBinary returns a copy of Binary that every user may run, in a
// directory every user may enter (the build directory is root's alone),
// for NodeOptions.Bin of a node run as another user.
func WorldBinary(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mfs-world-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "mfs")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
