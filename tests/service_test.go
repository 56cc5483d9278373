package tests

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// TestServiceUnit: `mfs gen systemd` is a unit systemd-analyze verify
// takes without a word (where systemd-analyze is installed): Type=notify,
// the environment file, Restart=on-failure, ExecStart running --bin; and
// `mfs gen env` names every flag of mfs node as its MFS_ variable.
func TestServiceUnit(t *testing.T) {
	bin := cliBuild(t)
	r := cliRun(t, nil, nil, "gen", "--bin", bin, "systemd")
	if r.code != 0 {
		t.Fatalf("mfs gen systemd: exit %d, %s", r.code, r.stderr)
	}
	for _, want := range []string{"\nType=notify\n", "\nEnvironmentFile=-/etc/default/mfs\n", "\nRestart=on-failure\n", "\nExecStart=" + bin + " node\n", "\nNoNewPrivileges=yes\n", "\nRuntimeDirectory=mfs\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	for _, bad := range []string{"\nProtectSystem=", "\nProtectHome=", "\nPrivateTmp="} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("unit sets %s, which hides or freezes part of the export of /", strings.TrimSpace(bad))
		}
	}
	if r := cliRun(t, nil, nil, "gen", "--bin", "bin/mfs", "systemd"); r.code != 2 {
		t.Errorf("relative --bin: exit %d, %q; want a usage error", r.code, r.stderr)
	}
	if sa, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed: the unit is not verified")
	} else {
		unit := filepath.Join(t.TempDir(), "mfs.service")
		if err := os.WriteFile(unit, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", "--man=no", unit).CombinedOutput()
		if err != nil || len(out) != 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}

	env := cliRun(t, nil, nil, "gen", "env")
	if env.code != 0 || !strings.Contains(env.stdout, "\nMFS_ID=") {
		t.Fatalf("mfs gen env: exit %d, %q", env.code, env.stderr)
	}
	help := cliRun(t, nil, nil, "node", "--help")
	for _, f := range strings.Fields(help.stdout) {
		if v, ok := strings.CutPrefix(f, "$MFS_"); ok {
			v = "MFS_" + strings.TrimRight(v, "],)")
			if !strings.Contains(env.stdout, "\n"+v+"=") && !strings.Contains(env.stdout, "\n#"+v+"=") {
				t.Errorf("mfs gen env lacks %s", v)
			}
		}
	}
}

// TestServiceInstall: `mk install PREFIX=x` (where mk is installed) puts
// the binary at x/bin/mfs, mode 755 whatever the umask, and the manual,
// the completion and the unit (running x/bin/mfs) under x; the unit
// verifies with the installed manual page.
func TestServiceInstall(t *testing.T) {
	mk, err := exec.LookPath("mk")
	if err != nil {
		if mk, err = exec.LookPath("/usr/lib/plan9/bin/mk"); err != nil {
			t.Skip("mk (9base) not installed")
		}
	}
	prefix := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", `umask 077 && exec "$0" "$@"`, mk, "PREFIX="+prefix, "BIN="+filepath.Join(prefix, "build"), "install")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mk install: %v\n%s", err, out)
	}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{
		{"bin/mfs", 0o755},
		{"share/man/man1/mfs.1", 0o644},
		{"share/bash-completion/completions/mfs", 0o644},
		{"lib/systemd/system/mfs.service", 0o644},
	} {
		fi, err := os.Stat(filepath.Join(prefix, f.name))
		if err != nil {
			t.Errorf("PREFIX/%s: %v", f.name, err)
			continue
		}
		if fi.Mode().Perm() != f.mode {
			t.Errorf("PREFIX/%s: mode %v, want %v", f.name, fi.Mode().Perm(), f.mode)
		}
	}
	unit := filepath.Join(prefix, "lib/systemd/system/mfs.service")
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nExecStart="+filepath.Join(prefix, "bin/mfs")+" node\n") {
		t.Errorf("installed unit does not run PREFIX/bin/mfs:\n%s", b)
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		cmd := exec.Command(sa, "verify", unit)
		cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(prefix, "share/man"))
		if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
			t.Errorf("systemd-analyze verify with the installed manual: %v\n%s", err, out)
		}
	}
}

// TestServiceNotify: a node started with $NOTIFY_SOCKET (as a Type=notify
// unit starts it) sends STATUS while joining, READY=1 once it serves, and
// STOPPING=1 on SIGTERM, each one datagram of the sd_notify protocol.
func TestServiceNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	cmd := exec.Command(cliBuild(t), "node", "--id", "1", "--root", t.TempDir(), "--listen", "127.0.0.1:0",
		"--export-listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0", "--profile", "fast", "--log-format", "json")
	cmd.Env = append(cliEnv(), "NOTIFY_SOCKET="+sock)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var log strings.Builder
	logged := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
		close(logged)
	}()
	next := func() string {
		t.Helper()
		pc.SetReadDeadline(time.Now().Add(clusterutil.StartTimeout))
		buf := make([]byte, 4096)
		n, _, err := pc.ReadFromUnix(buf)
		if err != nil {
			t.Fatalf("no notice from the node: %v", err)
		}
		return string(buf[:n])
	}
	if got := next(); got != "STATUS=joining the cluster" {
		t.Errorf("first notice %q", got)
	}
	if got := next(); got != "READY=1\nSTATUS=serving" {
		t.Errorf("second notice %q, want READY=1", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "STOPPING=1" {
		t.Errorf("notice after SIGTERM %q, want STOPPING=1", got)
	}
	<-logged
	if err := cmd.Wait(); err != nil {
		t.Errorf("node after SIGTERM: %v\n%s", err, log.String())
	}
}
