package export

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// Option configures an export.
type Option func(*config)

type config struct {
	readOnly bool
	exclude  []string
	log      *slog.Logger
}

// ReadOnly makes every mutating operation fail with EROFS: setattr, open for
// writing or truncating, create, mkdir, symlink, link, mknod, rename, unlink
// and setting or removing extended attributes.
func ReadOnly() Option { return func(c *config) { c.readOnly = true } }

// Exclude leaves the given paths out of the export: a walk to one fails with
// ENOENT, readdir does not list it, and nothing can be created, linked or
// renamed onto its name (EACCES). Paths are relative to the export root; an
// absolute path is taken as inside the root (so "/proc" of a whole-root
// export is the host's /proc). The parent directory of each path must exist
// when New runs; the path itself need not.
func Exclude(paths ...string) Option {
	return func(c *config) { c.exclude = append(c.exclude, paths...) }
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// DefaultExcludes returns the paths a whole-root export leaves out by
// default, like MOSIX MFS did: /proc, /sys and /dev when root is "/", nothing
// otherwise.
func DefaultExcludes(root string) []string {
	if filepath.Clean(root) != "/" {
		return nil
	}
	return []string{"/proc", "/sys", "/dev"}
}

// export is the state shared by every file of one export.
type export struct {
	root     int // O_PATH descriptor of the root directory
	rootKey  devIno
	readOnly bool
	qids     qidMap
	// exclude maps a directory to the names left out of it. It is built by
	// New and read-only afterwards.
	exclude map[devIno]map[string]bool
	log     *slog.Logger
}

// devIno identifies an inode on the host.
type devIno struct{ dev, ino uint64 }

// attacher is the p9.Attacher New returns.
type attacher struct{ e *export }

// New exports the directory root. The root is opened once, here; later
// renames of the root path on the host do not change what is exported.
func New(root string, opts ...Option) (p9.Attacher, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := checkProc(); err != nil {
		return nil, err
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("root %q: %w", root, err)
	}
	var stx unix.Statx_t
	if err := statOpened(fd, &stx); err != nil {
		return nil, fmt.Errorf("root %q: %w", root, err)
	}
	e := &export{
		root:     fd,
		rootKey:  keyOf(&stx),
		readOnly: c.readOnly,
		exclude:  make(map[devIno]map[string]bool),
		log:      c.log,
	}
	e.qids.init(e.rootKey.dev)
	for _, p := range c.exclude {
		if err := e.addExclude(p); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return &attacher{e: e}, nil
}

// checkProc makes sure /proc/self/fd is procfs: the server reopens O_PATH
// descriptors through it.
func checkProc() error {
	var sfs unix.Statfs_t
	if err := unix.Statfs("/proc/self/fd", &sfs); err != nil {
		return fmt.Errorf("/proc/self/fd: %w", err)
	}
	if sfs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("/proc/self/fd is not procfs")
	}
	return nil
}

// addExclude records the path p (relative to the root) as excluded: by the
// identity of its parent directory and its last name, so that a mount point
// is left out as reliably as a plain directory.
func (e *export) addExclude(p string) error {
	clean := strings.Trim(filepath.Clean("/"+p), "/")
	if clean == "" {
		return fmt.Errorf("exclude %q: cannot exclude the export root", p)
	}
	dir, name := filepath.Split(clean)
	dfd := e.root
	if dir != "" {
		fd, err := unix.Openat2(e.root, strings.TrimSuffix(dir, "/"), &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != nil {
			return fmt.Errorf("exclude %q: parent directory: %w", p, err)
		}
		defer unix.Close(fd)
		dfd = fd
	}
	var stx unix.Statx_t
	if err := statx(dfd, &stx); err != nil {
		return fmt.Errorf("exclude %q: %w", p, err)
	}
	k := keyOf(&stx)
	if e.exclude[k] == nil {
		e.exclude[k] = make(map[string]bool)
	}
	e.exclude[k][name] = true
	return nil
}

// excluded reports whether name in the directory dir is left out.
func (e *export) excluded(dir devIno, name string) bool {
	if len(e.exclude) == 0 {
		return false
	}
	return e.exclude[dir][name]
}

// Attach implements p9.Attacher.Attach. Every attach gets its own descriptor
// of the root.
func (a *attacher) Attach() (p9.File, error) {
	fd, err := unix.FcntlInt(uintptr(a.e.root), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, errno(err)
	}
	var stx unix.Statx_t
	if err := statOpened(fd, &stx); err != nil {
		return nil, errno(err)
	}
	return a.e.newFile(fd, &stx), nil
}

// errno turns a system call error into the linux.Errno the p9 server sends.
func errno(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(unix.Errno); ok {
		return linux.Errno(e)
	}
	return err
}
