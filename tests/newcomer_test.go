package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// TestCLIErrnoTable: through a node's namespace, a node listed as failed
// (killed) is "host is down" and one that left (SIGTERM), or never was a
// member, is "no such file or directory" — the same for /N, an attach
// name, /selected after select, and ctl; each is one line on stderr and
// exit status 1.
func TestCLIErrnoTable(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 3})
	c.Node(2).Kill(t)
	c.Node(3).Stop(t)
	waitState(t, c, 1, 2, "failed")
	waitState(t, c, 1, 3, "left")
	addr := c.Node(1).Addr

	for _, tc := range []struct {
		node int
		want string
	}{
		{2, "host is down"},
		{3, "no such file or directory"},
		{9, "no such file or directory"},
	} {
		n := tc.node
		for _, args := range [][]string{
			{"ls", fmt.Sprintf("/%d", n)},
			{"read", fmt.Sprintf("/%d/node-%d.txt", n, n)},
			{"--aname", fmt.Sprintf("home=%d", n), "ls", "/"},
			{"--aname", fmt.Sprintf("selected=%d", n), "ls", "/"},
			{"--aname", fmt.Sprint(n), "ls", "/"},
			{"select", fmt.Sprint(n), "ls", "/selected"},
		} {
			t.Run(fmt.Sprintf("node %d %s", n, strings.Join(args, " ")), func(t *testing.T) {
				r := cliRun(t, nil, nil, append([]string{"9p", "--addr", addr}, args...)...)
				lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
				if r.code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "mfs 9p: ") {
					t.Fatalf("exit %d, stderr %q; want exit 1 and one line \"mfs 9p: …\"", r.code, r.stderr)
				}
				// The verbs that name a node (select, an attach name)
				// may say ENOENT in words of their own; the errno
				// text is the table's everywhere else.
				if (args[0] == "select" || strings.Contains(args[1], "=")) && n != 2 && strings.HasSuffix(lines[0], ": no such node") {
					return
				}
				if !strings.HasSuffix(lines[0], ": "+tc.want) {
					t.Errorf("stderr %q, want it to end in %q", lines[0], tc.want)
				}
			})
		}
	}
}

// nodeLogLine is a node's JSON log line, as far as the log test reads it.
type nodeLogLine struct {
	Level string  `json:"level"`
	Msg   string  `json:"msg"`
	ID    float64 `json:"id"`
	Node  float64 `json:"node"`
	Lib   string  `json:"lib"`
}

// infoAbout returns the messages of node's log lines at info level or
// above that name node id (an id or node attribute, or serf's node-ID).
func infoAbout(t *testing.T, log string, id int) []string {
	t.Helper()
	var msgs []string
	for _, l := range strings.Split(log, "\n") {
		var e nodeLogLine
		if !strings.HasPrefix(l, "{") {
			continue
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if e.Level == "DEBUG" {
			continue
		}
		if int(e.ID) == id || int(e.Node) == id || strings.Contains(e.Msg, fmt.Sprintf("node-%d ", id)) {
			msgs = append(msgs, e.Msg)
		}
	}
	return msgs
}

// TestNodeLogsOneLinePerEvent: a node's log has exactly one line at info
// level per membership event of another node (joined, then failed or
// left), none of serf's own event lines or memberlist's chatter above
// debug, no text said twice in one line, and a node that stops ends its
// log with "stopped".
func TestNodeLogsOneLinePerEvent(t *testing.T) {
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 3})
	c.Node(3).Stop(t)
	c.Node(2).Kill(t)
	waitState(t, c, 1, 3, "left")
	waitState(t, c, 1, 2, "failed")

	log := c.Node(1).Log()
	for _, tc := range []struct {
		id   int
		want []string
	}{
		{2, []string{"member joined", "member failed"}},
		{3, []string{"member joined", "member left"}},
	} {
		if got := infoAbout(t, log, tc.id); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("node 1's log at info about node %d: %q, want %q", tc.id, got, tc.want)
		}
	}
	doubled := regexp.MustCompile(`"msg":"([^"]{8,}): ([^"]+)"`)
	for _, l := range strings.Split(log, "\n") {
		var e nodeLogLine
		if json.Unmarshal([]byte(l), &e) != nil || e.Level == "DEBUG" {
			continue
		}
		if strings.Contains(e.Msg, "EventMember") || strings.HasPrefix(e.Msg, "Refuting") {
			t.Errorf("gossip library line above debug: %s", l)
		}
		if m := doubled.FindStringSubmatch(l); m != nil && strings.HasSuffix(m[1], m[2]) {
			t.Errorf("doubled text: %s", l)
		}
	}

	last := lastLine(c.Node(3).Log())
	var e nodeLogLine
	if json.Unmarshal([]byte(last), &e) != nil || e.Msg != "stopped" || e.Level != "INFO" {
		t.Errorf("node 3's last log line after SIGTERM: %s, want \"stopped\" at info", last)
	}
}

