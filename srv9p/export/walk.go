package export

import (
	"os"
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/srv9p"
)

// walkHow opens one name below a directory descriptor without following
// any symlink (a trailing one is opened itself, as O_PATH|O_NOFOLLOW) and
// without leaving the directory.
var walkHow = unix.OpenHow{
	Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
}

// Walk implements p9.File.Walk for files that are not directories: only the
// empty walk (a clone) works.
func (n *node) Walk(names []string) ([]p9.QID, p9.File, error) {
	if len(names) > 0 {
		return nil, nil, linux.ENOTDIR
	}
	f, err := n.clone()
	return nil, f, err
}

// WalkGetAttr implements p9.File.WalkGetAttr for files that are not
// directories.
func (n *node) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	if len(names) > 0 {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, linux.ENOTDIR
	}
	f, err := n.clone()
	if err != nil {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	_, valid, attr, err := n.GetAttr(p9.AttrMaskAll)
	if err != nil {
		f.Close()
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	return nil, f, valid, attr, nil
}

// Walk implements p9.File.Walk. Symlinks are never followed: walking to one
// returns the link. "." and ".." work for direct callers (the p9 server
// rejects them); ".." of the root is the root.
func (d *dir) Walk(names []string) ([]p9.QID, p9.File, error) {
	qids, f, _, err := d.walk(names, false)
	return qids, f, err
}

// WalkGetAttr implements p9.File.WalkGetAttr with the statx the walk needs
// anyway.
func (d *dir) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	qids, f, stx, err := d.walk(names, true)
	if err != nil {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	valid, attr := attrOf(&stx)
	return qids, f, valid, attr, nil
}

// walk walks names from d and returns the QIDs, the file reached and its
// statx. A clone (no names) asks for no statx unless getattr is set:
// Walk's callers (the server for every clone walk, which the Linux client
// sends on each open and getxattr) do not use it.
func (d *dir) walk(names []string, getattr bool) ([]p9.QID, p9.File, unix.Statx_t, error) {
	var stx unix.Statx_t
	if len(names) == 0 {
		f, err := d.clone()
		if err == nil && getattr {
			err = errno(statx(d.fd, &stx))
		}
		if err != nil && f != nil {
			f.Close()
			f = nil
		}
		return nil, f, stx, err
	}
	qids := make([]p9.QID, 0, len(names))
	cur, curKey, curMode := d.fd, d.key, d.mode
	for _, name := range names {
		if curMode != unix.S_IFDIR {
			err := linux.ENOTDIR
			if cur != d.fd {
				unix.Close(cur)
			}
			return nil, nil, stx, err
		}
		next, err := d.e.walkOne(cur, curKey, name, &stx)
		if cur != d.fd {
			unix.Close(cur)
		}
		if err != nil {
			return nil, nil, stx, err
		}
		cur, curKey, curMode = next, keyOf(&stx), uint32(stx.Mode)&unix.S_IFMT
		qids = append(qids, d.e.qidOf(&stx))
	}
	return qids, d.e.newFile(cur, &stx), stx, nil
}

// walkOne opens name below the directory descriptor dfd (whose identity is
// key) as a new O_PATH descriptor and fills stx.
func (e *export) walkOne(dfd int, key devIno, name string, stx *unix.Statx_t) (int, error) {
	var fd int
	var err error
	switch {
	case name == "" || strings.IndexByte(name, '/') >= 0:
		return -1, linux.EINVAL
	case name == ".":
		fd, err = unix.FcntlInt(uintptr(dfd), unix.F_DUPFD_CLOEXEC, 0)
	case name == "..":
		fd, err = e.parentOf(dfd, key)
	default:
		if e.excluded(key, name) {
			return -1, linux.ENOENT
		}
		fd, err = openat2(dfd, name, &walkHow)
	}
	if err != nil {
		return -1, errno(err)
	}
	if err := statx(fd, stx); err != nil {
		unix.Close(fd)
		return -1, errno(err)
	}
	return fd, nil
}

// parentOf opens the parent of the directory dfd, or the directory itself
// if it is the export root. A directory that has been moved out of the
// export by the host has no parent inside it: ENOENT.
func (e *export) parentOf(dfd int, key devIno) (int, error) {
	if key == e.rootKey {
		return unix.FcntlInt(uintptr(dfd), unix.F_DUPFD_CLOEXEC, 0)
	}
	pfd, err := unix.Openat(dfd, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// Climb until the root (inside) or the top of the host tree (outside).
	cur := pfd
	defer func() {
		if cur != pfd {
			unix.Close(cur)
		}
	}()
	var stx unix.Statx_t
	for {
		if err := statx(cur, &stx); err != nil {
			unix.Close(pfd)
			return -1, err
		}
		k := keyOf(&stx)
		if k == e.rootKey {
			return pfd, nil
		}
		up, err := unix.Openat(cur, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(pfd)
			return -1, err
		}
		var ustx unix.Statx_t
		if err := statx(up, &ustx); err != nil || keyOf(&ustx) == k {
			unix.Close(up)
			unix.Close(pfd)
			return -1, unix.ENOENT
		}
		if cur != pfd {
			unix.Close(cur)
		}
		cur = up
	}
}

// openat2 is unix.Openat2 retried on EINTR and EAGAIN (openat2 may answer
// EAGAIN with RESOLVE_BENEATH while a rename races the lookup).
func openat2(dfd int, name string, how *unix.OpenHow) (int, error) {
	for try := 0; ; try++ {
		fd, err := unix.Openat2(dfd, name, how)
		if (err == unix.EINTR || err == unix.EAGAIN) && try < 100 {
			continue
		}
		return fd, err
	}
}

// LinkRoot implements LinkRoot: an absolute symlink target lands in the
// tree when it names a file below the directory's own host path.
func (d *dir) LinkRoot([]string) (int, string, bool) {
	p, err := os.Readlink(procPath(d.fd))
	if err != nil || !strings.HasPrefix(p, "/") {
		return 0, "", false
	}
	return 0, p, true
}

// StatEntries implements EntryStater with one statx of each name below the
// directory's descriptor.
func (d *dir) StatEntries(names []string) []srv9p.EntryStat {
	out := make([]srv9p.EntryStat, len(names))
	for i, name := range names {
		e := &out[i]
		e.QID, e.Attr, e.Target, e.Err = d.statEntry(name)
	}
	return out
}

// statEntry stats one name below the directory (the final name not
// followed, and a name is one component: nothing else is resolved), as
// walkOne would find it.
func (d *dir) statEntry(name string) (p9.QID, p9.Attr, string, error) {
	if name == "" || name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
		return p9.QID{}, p9.Attr{}, "", linux.EINVAL
	}
	if d.e.excluded(d.key, name) {
		return p9.QID{}, p9.Attr{}, "", linux.ENOENT
	}
	var stx unix.Statx_t
	if err := ignoringEINTR(func() error {
		return unix.Statx(d.fd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_SYNC_AS_STAT, statxMask, &stx)
	}); err != nil {
		return p9.QID{}, p9.Attr{}, "", errno(err)
	}
	_, attr := attrOf(&stx)
	var target string
	if stx.Mode&unix.S_IFMT == unix.S_IFLNK {
		t, err := readlinkat(d.fd, name)
		if err != nil {
			return p9.QID{}, p9.Attr{}, "", err
		}
		target = t
	}
	return d.e.qidOf(&stx), attr, target, nil
}

var _ srv9p.EntryStater = (*dir)(nil)
