package export

import (
	"io"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// hostFlags converts the 9P open flags the Linux client sends to host open
// flags, close-on-exec.
func hostFlags(f p9.OpenFlags) int {
	return fcall.HostOpenFlags(f) | unix.O_CLOEXEC
}

// writes reports whether host open flags can change the file.
func writes(fl int) bool {
	return fl&unix.O_ACCMODE != unix.O_RDONLY || fl&unix.O_TRUNC != 0
}

// Open implements p9.File.Open for regular files, fifos and devices: the
// inode behind the O_PATH descriptor is reopened through /proc/self/fd, so
// the very file walked to is opened, whatever happened to its name since.
// A fifo is opened non-blocking so that opening it cannot stall the server.
func (n *node) Open(mode p9.OpenFlags) (p9.QID, uint32, error) {
	fl := hostFlags(mode)
	if n.mode == unix.S_IFLNK {
		// Never open through a link (the p9 server refuses too).
		return p9.QID{}, 0, linux.ELOOP
	}
	if mode&fcall.LDirectory != 0 {
		return p9.QID{}, 0, linux.ENOTDIR
	}
	if n.e.readOnly && writes(fl) {
		return p9.QID{}, 0, linux.EROFS
	}
	if n.mode == unix.S_IFIFO {
		fl |= unix.O_NONBLOCK
	}
	fd, err := openRetry(procPath(n.fd), fl)
	if err == unix.EPERM && fl&unix.O_NOATIME != 0 {
		// O_NOATIME needs the server to own the file; the client has
		// checked its own user already, so do without it.
		fl &^= unix.O_NOATIME
		fd, err = openRetry(procPath(n.fd), fl)
	}
	if err != nil {
		return p9.QID{}, 0, errno(err)
	}
	var stx unix.Statx_t
	if err := statOpened(fd, &stx); err != nil {
		return p9.QID{}, 0, errno(err)
	}
	n.ofd, n.oflags = fd, fl
	return n.e.qidOf(&stx), 0, nil
}

// Open implements p9.File.Open for directories (read-only, as the p9 server
// demands).
func (d *dir) Open(mode p9.OpenFlags) (p9.QID, uint32, error) {
	if mode.Mode() != p9.ReadOnly {
		return p9.QID{}, 0, linux.EISDIR
	}
	fd, err := openatRetry(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return p9.QID{}, 0, errno(err)
	}
	var stx unix.Statx_t
	if err := statOpened(fd, &stx); err != nil {
		return p9.QID{}, 0, errno(err)
	}
	d.ofd, d.oflags = fd, unix.O_RDONLY
	return d.e.qidOf(&stx), 0, nil
}

func openRetry(path string, fl int) (int, error) {
	return openatRetry(unix.AT_FDCWD, path, fl)
}

func openatRetry(dfd int, path string, fl int) (int, error) {
	return ignoringEINTRN(func() (int, error) { return unix.Openat(dfd, path, fl, 0) })
}

// ReadAt implements p9.File.ReadAt with pread(2).
func (n *node) ReadAt(p []byte, off int64) (int, error) {
	if n.ofd < 0 {
		return 0, linux.EBADF
	}
	m, err := ignoringEINTRN(func() (int, error) {
		m, err := unix.Pread(n.ofd, p, off)
		if err == unix.ESPIPE { // fifo, character device
			m, err = unix.Read(n.ofd, p)
		}
		return m, err
	})
	if err != nil {
		return 0, errno(err)
	}
	if m == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return m, nil
}

// WriteAt implements p9.File.WriteAt with pwrite(2). On a file opened
// O_APPEND Linux's pwrite appends whatever the offset, as the client wants.
func (n *node) WriteAt(p []byte, off int64) (int, error) {
	if n.ofd < 0 {
		return 0, linux.EBADF
	}
	m, err := ignoringEINTRN(func() (int, error) {
		m, err := unix.Pwrite(n.ofd, p, off)
		if err == unix.ESPIPE {
			m, err = unix.Write(n.ofd, p)
		}
		return m, err
	})
	if err != nil {
		return 0, errno(err)
	}
	return m, nil
}

// ReadAt implements p9.File.ReadAt: directories are read with Readdir.
func (d *dir) ReadAt([]byte, int64) (int, error) { return 0, linux.EISDIR }

// WriteAt implements p9.File.WriteAt.
func (d *dir) WriteAt([]byte, int64) (int, error) { return 0, linux.EISDIR }

// FSync implements p9.File.FSync with a real fsync(2) of the open
// descriptor.
func (n *node) FSync() error {
	if n.ofd < 0 {
		return linux.EBADF
	}
	return errno(ignoringEINTR(func() error { return unix.Fsync(n.ofd) }))
}