// TestGen: `mfs gen man` is a man page (it starts with its .TH line, has
// every section of one, describes each option once, and groff reads it
// without a warning), `mfs gen bash` a completion script
// that bash loads and that completes the 9p verbs; anything else is a
// usage error.
func TestGen(t *testing.T) {
	man := cliRun(t, nil, nil, "gen", "man")
	if man.code != 0 || !strings.HasPrefix(man.stdout, ".TH MFS 1") {
		t.Fatalf("mfs gen man: exit %d, %q…, stderr %q", man.code, man.stdout[:min(len(man.stdout), 80)], man.stderr)
	}
	// Every section of a manual page, in order; each option described
	// once (a connection flag shared by mfs 9p, its verbs and mfs members
	// among them), number options with a number, not ="".
	at := 0
	for _, sec := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"} {
		i := strings.Index(man.stdout, "\n.SH "+sec+"\n")
		if i < at {
			t.Errorf("mfs gen man: section %s missing or out of order", sec)
			continue
		}
		at = i
	}
	for _, want := range []string{"\\fB\\-\\-anon\\-gid\\fR \\fIN\\fR", ".BR mount (8)", ".BR diod (8)", ".BR 9p (1)", ".B MFS_ENCRYPT", "/run/mfs/mfs.sock"} {
		if !strings.Contains(man.stdout, want) {
			t.Errorf("mfs gen man lacks %q", want)
		}
	}
	for _, usage := range []string{
		"server address: host:port",  // --addr of mfs 9p, each verb, mfs members
		"give up on connecting, or",  // --timeout of the same
		"9P dialect to speak",        // --dialect
		"the anonymous user's group", // --anon-gid of mfs export, node, demo
	} {
		if n := strings.Count(man.stdout, usage); n != 1 {
			t.Errorf("mfs gen man describes %q %d times, want once", usage, n)
		}
	}
	if strings.Contains(man.stdout, `=""`) {
		t.Errorf(`mfs gen man shows an option as =""`)
	}
	if _, err := exec.LookPath("groff"); err == nil {
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(man.stdout)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
			t.Errorf("groff on mfs gen man: %v\n%s", err, out)
		}
	}

	bash := cliRun(t, nil, nil, "gen", "bash")
	if bash.code != 0 || !strings.Contains(bash.stdout, "9p") || !strings.Contains(bash.stdout, "complete -o bashdefault -o default -F _mfs mfs") {
		t.Fatalf("mfs gen bash: exit %d, stderr %q:\n%s", bash.code, bash.stderr, bash.stdout)
	}
	if _, err := exec.LookPath("bash"); err == nil {
		script := filepath.Join(t.TempDir(), "mfs.bash")
		if err := os.WriteFile(script, []byte(bash.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ words, want string }{
			{"mfs 9", "9p"},
			{"mfs 9p r", "read rm readlink"},
			{"mfs 9p --addr x ls -", "-l -d -R"},
			{"mfs tls c", "ca cert"},
		} {
			check := fmt.Sprintf(`source %q; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _mfs; echo "${COMPREPLY[*]}"`, script, tc.words)
			if strings.HasSuffix(tc.words, " ") {
				t.Fatal("no trailing spaces")
			}
			out, err := exec.Command("bash", "-c", check).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), tc.want) {
				t.Errorf("completing %q: %q, %v; want %q…", tc.words, out, err, tc.want)
			}
		}
	}

	for _, args := range [][]string{{"gen"}, {"gen", "zsh"}, {"gen", "man", "bash"}} {
		if r := cliRun(t, nil, nil, args...); r.code != 2 || !strings.HasPrefix(r.stderr, "mfs gen: ") {
			t.Errorf("mfs %s: exit %d, stderr %q; want 2, mfs gen: …", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// TestNodeAsOrdinaryUser: uid 1000 starts a node with no --listen, which
// serves the namespace on its own unix socket, and an address it may not
// bind is refused naming the flag to change.
func TestNodeAsOrdinaryUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as uid 1000")
	}
	e := newReadmeEnv(t, &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{}})
	root := filepath.Join(e.dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	base := "mfs node --id 1 --root " + root + " --profile fast "
	loopback := "--gossip 127.0.0.1:0 --export-listen 127.0.0.1:0 "

	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err == nil && strings.TrimSpace(string(b)) == "1024" {
		for _, tc := range []struct{ flags, want string }{
			{loopback + "--listen 127.0.0.1:564", "mfs node: namespace: listen 127.0.0.1:564: permission denied (ports below 1024 need root; use --listen unix:… or a port ≥ 1024)"},
			{"--gossip 127.0.0.1:0 --export-listen 127.0.0.1:564", "mfs node: export: listen 127.0.0.1:564: permission denied (ports below 1024 need root; use --export-listen unix:… or a port ≥ 1024)"},
			{"--gossip 127.0.0.1:564 --export-listen 127.0.0.1:0", "mfs node: gossip: listen 127.0.0.1:564: permission denied (ports below 1024 need root; use a port ≥ 1024)"},
		} {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			cmd := e.command(ctx, base+tc.flags)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			cancel()
			if code := cmd.ProcessState.ExitCode(); code != 1 || lastLine(stderr.String()) != tc.want {
				t.Errorf("%s: exit %d (%v), last line %q; want 1, %q", tc.flags, code, err, lastLine(stderr.String()), tc.want)
			}
		}
	} else {
		t.Log("ports below 1024 are not privileged here: bind errors not checked")
	}

	// With no --listen, the node serves its namespace on
	// $XDG_RUNTIME_DIR/mfs.sock, where mfs 9p finds it by default.
	cmd := e.command(context.Background(), "exec "+base+loopback+"--log-format json")
	var out diodSyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	sock := ""
	for _, kv := range e.env {
		if v, ok := strings.CutPrefix(kv, "XDG_RUNTIME_DIR="); ok {
			sock = filepath.Join(v, "mfs.sock")
		}
	}
	deadline := time.Now().Add(clusterutil.StartTimeout)
	for !strings.Contains(out.String(), `"msg":"ready"`) {
		if time.Now().After(deadline) {
			t.Fatalf("node as uid 1000 not ready:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), `"service":"namespace","addr":"unix:`+sock+`"`) {
		t.Errorf("namespace not on %s:\n%s", sock, out.String())
	}
	if got := e.run(t, "mfs 9p ls / (default address)", "mfs 9p ls /\n"); !strings.Contains(got, "here\n") {
		t.Errorf("mfs 9p ls / as uid 1000 against its own node: %q", got)
	}
	syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("node after SIGTERM: %v\n%s", err, out.String())
	}
	if last := lastLine(out.String()); !strings.Contains(last, `"msg":"stopped"`) {
		t.Errorf("last log line %q, want stopped", last)
	}
}
