package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// Exit statuses of `mfs run`, as env(1) has them: its own failures
// (usage errors included), a CMD that cannot be run, a CMD not found.
// Otherwise mfs run exits with CMD's status, 128+N when a signal N ended it.
const (
	runStatusFailed      = 125
	runStatusCannotRun   = 126
	runStatusNotFound    = 127
	runMSize             = 1 << 20
	runDefaultMountPoint = "/mfs"
)

// runCommand is `mfs run`: CMD and its children get a mount namespace of
// their own with the node's namespace on --mnt, attached with their own
// home and selected node (MOSIX's per-process context).
func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a command with its own home and selected node under /mfs (needs root)",
		UsageText: "mfs run [--home N] [--select N] [--mnt /mfs] [--addr ADDR] [--user NAME] -- CMD [ARGS…]",
		Description: `Run CMD in a private mount namespace (the host's later mounts still
propagate into it) with the node's namespace mounted on --mnt by the
kernel's 9p client (version=9p2000.L, access=user, cache=none), attached
as home=N/selected=M. CMD and every process it starts see their own
/mfs/home and /mfs/selected; "echo select N > /mfs/ctl" changes the
selection of that tree only. Nothing is mounted outside the tree.

A nested mfs run (inside a tree, as root again) inherits the tree's
context from --mnt's ctl: home unless --home is given, and selected too
when neither flag is. Outside a tree home defaults to the node mounted
and selected to home.

--addr is unix:/path (trans=unix; default: the local node's socket,
/run/mfs/mfs.sock) or host[:port] (trans=tcp, port 564 if left out; a
name is resolved to an IP address here).

Needs root (CAP_SYS_ADMIN) to mount, as MOSIX's mosrun did. CMD runs as
--user (name or uid), or as the invoking user when started through sudo
($SUDO_UID, $SUDO_GID), with that user's groups; else as root. A missing
--mnt is created with mkdir on the real disk (mkdir is not namespaced).

Exit status, as env(1): 125 when mfs run itself fails (usage errors
included, not 2 as elsewhere in mfs), 126 when CMD cannot be run, 127
when it is not found, otherwise CMD's (128+N when signal N ended it).

Examples:
  sudo mfs run --home 2 --select 3 -- sh
  sudo mfs run --addr 10.0.0.5 --select 4 --user alice -- make -j8`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return runFailf("%v (see mfs run --help)", err)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "home", Usage: "home node `N` of CMD's tree"},
			&cli.StringFlag{Name: "select", Usage: "selected node `N` of CMD's tree"},
			&cli.StringFlag{Name: "mnt", Value: runDefaultMountPoint, Usage: "mount point (created on the real disk if missing)"},
			&cli.StringFlag{Name: "addr", Usage: "node to mount: unix:/path or host[:port] (default: the local node's socket)"},
			&cli.StringFlag{Name: "user", Usage: "run CMD as this user (name or uid) with its groups"},
		},
		Action: func(c *cli.Context) error {
			spec, err := runSpecOf(c)
			if err != nil {
				return err
			}
			os.Exit(runOuter(spec))
			return nil
		},
	}
}

// runInnerCommand is the hidden second step of `mfs run`, in the new mount
// namespace: mount, drop privileges, exec CMD.
func runInnerCommand() *cli.Command {
	return &cli.Command{
		Name:            runInnerName,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			return runInner(c.Args().Slice())
		},
	}
}

// runInnerName is the hidden command the outer step re-executes, and
// runSpecEnv the environment variable carrying its runSpec (removed before
// CMD runs).
const (
	runInnerName = "run-inner"
	runSpecEnv   = "MFS_RUN_SPEC"
)

// runSpec is what the outer step decided and the inner step carries out.
type runSpec struct {
	Mnt     string   // mount point
	Source  string   // mount(2) source: socket path or IP address
	Options string   // mount(2) data
	Drop    bool     // change to UID, GID, Groups before CMD
	UID     int      // user to run CMD as, when Drop
	GID     int      // group, when Drop
	Groups  []int    // supplementary groups, when Drop
	Argv    []string // CMD and its arguments
}

// statusError is an error of mfs run with the exit status it ends with.
type statusError struct {
	err    error
	status int
}

func (e *statusError) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e *statusError) Unwrap() error { return e.err }

