// Package run is `mfs run`: CMD and its children get a mount namespace of
// their own with a node's namespace mounted by the kernel's 9p client,
// attached with their own home and selected node (MOSIX's per-process
// context). Prepare works out the mount, Outer starts the inner step in a
// new mount namespace, and Inner, run there as the hidden command
// InnerCommand, mounts and execs CMD. Its errors name the subcommand
// "run" (package clierr) and carry the exit status (ExitCode).
package run

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

	"mfs/internal/clierr"
	"mfs/internal/ninep"
)

// Exit statuses of `mfs run`, as env(1) has them: its own failures
// (usage errors included), a CMD that cannot be run, a CMD not found.
// Otherwise mfs run exits with CMD's status, 128+N when a signal N ended it.
const (
	StatusFailed    = 125
	statusCannotRun = 126
	statusNotFound  = 127
)

// DefaultMountPoint is --mnt's default.
const DefaultMountPoint = "/mfs"

// mountMSize is the msize of the mount.
const mountMSize = 1 << 20

// InnerCommand is the hidden command the outer step re-executes, and
// specEnv the environment variable carrying its Spec (removed before
// CMD runs).
const (
	InnerCommand = "run-inner"
	specEnv      = "MFS_RUN_SPEC"
)

// Spec is what the outer step decided and the inner step carries out.
type Spec struct {
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

// Failf is a failure of mfs run itself: "mfs run: …", status 125
// (StatusFailed).
func Failf(format string, a ...any) error {
	return clierr.In("run", &statusError{err: fmt.Errorf(format, a...), status: StatusFailed})
}

// fail wraps err as a failure of mfs run with the given status.
func fail(err error, status int) error {
	return clierr.In("run", &statusError{err: err, status: status})
}

// Request is what `mfs run` was asked: its flags, and CMD with its
// arguments.
type Request struct {
	Home, Select NodeFlag // --home and --select
	Mnt          string   // --mnt
	Addr         string   // --addr; "" is the local node's socket
	User         string   // --user; "" when not given
	Argv         []string // CMD and its arguments, maybe after a "--"
}

// NodeFlag is a flag naming a node: its value, if it was given.
type NodeFlag struct {
	Given bool
	Value string
}

// Prepare checks the request and the host and works out the mount. Its
// errors are failures of mfs run (exit status 125).
func Prepare(ctx context.Context, r Request) (Spec, error) {
	argv := r.Argv
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return Spec{}, Failf("no command to run (mfs run [flags] -- CMD [ARGS…])")
	}
	home, err := parseNode("home", r.Home)
	if err != nil {
		return Spec{}, err
	}
	sel, err := parseNode("select", r.Select)
	if err != nil {
		return Spec{}, err
	}
	mnt := r.Mnt
	if !filepath.IsAbs(mnt) {
		return Spec{}, Failf("--mnt %q: want an absolute path", mnt)
	}
	mnt = filepath.Clean(mnt)
	if err := checkHost(); err != nil {
		return Spec{}, err
	}
	src, err := parseMountAddr(ctx, r.Addr, net.DefaultResolver.LookupIPAddr)
	if err != nil {
		return Spec{}, Failf("--addr: %v", err)
	}
	if src.trans == "unix" {
		if fi, err := os.Stat(src.source); err != nil || fi.Mode()&os.ModeSocket == 0 {
			return Spec{}, Failf("no node socket at %s (is mfs node running? else give --addr)", src.source)
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
	spec := Spec{Mnt: mnt, Source: src.source, Options: mountOptions(src, aname(home, sel)), Argv: argv}
	if err := userOf(r.User, &spec); err != nil {
		return Spec{}, err
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return Spec{}, Failf("mount point: %v", err)
	}
	return spec, nil
}

// parseNode is the node number of the flag --name, 0 when not given.
func parseNode(name string, f NodeFlag) (int, error) {
	if !f.Given {
		return 0, nil
	}
	n, ok := ninep.ParseNodeNumber(f.Value)
	if !ok {
		return 0, Failf("--%s %q: want a node number 1, 2, … (decimal, no sign or leading zero)", name, f.Value)
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
		addr = "unix:" + ninep.LocalSocket()
	}
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		if !filepath.IsAbs(p) {
			return mountSource{}, fmt.Errorf("address %q: want unix:/absolute/path", addr)
		}
		return mountSource{trans: "unix", source: filepath.Clean(p)}, nil
	}
	hp, err := ninep.NormalizeAddr(addr)
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

// aname is the attach name for a context: "home=N/selected=M", an
// element left out when its node is 0 (the namespace's default).
func aname(home, selected int) string {
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
	opts = append(opts, "version=9p2000.L", "access=user", "cache=none", "msize="+strconv.Itoa(mountMSize))
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
		n, good := ninep.ParseNodeNumber(v)
		if !good {
			return 0, 0, 0, false
		}
		nums[i] = n
	}
	return nums[0], nums[1], nums[2], true
}

// errNotRoot is mfs run started without root.
var errNotRoot = errors.New("needs root (CAP_SYS_ADMIN) to mount, as MOSIX's mosrun did")

// userOf sets whom CMD runs as: --user (a name or a uid; a uid with no
// passwd entry runs with its own number as group), else the user who
// started mfs run through sudo, else root.
func userOf(name string, spec *Spec) error {
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
			return Failf("--user %s: %v", name, err)
		}
	case os.Getenv("SUDO_UID") != "":
		uid, err := strconv.Atoi(os.Getenv("SUDO_UID"))
		if err != nil || uid < 0 {
			return Failf("$SUDO_UID %q: not a uid", os.Getenv("SUDO_UID"))
		}
		gid, err := strconv.Atoi(os.Getenv("SUDO_GID"))
		if err != nil || gid < 0 {
			return Failf("$SUDO_GID %q: not a gid", os.Getenv("SUDO_GID"))
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
		return Failf("--user %s: uid %q: %v", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return Failf("--user %s: gid %q: %v", name, u.Gid, err)
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
