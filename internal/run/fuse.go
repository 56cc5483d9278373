package run

import (
	"os"
	"path/filepath"
	"strconv"

	"mfs/internal/mount"
)

// OnFUSE reports whether mnt is a node's FUSE mount, whose context is
// per process: then `mfs run` needs neither root nor a mount namespace.
func OnFUSE(mnt string) bool {
	return filepath.IsAbs(mnt) && mount.IsMount(filepath.Clean(mnt))
}

// ExecFUSE carries out r on a FUSE mount: it writes "home N" and
// "select N" to the mount's ctl for this process, becomes --user if
// asked (root only), and execs CMD, which keeps this process's pid and so
// its context, handing it to its children. It returns only on failure.
func ExecFUSE(r Request) error {
	argv := r.Argv
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return Failf("no command to run (mfs run [flags] -- CMD [ARGS…])")
	}
	if r.Addr != "" {
		return Failf("--addr: %s is a node's FUSE mount, which serves its own node only", r.Mnt)
	}
	var spec Spec
	if err := userOf(r.User, &spec); err != nil {
		return err
	}
	if spec.Drop && os.Geteuid() != 0 {
		return Failf("--user: only root can run CMD as another user")
	}
	ctl := filepath.Join(filepath.Clean(r.Mnt), "ctl")
	for _, set := range []struct {
		cmd string
		f   NodeFlag
	}{{"home", r.Home}, {"select", r.Select}} {
		n, err := parseNode(set.cmd, set.f)
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if err := os.WriteFile(ctl, []byte(set.cmd+" "+strconv.Itoa(n)+"\n"), 0); err != nil {
			return Failf("%s %d: %v", set.cmd, n, err)
		}
	}
	spec.Argv = argv
	return spec.become()
}
