package vm

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Guest-side addresses of the forwarded host ports. restrict=on keeps the
// guest from reaching anything else.
const (
	guestHost   = "10.0.2.100"
	guestP9Port = 5640 // the 9P server under test (TCP transport)
	squashPort  = 5642 // the same export with --squash root
	oraclePort  = 5699 // the host oracle (oracle_test.go)
)

// vmConfig describes one boot: which transports the guest has and which
// phases (mounts plus suites, see guest/main.go) its workload runs.
type vmConfig struct {
	phases []string          // values of mfs.phase=, run in order
	fwds   map[int]string    // guest port on guestHost → host address (127.0.0.1:N)
	serial string            // host address the virtio port "p9" connects to; "" for none
	env    map[string]string // extra mfs.KEY=VALUE arguments for the workload
	// timeout bounds the whole boot; QEMU is killed when it passes.
	timeout time.Duration
}

// checkResult is one TAP line of the workload.
type checkResult struct {
	name   string
	ok     bool
	skip   bool // ok, but the check did not apply to the phase (detail says why)
	detail string
}

// bootLog is what a boot printed: the checks' results, whether the workload
// reached its final marker, and the console for diagnostics.
type bootLog struct {
	results []checkResult
	done    bool
	console []string
}

var (
	tapLine  = regexp.MustCompile(`^(not )?ok [0-9]+ - ([^:]+?)(?:: (.*))?$`)
	skipLine = regexp.MustCompile(`^ok [0-9]+ - ([^: ]+) # SKIP (.*)$`)
)

// boot runs one guest to completion and returns what it printed. It fails
// the test only for harness problems (QEMU not starting); a guest that never
// prints its final marker is reported by report.
func boot(t *testing.T, a *assets, c vmConfig) *bootLog {
	t.Helper()
	if c.timeout == 0 {
		c.timeout = 3 * time.Minute
	}
	if d, err := time.ParseDuration(os.Getenv("MFS_VM_TIMEOUT")); err == nil {
		c.timeout = d // for trying the timeout path
	}
	cmdline := []string{"console=ttyS0", "panic=-1", "quiet", "loglevel=4"}
	args := []string{
		"-nodefaults", "-no-user-config",
		"-machine", "pc,accel=" + accel(), "-cpu", "max", "-m", "1024", "-smp", "1",
		"-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", a.kernel, "-initrd", a.initrd,
	}
	if len(c.fwds) > 0 {
		netdev := "user,id=n0,restrict=on"
		for gp, host := range c.fwds {
			// ",," escapes a comma inside the chardev spec of guestfwd.
			netdev += fmt.Sprintf(",guestfwd=tcp:%s:%d-tcp:%s,,nodelay=on", guestHost, gp, host)
		}
		args = append(args, "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0")
		cmdline = append(cmdline, "mfs.net=1")
	}
	if c.serial != "" {
		host, port, _ := strings.Cut(c.serial, ":")
		args = append(args, "-device", "virtio-serial-pci",
			"-chardev", fmt.Sprintf("socket,id=c0,host=%s,port=%s,nodelay=on", host, port),
			"-device", "virtserialport,chardev=c0,name=p9")
		cmdline = append(cmdline, "mfs.port=1")
	}
	for k, v := range c.env {
		cmdline = append(cmdline, "mfs."+k+"="+v)
	}
	for _, p := range c.phases {
		if strings.ContainsAny(p, " \t\n\"") {
			t.Fatalf("phase %q: no blanks or quotes on a kernel command line", p)
		}
		cmdline = append(cmdline, "mfs.phase="+p)
	}
	args = append(args, "-append", strings.Join(cmdline, " "))

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.qemu, args...)
	cmd.Stdin = nil // /dev/null
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start qemu: %v", err)
	}
	bl := &bootLog{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		fmt.Fprintln(logFile, line)
		bl.console = append(bl.console, line)
		switch {
		case strings.HasPrefix(line, "MFS-VM-DONE"):
			bl.done = true
		case strings.HasPrefix(line, "# "):
			t.Log(line)
		}
		if m := skipLine.FindStringSubmatch(line); m != nil {
			bl.results = append(bl.results, checkResult{name: m[1], ok: true, skip: true, detail: m[2]})
		} else if m := tapLine.FindStringSubmatch(line); m != nil {
			bl.results = append(bl.results, checkResult{name: m[2], ok: m[1] == "", detail: m[3]})
		}
	}
	werr := cmd.Wait()
	t.Logf("boot took %v (kernel %s, accel %s)", time.Since(start).Round(100*time.Millisecond), filepath.Base(a.kernel), accel())
	if ctx.Err() != nil {
		t.Errorf("guest did not finish within %v; QEMU killed", c.timeout)
	} else if werr != nil && !bl.done {
		t.Logf("qemu: %v", werr)
	}
	return bl
}

// accel is TCG: KVM on the machines this was built on fails inside QEMU
// (nested virtualisation: "failed to set MSR 0x10a", then a stuck vCPU with
// -cpu host). MFS_VM_KVM=1 tries KVM where it works.
func accel() string {
	if os.Getenv("MFS_VM_KVM") != "" {
		return "kvm"
	}
	return "tcg"
}

// knownFailure is a check that fails for a reason the server cannot fix (a
// gap of the p9 library): it is reported with t.Skip and the reason, and a
// pass is reported as an error so that the table never goes stale.
type knownFailure struct {
	check  string // check name (the last path element of the TAP name)
	reason string
}

// report turns a boot's results into subtests, one per check. Checks of a
// phase named "tmpfs" or "tmpfs-…" ran against the guest's tmpfs to
// validate the check itself: their failure is a harness bug, said so, and
// so is a skip there (a skip says the phase's dialect cannot express what
// the check wants, and tmpfs can express everything). A skip elsewhere is
// a skipped subtest with the guest's reason.
func report(t *testing.T, bl *bootLog, known []knownFailure) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range bl.results {
		r := r
		name := r.name
		for seen[name] {
			name += "#"
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			baseline := strings.HasPrefix(r.name, "tmpfs/") || strings.HasPrefix(r.name, "tmpfs-")
			var kf *knownFailure
			for i := range known {
				if baseline {
					break
				}
				if strings.HasSuffix(r.name, "/"+known[i].check) {
					kf = &known[i]
				}
			}
			switch {
			case r.skip && baseline:
				t.Errorf("check is wrong (skips on the guest's tmpfs): %s", r.detail)
			case r.skip:
				t.Skip(r.detail)
			case r.ok && kf != nil:
				t.Errorf("listed as a known failure (%s) but passes now: remove it from the table", kf.reason)
			case r.ok:
			case kf != nil:
				t.Skipf("known failure: %s (guest: %s)", kf.reason, r.detail)
			case baseline:
				t.Errorf("check is wrong (fails on the guest's tmpfs too): %s", r.detail)
			default:
				t.Error(r.detail)
			}
		})
	}
	if !bl.done {
		for i := len(bl.console) - 1; i >= 0; i-- {
			if name, found := strings.CutPrefix(bl.console[i], "MFS-VM-RUN "); found {
				t.Errorf("the guest stopped in check %s", name)
				break
			}
		}
		tail := bl.console
		if len(tail) > 60 {
			tail = tail[len(tail)-60:]
		}
		t.Errorf("guest never printed MFS-VM-DONE; last console lines:\n%s", strings.Join(tail, "\n"))
	}
}
