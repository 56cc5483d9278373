package export

import (
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// statxMask asks for everything p9.Attr carries.
const statxMask = unix.STATX_BASIC_STATS | unix.STATX_BTIME

// statx fills stx for the inode behind the descriptor fd (never following a
// symlink).
func statx(fd int, stx *unix.Statx_t) error {
	return ignoringEINTR(func() error {
		return unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_SYNC_AS_STAT, statxMask, stx)
	})
}

// statOpened is statx for fd, a descriptor just opened for the caller:
// on failure it closes fd.
func statOpened(fd int, stx *unix.Statx_t) error {
	err := statx(fd, stx)
	if err != nil {
		unix.Close(fd)
	}
	return err
}

// ignoringEINTR calls fn until it fails with anything but EINTR.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// ignoringEINTRN is ignoringEINTR for calls that answer a number.
func ignoringEINTRN(fn func() (int, error)) (int, error) {
	for {
		if n, err := fn(); err != unix.EINTR {
			return n, err
		}
	}
}

// attrOf converts a statx to p9 attributes and the mask of valid ones.
func attrOf(stx *unix.Statx_t) (p9.AttrMask, p9.Attr) {
	a := p9.Attr{
		Mode:             p9.FileMode(stx.Mode),
		UID:              p9.UID(stx.Uid),
		GID:              p9.GID(stx.Gid),
		NLink:            p9.NLink(stx.Nlink),
		RDev:             p9.Dev(unix.Mkdev(stx.Rdev_major, stx.Rdev_minor)),
		Size:             stx.Size,
		BlockSize:        uint64(stx.Blksize),
		Blocks:           stx.Blocks,
		ATimeSeconds:     uint64(stx.Atime.Sec),
		ATimeNanoSeconds: uint64(stx.Atime.Nsec),
		MTimeSeconds:     uint64(stx.Mtime.Sec),
		MTimeNanoSeconds: uint64(stx.Mtime.Nsec),
		CTimeSeconds:     uint64(stx.Ctime.Sec),
		CTimeNanoSeconds: uint64(stx.Ctime.Nsec),
	}
	m := p9.AttrMask{
		Mode: true, NLink: true, UID: true, GID: true, RDev: true,
		ATime: true, MTime: true, CTime: true, INo: true, Size: true, Blocks: true,
	}
	if stx.Mask&unix.STATX_BTIME != 0 {
		a.BTimeSeconds = uint64(stx.Btime.Sec)
		a.BTimeNanoSeconds = uint64(stx.Btime.Nsec)
		m.BTime = true
	}
	return m, a
}

// GetAttr implements p9.File.GetAttr. It always returns every attribute the
// host knows, whatever was asked.
func (n *node) GetAttr(p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	var stx unix.Statx_t
	if err := statx(n.fd, &stx); err != nil {
		return p9.QID{}, p9.AttrMask{}, p9.Attr{}, errno(err)
	}
	m, a := attrOf(&stx)
	return n.e.qidOf(&stx), m, a, nil
}

// SetAttr implements p9.File.SetAttr in the order Linux's own setattr
// applies them: mode, owner, size, times. Setting ctime alone is accepted
// and ignored (the host sets ctime itself on every change).
func (n *node) SetAttr(valid p9.SetAttrMask, attr p9.SetAttr) error {
	if n.e.readOnly {
		return linux.EROFS
	}
	if valid.Permissions {
		if n.mode == unix.S_IFLNK {
			return linux.EOPNOTSUPP
		}
		perm := attr.Permissions // the whole mode: setuid, setgid and sticky too
		if err := unix.Fchmodat(unix.AT_FDCWD, procPath(n.fd), uint32(perm)&07777, 0); err != nil {
			return errno(err)
		}
	}
	if valid.UID || valid.GID {
		uid, gid := -1, -1
		if valid.UID {
			uid = int(attr.UID)
		}
		if valid.GID {
			gid = int(attr.GID)
		}
		if err := unix.Fchownat(n.fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return errno(err)
		}
	}
	if valid.Size {
		if err := n.truncate(attr.Size); err != nil {
			return err
		}
	}
	if valid.ATime || valid.MTime {
		ts := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if valid.ATime {
			ts[0] = timeSpec(valid.ATimeNotSystemTime, attr.ATimeSeconds, attr.ATimeNanoSeconds)
		}
		if valid.MTime {
			ts[1] = timeSpec(valid.MTimeNotSystemTime, attr.MTimeSeconds, attr.MTimeNanoSeconds)
		}
		if err := unix.UtimesNanoAt(n.fd, "", ts[:], unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return errno(err)
		}
	}
	return nil
}

// timeSpec returns the given time, or "now" when the client asked for the
// server's time.
func timeSpec(given bool, sec, nsec uint64) unix.Timespec {
	if !given {
		return unix.Timespec{Nsec: unix.UTIME_NOW}
	}
	return unix.Timespec{Sec: int64(sec), Nsec: int64(nsec)}
}

// truncate sets the size: on the open descriptor if it is open for writing,
// else through the inode (with truncate(2)'s permission checks).
func (n *node) truncate(size uint64) error {
	if size > 1<<63-1 {
		return linux.EINVAL
	}
	switch n.mode {
	case unix.S_IFDIR:
		return linux.EISDIR
	case unix.S_IFREG:
	default:
		return linux.EINVAL
	}
	if n.ofd >= 0 && n.oflags&unix.O_ACCMODE != unix.O_RDONLY {
		return errno(unix.Ftruncate(n.ofd, int64(size)))
	}
	return errno(unix.Truncate(procPath(n.fd), int64(size)))
}
