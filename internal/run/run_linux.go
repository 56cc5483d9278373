package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Where checkHost looks for the kernel's 9p file system.
var (
	procFilesystems = "/proc/filesystems"
	modulesDir      = "/lib/modules"
)

// checkHost checks what mfs run needs before it starts anything: root,
// and a kernel with the 9p file system (built in, loaded, or a module the
// kernel loads by itself at the first mount).
func checkHost() error {
	if os.Geteuid() != 0 {
		return fail(errNotRoot, StatusFailed)
	}
	if !have9p(procFilesystems, modulesDir) {
		return Failf("the kernel has no 9p file system (v9fs, not in %s): load it with modprobe 9p", procFilesystems)
	}
	return nil
}

// have9p reports whether the kernel has 9p: listed in the filesystems file,
// or a 9p.ko module of the running kernel listed in modules.dep (mount(2)
// loads it as fs-9p).
func have9p(filesystems, modules string) bool {
	if b, err := os.ReadFile(filesystems); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "9p" {
				return true
			}
		}
	}
	var uts unix.Utsname
	if unix.Uname(&uts) != nil {
		return false
	}
	dep, err := os.ReadFile(filepath.Join(modules, unix.ByteSliceToString(uts.Release[:]), "modules.dep"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(dep), "\n") {
		mod, _, _ := strings.Cut(line, ":")
		if base := filepath.Base(mod); base == "9p.ko" || strings.HasPrefix(base, "9p.ko.") {
			return true
		}
	}
	return false
}

// Outer starts the inner step in a mount namespace of its own and
// returns the exit status mfs run ends with: the inner step's (CMD's), or
// 128+N when signal N ended it. SIGTERM and SIGHUP are passed on; SIGINT
// and SIGQUIT, which a terminal sends the whole process group, are not
// sent again. When the inner step cannot be started or waited for, the
// status is StatusFailed and err says why, for the caller to print.
func Outer(spec Spec) (status int, err error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return StatusFailed, Failf("%v", err)
	}
	cmd := exec.Command("/proc/self/exe", InnerCommand)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), specEnv+"="+string(b))
	// Cloneflags, not Unshareflags: with Unshareflags Go makes every mount
	// private, cutting the host's later mounts off; the inner step makes
	// them slaves instead.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return StatusFailed, Failf("start: %v", err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGTERM || s == syscall.SIGHUP {
					cmd.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return StatusFailed, Failf("wait: %v", err)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// Inner is the inner step, alone in its mount namespace: make the
// mounts slaves of the host's, mount the node's namespace, become the user
// and exec CMD.
func Inner(args []string) error {
	raw := os.Getenv(specEnv)
	if raw == "" || len(args) != 0 {
		return Failf("%s is a step of mfs run, not a command", InnerCommand)
	}
	os.Unsetenv(specEnv)
	var spec Spec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil || len(spec.Argv) == 0 {
		return Failf("bad %s", specEnv)
	}
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return Failf("make mounts slaves: %v", err)
	}
	if err := unix.Mount(spec.Source, spec.Mnt, "9p", unix.MS_NOSUID|unix.MS_NODEV, spec.Options); err != nil {
		return Failf("mount %s on %s: %v", spec.Source, spec.Mnt, err)
	}
	return spec.become()
}

// become drops to the spec's user when asked and execs CMD; it returns
// only on failure.
func (spec Spec) become() error {
	if spec.Drop {
		if err := syscall.Setgroups(spec.Groups); err != nil {
			return Failf("setgroups: %v", err)
		}
		if err := syscall.Setgid(spec.GID); err != nil {
			return Failf("setgid %d: %v", spec.GID, err)
		}
		if err := syscall.Setuid(spec.UID); err != nil {
			return Failf("setuid %d: %v", spec.UID, err)
		}
	}
	path, err := exec.LookPath(spec.Argv[0])
	if err != nil {
		return execError(spec.Argv[0], err)
	}
	err = syscall.Exec(path, spec.Argv, os.Environ())
	return execError(spec.Argv[0], err)
}

// execError is CMD failing to start: status 127 when it is not there,
// 126 when it is but cannot be run.
func execError(name string, err error) error {
	status := statusCannotRun
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		status = statusNotFound
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	return fail(fmt.Errorf("%s: %w", name, err), status)
}