// ExitCode implements cli.ExitCoder.
func (e *statusError) ExitCode() int { return e.status }

// runFailf is a failure of mfs run itself: "mfs run: …", status 125.
func runFailf(format string, a ...any) error {
	return commandErr("run", &statusError{err: fmt.Errorf(format, a...), status: runStatusFailed})
}

// runFail wraps err as a failure of mfs run with the given status.
func runFail(err error, status int) error {
	return commandErr("run", &statusError{err: err, status: status})
}

// runSpecOf checks the command line and the host and works out the mount.
func runSpecOf(c *cli.Context) (runSpec, error) {
	argv := c.Args().Slice()
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return runSpec{}, runFailf("no command to run (mfs run [flags] -- CMD [ARGS…])")
	}
	home, err := runNodeFlag(c, "home")
	if err != nil {
		return runSpec{}, err
	}
	sel, err := runNodeFlag(c, "select")
	if err != nil {
		return runSpec{}, err
	}
	mnt := c.String("mnt")
	if !filepath.IsAbs(mnt) {
		return runSpec{}, runFailf("--mnt %q: want an absolute path", mnt)
	}
	mnt = filepath.Clean(mnt)
	if err := runCheckHost(); err != nil {
		return runSpec{}, err
	}
	src, err := parseMountAddr(c.Context, c.String("addr"), net.DefaultResolver.LookupIPAddr)
	if err != nil {
		return runSpec{}, runFailf("--addr: %v", err)
	}
	if src.trans == "unix" {
		if fi, err := os.Stat(src.source); err != nil || fi.Mode()&os.ModeSocket == 0 {
			return runSpec{}, runFailf("no node socket at %s (is mfs node running? else give --addr)", src.source)
		}
	}
	if home == 0 {
		// A nested run: home from the tree it runs in, and selected
		// too unless --select is given.
		h, s := inheritedContext(mnt)
		home = h
		if sel == 0 {
			sel = s
		}
	}
	spec := runSpec{Mnt: mnt, Source: src.source, Options: mountOptions(src, runAName(home, sel)), Argv: argv}
	if err := runUserOf(c.String("user"), &spec); err != nil {
		return runSpec{}, err
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return runSpec{}, runFailf("mount point: %v", err)
	}
	return spec, nil
}

// runNodeFlag is the node number of --home or --select, 0 when not given.
func runNodeFlag(c *cli.Context, name string) (int, error) {
	if !c.IsSet(name) {
		return 0, nil
	}
	v := c.String(name)
	n, ok := parseNodeNumber(v)
	if !ok {
		return 0, runFailf("--%s %q: want a node number 1, 2, … (decimal, no sign or leading zero)", name, v)
	}
	return n, nil
}

// mountSource is how the kernel's 9p client reaches the node.
type mountSource struct {
	trans  string // "unix" or "tcp"
	source string // mount(2) source: the socket path, or an IP address
	port   string // for tcp
}

