//go:build linux

// Command guest is the workload of the VM tests (tests/vm). It runs as a
// child of the guest's init, mounts 9P file systems with the kernel's v9fs
// client as the kernel command line says, checks exact syscall results on
// them, and prints one TAP-like line per check:
//
//	ok 3 - tcp/export/rename-file-over-file
//	not ok 4 - tcp/export/xattr: getxattr user.mfs: got ENODATA, want "v1"
//	ok 5 - tcp-9p2000/symlink-readlink # SKIP 9P2000 has no symlinks …
//
// then "MFS-VM-DONE". The host test turns the lines into subtests. A check
// skips (see skip) only where the phase's 9P dialect cannot express what
// it tests, and says why.
//
// Every 9P phase also checks, from its line in /proc/mounts, that the
// msize and the dialect (version=) it asked for were negotiated.
//
// Each mfs.phase= argument of the kernel command line is one phase:
//
//	NAME;SUITE;SOURCE;OPTIONS[;SCRATCH]
//
// SOURCE "tmpfs" runs the suite on a directory of the guest's tmpfs (no
// mount: this validates the checks themselves on a local file system);
// otherwise SOURCE and OPTIONS are mount(2)'s source and 9p options, and the
// suite runs under /mnt/NAME. Suites are listed in suites (checks.go). Each
// check gets a scratch directory SCRATCH/NAME/CHECK below the mount root
// (SCRATCH defaults to the mfs.scratch argument, or nothing).
//
// "guest local NAME SUITE ROOT HOSTDIR [KEY=VALUE ...]" runs one suite on
// a directory already there (a FUSE mount of the namespace, see local.go),
// mounting nothing and reading no /proc/cmdline.
//
// The same binary is the second process of the lock checks ("guest lock
// ..."), started with fork/exec.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "lock" {
		os.Exit(lockHelper(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "local" {
		os.Exit(runLocal(os.Args[2:]))
	}
	if len(os.Args) < 2 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: guest run | guest local NAME SUITE ROOT HOSTDIR [KEY=VALUE ...] | guest lock OP FILE ...")
		os.Exit(2)
	}
	unix.Umask(0)
	debug.SetGCPercent(50)
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		fmt.Println("# read /proc/cmdline:", err)
	}
	args := map[string]string{}
	var phases []phase
	for _, f := range strings.Fields(string(cmdline)) {
		k, v, _ := strings.Cut(f, "=")
		if !strings.HasPrefix(k, "mfs.") {
			continue
		}
		if k == "mfs.phase" {
			p, err := parsePhase(v)
			if err != nil {
				fmt.Printf("# bad phase %q: %v\n", v, err)
				continue
			}
			phases = append(phases, p)
			continue
		}
		args[strings.TrimPrefix(k, "mfs.")] = v
	}
	t := &tap{}
	for _, p := range phases {
		start := time.Now()
		runPhase(t, p, args)
		fmt.Printf("# phase %s took %v\n", p.name, time.Since(start).Round(time.Millisecond))
	}
	t.result("kernel/log", kernelLog())
	fmt.Println("MFS-VM-DONE")
}

// tap numbers and prints results.
type tap struct{ n int }

func (t *tap) result(name string, err error) {
	t.n++
	if err == nil {
		fmt.Printf("ok %d - %s\n", t.n, name)
		return
	}
	if s, isSkip := err.(skipped); isSkip {
		fmt.Printf("ok %d - %s # SKIP %s\n", t.n, name, strings.ReplaceAll(s.reason, "\n", " | "))
		return
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " | ")
	fmt.Printf("not ok %d - %s: %s\n", t.n, name, msg)
}

// phase is one mount (or the tmpfs baseline) and the suite run on it.
type phase struct {
	name, suite, source, opts string
	scratch                   string
}

func parsePhase(v string) (phase, error) {
	f := strings.Split(v, ";")
	if len(f) != 4 && len(f) != 5 {
		return phase{}, fmt.Errorf("want NAME;SUITE;SOURCE;OPTIONS[;SCRATCH]")
	}
	p := phase{name: f[0], suite: f[1], source: f[2], opts: f[3]}
	if len(f) == 5 {
		p.scratch = f[4]
	}
	if _, ok := suites[p.suite]; !ok {
		return phase{}, fmt.Errorf("no suite %q", p.suite)
	}
	return p, nil
}

func (p phase) mountpoint() string { return "/mnt/" + p.name }

func (p phase) mount() error {
	if err := os.MkdirAll(p.mountpoint(), 0o755); err != nil {
		return err
	}
	if err := unix.Mount(p.source, p.mountpoint(), "9p", 0, p.opts); err != nil {
		return fmt.Errorf("mount -t 9p -o %s %s %s: %w", p.opts, p.source, p.mountpoint(), err)
	}
	return nil
}

func (p phase) unmount() error {
	if err := unix.Unmount(p.mountpoint(), 0); err != nil {
		return fmt.Errorf("umount %s: %w", p.mountpoint(), err)
	}
	return nil
}

