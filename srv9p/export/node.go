package export

import (
	"github.com/hugelgupf/p9/fsimpl/templatefs"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// node is what every kind of exported file shares: an O_PATH descriptor of
// the inode and, once opened, a descriptor for I/O.
//
// Concurrency: fd, key and mode never change after the node is made. ofd
// and oflags are set by Open, which the p9 server calls at most once and
// before any ReadAt, WriteAt, FSync, Lock or Readdir; Close runs when no
// other method can.
type node struct {
	e      *export
	fd     int    // O_PATH|O_NOFOLLOW descriptor of the inode
	key    devIno // identity when the node was made
	mode   uint32 // Linux file type bits
	ofd    int    // descriptor opened by Open; -1 before
	oflags int    // Linux open flags of ofd
}

// dir is an exported directory.
type dir struct {
	node
	templatefs.NotSymlinkFile
	snap snapshot
}

// file is an exported regular file.
type file struct {
	node
	templatefs.NotDirectoryFile
	templatefs.NotSymlinkFile
}

// link is an exported symlink, fifo, socket or device node.
type link struct {
	node
	templatefs.NotDirectoryFile
}

var (
	_ p9.File = (*dir)(nil)
	_ p9.File = (*file)(nil)
	_ p9.File = (*link)(nil)
)

// newFile wraps the O_PATH descriptor fd of the inode described by stx in
// the p9.File of its kind. The file owns fd from now on.
func (e *export) newFile(fd int, stx *unix.Statx_t) p9.File {
	n := node{e: e, fd: fd, key: keyOf(stx), mode: uint32(stx.Mode) & unix.S_IFMT, ofd: -1}
	switch n.mode {
	case unix.S_IFDIR:
		return &dir{node: n}
	case unix.S_IFREG:
		return &file{node: n}
	default:
		return &link{node: n}
	}
}

// keyOf returns the host identity of the inode described by stx.
func keyOf(stx *unix.Statx_t) devIno {
	return devIno{unix.Mkdev(stx.Dev_major, stx.Dev_minor), stx.Ino}
}

// clone returns a new, unopened file for the same inode.
func (n *node) clone() (p9.File, error) {
	fd, err := unix.FcntlInt(uintptr(n.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, errno(err)
	}
	c := node{e: n.e, fd: fd, key: n.key, mode: n.mode, ofd: -1}
	switch n.mode {
	case unix.S_IFDIR:
		return &dir{node: c}, nil
	case unix.S_IFREG:
		return &file{node: c}, nil
	default:
		return &link{node: c}, nil
	}
}

// Close implements p9.File.Close. Closing the open descriptor releases the
// fid's locks.
func (n *node) Close() error {
	if n.ofd >= 0 {
		unix.Close(n.ofd)
		n.ofd = -1
	}
	if n.fd >= 0 {
		unix.Close(n.fd)
		n.fd = -1
	}
	return nil
}

// Close implements p9.File.Close.
func (d *dir) Close() error {
	d.snap.drop()
	return d.node.Close()
}

// Inline implements Inline: every method is a system call on the host.
func (n *node) Inline() bool { return true }

// Rename implements p9.File.Rename. The p9 server always uses RenameAt.
func (n *node) Rename(p9.File, string) error { return linux.ENOSYS }

// Renamed implements p9.File.Renamed. Files are descriptors, not paths, so
// there is nothing to update.
func (n *node) Renamed(p9.File, string) {}

// Readlink implements p9.File.Readlink with readlinkat(2) on the link's own
// descriptor; EINVAL for fifos, sockets and devices.
func (l *link) Readlink() (string, error) {
	if l.mode != unix.S_IFLNK {
		return "", linux.EINVAL
	}
	return readlinkat(l.fd, "")
}

// readlinkat reads the target of the symlink name below dfd (of dfd
// itself when name is empty), however long.
func readlinkat(dfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dfd, name, buf)
		if err != nil {
			return "", errno(err)
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// procPath names the inode behind the O_PATH descriptor fd for the system
// calls that have no descriptor-relative form. /proc/self/fd/N is a "magic
// link" that resolves to that very inode, not to a path looked up again.
func procPath(fd int) string {
	var b [32]byte
	s := append(b[:0], "/proc/self/fd/"...)
	s = appendInt(s, fd)
	return string(s)
}

func appendInt(b []byte, v int) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}