// parseMountAddr turns --addr into a mount source: "" is the local node's
// socket, "unix:/path" that socket, anything else host[:port] as `mfs 9p`
// takes it, with a host name resolved by lookup (the kernel takes an IP
// address only; IPv4 is preferred).
func parseMountAddr(ctx context.Context, addr string, lookup func(context.Context, string) ([]net.IPAddr, error)) (mountSource, error) {
	if addr == "" {
		addr = "unix:" + localSocket()
	}
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		if !filepath.IsAbs(p) {
			return mountSource{}, fmt.Errorf("address %q: want unix:/absolute/path", addr)
		}
		return mountSource{trans: "unix", source: filepath.Clean(p)}, nil
	}
	hp, err := normalizeAddr(addr)
	if err != nil {
		return mountSource{}, err
	}
	host, port, _ := net.SplitHostPort(hp)
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return mountSource{}, fmt.Errorf("address %q: port %q: want a number 1-65535", addr, port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return mountSource{}, fmt.Errorf("address %q: the kernel's 9p client takes no IPv6 zone", addr)
		}
		return mountSource{trans: "tcp", source: ip.String(), port: port}, nil
	}
	ips, err := lookup(ctx, host)
	if err != nil {
		return mountSource{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	var pick netip.Addr
	for _, a := range ips {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || a.Zone != "" {
			continue
		}
		ip = ip.Unmap()
		if ip.Is4() {
			pick = ip
			break
		}
		if !pick.IsValid() {
			pick = ip
		}
	}
	if !pick.IsValid() {
		return mountSource{}, fmt.Errorf("resolve %s: no usable address", host)
	}
	return mountSource{trans: "tcp", source: pick.String(), port: port}, nil
}

// runAName is the attach name for a context: "home=N/selected=M", an
// element left out when its node is 0 (the namespace's default).
func runAName(home, selected int) string {
	var elems []string
	if home != 0 {
		elems = append(elems, "home="+strconv.Itoa(home))
	}
	if selected != 0 {
		elems = append(elems, "selected="+strconv.Itoa(selected))
	}
	return strings.Join(elems, "/")
}

// mountOptions is the mount(2) data for the kernel's 9p client.
func mountOptions(src mountSource, aname string) string {
	opts := []string{"trans=" + src.trans}
	if src.port != "" {
		opts = append(opts, "port="+src.port)
	}
	opts = append(opts, "version=9p2000.L", "access=user", "cache=none", "msize="+strconv.Itoa(runMSize))
	if aname != "" {
		opts = append(opts, "aname="+aname)
	}
	return strings.Join(opts, ",")
}

// inheritedContext is the home and selected node of the mfs tree mounted
// on mnt, read from its ctl; 0, 0 when there is none.
func inheritedContext(mnt string) (home, selected int) {
	b, err := os.ReadFile(filepath.Join(mnt, "ctl"))
	if err != nil {
		return 0, 0
	}
	_, home, selected, ok := parseCtl(string(b))
	if !ok {
		return 0, 0
	}
	return home, selected
}

// parseCtl parses a namespace ctl file: "here H home H selected S\n".
func parseCtl(s string) (here, home, selected int, ok bool) {
	f := strings.Fields(s)
	if len(f) != 6 || f[0] != "here" || f[2] != "home" || f[4] != "selected" {
		return 0, 0, 0, false
	}
	var nums [3]int
	for i, v := range []string{f[1], f[3], f[5]} {
		n, good := parseNodeNumber(v)
		if !good {
			return 0, 0, 0, false
		}
		nums[i] = n
	}
	return nums[0], nums[1], nums[2], true
}

// errNotRoot is mfs run started without root.
var errNotRoot = errors.New("needs root (CAP_SYS_ADMIN) to mount, as MOSIX's mosrun did")

// runUserOf sets whom CMD runs as: --user (a name or a uid; a uid with no
// passwd entry runs with its own number as group), else the user who
// started mfs run through sudo, else root.
func runUserOf(name string, spec *runSpec) error {
	var u *user.User
	var err error
	switch {
	case name != "":
		u, err = user.Lookup(name)
		if n, nerr := strconv.Atoi(name); err != nil && nerr == nil && n >= 0 {
			if u, err = user.LookupId(name); err != nil {
				// A uid without a passwd entry: its own group, no others.
				spec.Drop, spec.UID, spec.GID, spec.Groups = true, n, n, []int{n}
				return nil
			}
		}
		if err != nil {
			return runFailf("--user %s: %v", name, err)
		}
	case os.Getenv("SUDO_UID") != "":
		uid, err := strconv.Atoi(os.Getenv("SUDO_UID"))
		if err != nil || uid < 0 {
			return runFailf("$SUDO_UID %q: not a uid", os.Getenv("SUDO_UID"))
		}
		gid, err := strconv.Atoi(os.Getenv("SUDO_GID"))
		if err != nil || gid < 0 {
			return runFailf("$SUDO_GID %q: not a gid", os.Getenv("SUDO_GID"))
		}
		spec.Drop, spec.UID, spec.GID, spec.Groups = true, uid, gid, []int{gid}
		if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
			spec.Groups = userGroups(u, gid)
		}
		return nil
	default:
		return nil
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return runFailf("--user %s: uid %q: %v", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return runFailf("--user %s: gid %q: %v", name, u.Gid, err)
	}
	spec.Drop, spec.UID, spec.GID, spec.Groups = true, uid, gid, userGroups(u, gid)
	return nil
}

// userGroups is u's supplementary groups, with its primary group gid.
func userGroups(u *user.User, gid int) []int {
	groups := []int{gid}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := strconv.Atoi(id); err == nil && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	return groups
}