// runPhase mounts, runs every check of the suite in its own scratch
// directory, and unmounts. A failed mount is one failed check; the suite's
// checks are then not run (and not reported).
func runPhase(t *tap, p phase, args map[string]string) {
	var root string
	var host hostView
	if p.source == "tmpfs" {
		root = "/tmp/" + p.name
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.result(p.name+"/mount", err)
			return
		}
		host = localView{root}
	} else {
		if err := p.mount(); err != nil {
			t.result(p.name+"/mount", err)
			return
		}
		t.result(p.name+"/mount", nil)
		if want := optValue(p.opts, "msize"); want != "" {
			t.result(p.name+"/msize-negotiated", checkMsize(p.mountpoint(), want))
		}
		t.result(p.name+"/dialect-negotiated", checkDialect(p.mountpoint(), phaseDialect(p.opts)))
		root = p.mountpoint()
		host = newOracle(args["oracle"], args["hostroot"])
	}
	base := p.name
	r := p.scratch
	if r == "" {
		r = args["scratch"]
	}
	if r != "" && p.source != "tmpfs" {
		base = r + "/" + p.name
	}
	fsName := fs9P
	if p.source == "tmpfs" {
		fsName = fsTmpfs
	}
	runSuite(t, p, fsName, root, base, host, args)
	if p.source != "tmpfs" {
		if err := p.unmount(); err != nil {
			t.result(p.name+"/umount", err)
		}
	}
}

// runSuite runs every check of p's suite in its own scratch directory
// root/base/CHECK (made unless the check says noScratch) and reports it
// as p.name/CHECK. On tmpfs the noTmpfs checks are left out.
func runSuite(t *tap, p phase, fsName, root, base string, host hostView, args map[string]string) {
	for _, c := range suites[p.suite] {
		rel := base + "/" + c.name
		e := &env{phase: p, fs: fsName, root: root, rel: rel, dir: root + "/" + rel, host: host, args: args}
		if fsName == fsTmpfs && c.noTmpfs {
			continue
		}
		if !c.noScratch {
			if err := os.MkdirAll(e.dir, 0o755); err != nil {
				t.result(p.name+"/"+c.name, fmt.Errorf("scratch dir: %w", err))
				continue
			}
		}
		// Names the check on the console, so that a hung boot says
		// which check it hung in.
		fmt.Printf("MFS-VM-RUN %s/%s\n", p.name, c.name)
		start := time.Now()
		err := runCheck(c, e)
		if d := time.Since(start); d > 2*time.Second {
			fmt.Printf("# %s/%s took %v\n", p.name, c.name, d.Round(100*time.Millisecond))
		}
		t.result(p.name+"/"+c.name, err)
	}
}

// runCheck runs one check, turning a panic into a failure so that one bad
// check does not end the boot.
func runCheck(c check, e *env) (err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case failure:
			err = errors.New(r.msg)
		case skipped:
			err = r
		default:
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	c.fn(e)
	return nil
}

// optValue returns the value of key in a mount option string.
func optValue(opts, key string) string {
	for _, o := range strings.Split(opts, ",") {
		if k, v, _ := strings.Cut(o, "="); k == key {
			return v
		}
	}
	return ""
}

// checkMsize reads the msize the client settled on from /proc/mounts: the
// server must have granted the one asked for (mfs allows up to 4 MiB).
func checkMsize(mountpoint, want string) error {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || f[1] != mountpoint {
			continue
		}
		if got := optValue(f[3], "msize"); got != want {
			return fmt.Errorf("msize in /proc/mounts: got %q, want %s (%s)", got, want, f[3])
		}
		return nil
	}
	return fmt.Errorf("%s not in /proc/mounts", mountpoint)
}

// checkDialect reads the dialect the client settled on from the mount's
// line in /proc/mounts (printed as a comment for the record): the server
// must have answered Tversion with the one asked for. A server may answer
// an older dialect than the client's, and the kernel mounts with that.
func checkDialect(mountpoint, want string) error {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || f[1] != mountpoint {
			continue
		}
		fmt.Printf("# /proc/mounts: %s\n", l)
		if got := mountDialect(f[3]); got != want {
			return fmt.Errorf("/proc/mounts shows %s, want %s (%s)", got, want, f[3])
		}
		return nil
	}
	return fmt.Errorf("%s not in /proc/mounts", mountpoint)
}

// mountDialect is the dialect a v9fs mount's options in /proc/mounts
// name. Linux prints the negotiated one (p9_show_client_options in
// net/9p/client.c): "version=9p2000.u" for 9P2000.u, "noextend" for
// 9P2000, and nothing for 9P2000.L, its default.
func mountDialect(opts string) string {
	u, plain := false, false
	for _, o := range strings.Split(opts, ",") {
		switch {
		case o == "version=9p2000.u":
			u = true
		case o == "noextend":
			plain = true
		case strings.HasPrefix(o, "version="):
			return "unexpected " + o
		}
	}
	switch {
	case u && plain:
		return "both version=9p2000.u and noextend"
	case u:
		return dialectU
	case plain:
		return dialectPlan9
	}
	return dialectL
}

// kernelLog prints the kernel's warnings and worse from this boot and fails
// if any of them is a BUG, an Oops, a WARNING or a 9P complaint (v9fs
// logs protocol trouble it otherwise hides behind an errno).
func kernelLog() error {
	buf := make([]byte, 1<<20)
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		return fmt.Errorf("klogctl: %w", err)
	}
	var bad []string
	for _, l := range strings.Split(string(buf[:n]), "\n") {
		if len(l) < 3 || l[0] != '<' || l[2] != '>' || l[1] > '4' {
			continue
		}
		fmt.Println("# kernel:", l)
		for _, w := range []string{"BUG", "Oops", "WARNING", "Call Trace", "9p", "9P", "v9fs"} {
			if strings.Contains(l, w) {
				bad = append(bad, l)
				break
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("kernel log: %s", strings.Join(bad, " | "))
	}
	return nil
}
