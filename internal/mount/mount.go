package mount

import (
	gocontext "context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/cred"
	"mfs/namespace"
	"mfs/srv9p"
)

// Option configures a Mount.
type Option func(*config)

type config struct {
	log      *slog.Logger
	maxFids  int
	maxOpens int
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// MaxFids bounds the walked files kept for inodes the kernel knows
// (default 8192); past it, operations walk from the nearest kept parent.
func MaxFids(n int) Option { return func(c *config) { c.maxFids = n } }

// MaxOpensPerUser bounds the files and directories one user other than
// root holds open through the mount (default: a quarter of the node's
// descriptor limit); past it an open is EMFILE.
func MaxOpensPerUser(n int) Option { return func(c *config) { c.maxOpens = n } }

// FSType is the file system type the mount shows in /proc/mounts.
const FSType = "fuse.mfs"

// Mount is a namespace mounted at a directory.
type Mount struct {
	ns     *namespace.Namespace
	dir    string
	log    *slog.Logger
	ctxs   *contexts
	fids   *fids
	locks  *lockTable
	opens  *opens
	server *fuse.Server
	// switchCreds: the node runs as root, so each request runs as its
	// caller; otherwise every request runs as the node's own user and
	// only that user may use the mount. self is root's credentials as the
	// node has them, made once: most requests of a root-run host are root's.
	switchCreds bool
	self        *cred.Cred

	mu    sync.Mutex
	roots map[rootKey]p9.File
}

// rootKey names an attach of the namespace: a user and a context.
type rootKey struct {
	uid uint32
	ctx context
}

// maxRoots bounds the cached attaches; past it the cache starts again
// (a namespace root holds nothing worth closing).
const maxRoots = 4096

// Start mounts ns at dir and serves it until Unmount. A dead mount left
// at dir by a killed node is unmounted first.
func Start(dir string, ns *namespace.Namespace, opts ...Option) (*Mount, error) {
	cfg := config{log: slog.New(slog.DiscardHandler), maxFids: 8192, maxOpens: defaultMaxOpens()}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkFUSE(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := clearStale(dir, cfg.log); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mount: %w", err)
	}
	m := &Mount{ns: ns, dir: dir, log: cfg.log, ctxs: newContexts(), fids: newFids(cfg.maxFids), locks: newLockTable(), opens: newOpens(cfg.maxOpens, cfg.log),
		switchCreds: os.Geteuid() == 0, self: cred.New(0, uint32(os.Getegid()), nil), roots: map[rootKey]p9.File{}}
	zero := timeout
	o := &fs.Options{
		EntryTimeout:    &zero,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
		// Mode 0 is mode 0 (chmod 0), not go-fuse's 0644 or 0755.
		NullPermissions: true,
		MountOptions: fuse.MountOptions{
			AllowOther:   m.switchCreds,
			FsName:       "mfs",
			Name:         "mfs",
			DirectMount:  m.switchCreds,
			MaxWrite:     1 << 20,
			MaxReadAhead: 1 << 20,
			EnableLocks:  true,
		},
	}
	raw := &rawFS{RawFileSystem: fs.NewNodeFS(&root{m: m}, o), locks: m.locks}
	srv, err := fuse.NewServer(raw, dir, &o.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		srv.Unmount()
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	m.server = srv
	return m, nil
}

// Dir returns the mount point.
func (m *Mount) Dir() string { return m.dir }

// Unmount unmounts the file system (lazily if it is busy) and closes
// every file the mount held.
func (m *Mount) Unmount() error {
	err := m.server.Unmount()
	if err != nil {
		if err2 := unix.Unmount(m.dir, unix.MNT_DETACH); err2 == nil {
			err = nil
		}
	}
	m.server.Wait()
	m.locks.closeAll()
	m.fids.closeAll()
	return err
}

// Wait returns when the mount is gone.
func (m *Mount) Wait() { m.server.Wait() }

// checkFUSE says in one line what is missing for a FUSE mount.
func checkFUSE() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return errors.New("mount: /dev/fuse is missing: this host cannot mount FUSE file systems (load the fuse module, or give the container the device)")
	}
	b, err := os.ReadFile("/proc/filesystems")
	if err == nil && !strings.Contains(string(b), "\tfuse\n") {
		return errors.New("mount: the kernel has no fuse file system (/proc/filesystems): load the fuse module")
	}
	return nil
}

