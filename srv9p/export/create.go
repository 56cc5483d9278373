package export

import (
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// checkNew vets a name about to be made in d: the export must be writable,
// the name a single component, and not one the export leaves out.
func (d *dir) checkNew(name string) error {
	if d.e.readOnly {
		return linux.EROFS
	}
	if err := checkName(name); err != nil {
		return err
	}
	if d.e.excluded(d.key, name) {
		return linux.EACCES
	}
	return nil
}

// checkName accepts exactly one path component. "." and ".." are left to
// the host, which refuses to make or remove them.
func checkName(name string) error {
	if name == "" {
		return linux.ENOENT
	}
	if strings.IndexByte(name, '/') >= 0 {
		return linux.EINVAL
	}
	return nil
}

// Create implements p9.File.Create. The file is made with O_CREAT|O_EXCL
// (a 9P create never opens an existing file) and O_NOFOLLOW, and opened with
// the client's flags; the returned file is already open.
func (d *dir) Create(name string, flags p9.OpenFlags, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.File, p9.QID, uint32, error) {
	if err := d.checkNew(name); err != nil {
		return nil, p9.QID{}, 0, err
	}
	fl := hostFlags(flags) | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW
	ofd, err := unix.Openat(d.fd, name, fl, uint32(perm)&07777)
	if err != nil {
		return nil, p9.QID{}, 0, errno(err)
	}
	fd, err := openRetry(procPath(ofd), unix.O_PATH|unix.O_CLOEXEC)
	if err != nil {
		unix.Close(ofd)
		return nil, p9.QID{}, 0, errno(err)
	}
	var stx unix.Statx_t
	if err := d.e.settle(fd, perm, uid, gid, &stx); err != nil {
		unix.Close(ofd)
		unix.Close(fd)
		return nil, p9.QID{}, 0, err
	}
	f := &file{node: node{e: d.e, fd: fd, key: keyOf(&stx), mode: unix.S_IFREG, ofd: ofd, oflags: fl}}
	return f, d.e.qidOf(&stx), 0, nil
}

// settle gives a new file the owner of its attach and the group from the
// message, where the server may (EPERM is ignored), and exactly the
// permissions asked for (the server's umask must not apply: the client has
// applied its user's umask already), then fills stx.
func (e *export) settle(fd int, perm p9.FileMode, uid p9.UID, gid p9.GID, stx *unix.Statx_t) error {
	if err := statx(fd, stx); err != nil {
		return errno(err)
	}
	changed := false
	if uid.Ok() && uint32(uid) != stx.Uid {
		g := -1
		if gid.Ok() && uint32(gid) != stx.Gid {
			g = int(gid)
		}
		err := unix.Fchownat(fd, "", int(uid), g, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
		switch err {
		case nil:
			changed = true
			if g >= 0 {
				stx.Gid = uint32(g)
			}
		case unix.EPERM:
			e.log.Debug("create: cannot set owner", "uid", uint32(uid))
		default:
			return errno(err)
		}
	}
	if gid.Ok() && uint32(gid) != stx.Gid {
		err := unix.Fchownat(fd, "", -1, int(gid), unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
		switch err {
		case nil:
			changed = true
		case unix.EPERM:
			e.log.Debug("create: cannot set group", "gid", uint32(gid))
		default:
			return errno(err)
		}
	}
	mode := uint32(stx.Mode) & unix.S_IFMT
	if mode != unix.S_IFLNK {
		want := uint32(perm) & 07777
		if mode == unix.S_IFDIR {
			want |= uint32(stx.Mode) & unix.S_ISGID // inherited from a setgid parent
		}
		if uint32(stx.Mode)&07777 != want {
			if err := unix.Fchmodat(unix.AT_FDCWD, procPath(fd), want, 0); err != nil {
				return errno(err)
			}
			changed = true
		}
	}
	if changed {
		return errno(statx(fd, stx))
	}
	return nil
}

// made opens the entry just made as name in d and settles it.
func (d *dir) made(name string, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.QID, error) {
	fd, err := openat2(d.fd, name, &walkHow)
	if err != nil {
		return p9.QID{}, errno(err)
	}
	defer unix.Close(fd)
	var stx unix.Statx_t
	if err := d.e.settle(fd, perm, uid, gid, &stx); err != nil {
		return p9.QID{}, err
	}
	return d.e.qidOf(&stx), nil
}

// Mkdir implements p9.File.Mkdir.
func (d *dir) Mkdir(name string, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.QID, error) {
	if err := d.checkNew(name); err != nil {
		return p9.QID{}, err
	}
	if err := unix.Mkdirat(d.fd, name, uint32(perm)&07777); err != nil {
		return p9.QID{}, errno(err)
	}
	return d.made(name, perm, uid, gid)
}

// Symlink implements p9.File.Symlink. The target is stored as given; no
// server operation ever follows it.
func (d *dir) Symlink(target, name string, uid p9.UID, gid p9.GID) (p9.QID, error) {
	if err := d.checkNew(name); err != nil {
		return p9.QID{}, err
	}
	if err := unix.Symlinkat(target, d.fd, name); err != nil {
		return p9.QID{}, errno(err)
	}
	return d.made(name, 0o777, uid, gid)
}

// Mknod implements p9.File.Mknod: fifos, sockets and regular files for
// anyone, device nodes when the server may make them (else EPERM).
func (d *dir) Mknod(name string, mode p9.FileMode, major, minor uint32, uid p9.UID, gid p9.GID) (p9.QID, error) {
	if err := d.checkNew(name); err != nil {
		return p9.QID{}, err
	}
	if err := unix.Mknodat(d.fd, name, uint32(mode), int(unix.Mkdev(major, minor))); err != nil {
		return p9.QID{}, errno(err)
	}
	return d.made(name, mode, uid, gid)
}

// Link implements p9.File.Link: a hard link to target's inode (which must
// belong to the same export), made from its descriptor, not from a name.
func (d *dir) Link(target p9.File, name string) error {
	if err := d.checkNew(name); err != nil {
		return err
	}
	t := baseOf(target)
	if t == nil || t.e != d.e {
		return linux.EXDEV
	}
	err := unix.Linkat(t.fd, "", d.fd, name, unix.AT_EMPTY_PATH)
	if err == unix.ENOENT && t.mode != unix.S_IFLNK {
		// Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH is refused; the
		// magic link names the same inode.
		err = unix.Linkat(unix.AT_FDCWD, procPath(t.fd), d.fd, name, unix.AT_SYMLINK_FOLLOW)
	}
	return errno(err)
}

// baseOf returns the node of one of this package's files, or nil.
func baseOf(f p9.File) *node {
	switch f := f.(type) {
	case *dir:
		return &f.node
	case *file:
		return &f.node
	case *link:
		return &f.node
	}
	return nil
}