// clearStale unmounts a FUSE mount of mfs at dir whose server is gone
// ("transport endpoint is not connected"); a live one is an error.
func clearStale(dir string, log *slog.Logger) error {
	if !IsMount(dir) {
		return nil
	}
	var st unix.Stat_t
	err := unix.Stat(dir, &st)
	if err == nil {
		return fmt.Errorf("mount: %s: already mounted by a running mfs node", dir)
	}
	if err != unix.ENOTCONN && err != unix.ECONNABORTED {
		return fmt.Errorf("mount: %s: %w", dir, err)
	}
	log.Warn("mount: replacing the mount a dead node left", slog.String("dir", dir))
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("mount: unmount the dead mount at %s: %w", dir, err)
	}
	return nil
}

// IsMount reports whether a node's FUSE mount (FSType) sits at dir, an
// absolute clean path.
func IsMount(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS … - FSTYPE SOURCE SUPER
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+1 >= len(f) {
			continue
		}
		if unescape(f[4]) == dir && f[sep+1] == FSType {
			return true
		}
	}
	return false
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// caller is who sent a request.
type caller struct {
	uid, gid uint32
	pid      int
	cred     *cred.Cred
}

// callerOf returns the caller of the request ctx belongs to.
func (m *Mount) callerOf(ctx gocontext.Context) (*caller, syscall.Errno) {
	fc, ok := fuse.FromContext(ctx)
	if !ok {
		return nil, syscall.EIO
	}
	c := &caller{uid: fc.Uid, gid: fc.Gid, pid: int(fc.Pid)}
	if !m.switchCreds {
		// Only the node's own user can reach a mount without
		// allow_other: run as ourselves.
		return c, 0
	}
	if c.uid == 0 && c.gid == m.self.GID {
		c.cred = m.self // root as the node is: nothing to switch
		return c, 0
	}
	var groups []int
	if c.uid != 0 && c.pid > 0 {
		// Read at every request, never cached: a thread id reused by
		// another process must not lend it the groups of the last.
		g, err := groupsOf(c.pid)
		if err != nil {
			// The caller is gone (or hidden): no supplementary groups.
			m.log.Debug("mount: caller's groups", slog.Int("pid", c.pid), slog.Any("err", err))
		}
		groups = g
	}
	c.cred = cred.New(c.uid, c.gid, groups)
	return c, 0
}

// do runs fn as the caller of ctx and returns its errno.
func (m *Mount) do(ctx gocontext.Context, fn func(c *caller) error) syscall.Errno {
	c, e := m.callerOf(ctx)
	if e != 0 {
		return e
	}
	if c.cred == nil {
		return errnoOf(fn(c))
	}
	var err error
	if rerr := cred.RunAs(c.cred, func() { err = fn(c) }); rerr != nil {
		m.log.Error("mount: switch credentials", slog.Uint64("uid", uint64(c.uid)), slog.Any("err", rerr))
		return syscall.EPERM
	}
	return errnoOf(err)
}

// rootFor returns the namespace root of uid in context ctx.
func (m *Mount) rootFor(uid uint32, ctx context) (p9.File, error) {
	k := rootKey{uid, ctx}
	m.mu.Lock()
	r, ok := m.roots[k]
	m.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := m.ns.AttachWith(srv9p.Attach{Name: ctx.attachName(), UID: p9.UID(uid)})
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if len(m.roots) >= maxRoots {
		m.roots = map[rootKey]p9.File{}
	}
	m.roots[k] = r
	m.mu.Unlock()
	return r, nil
}
