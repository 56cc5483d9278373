package export

import (
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// Extended attributes go through /proc/self/fd/N, since the *xattr calls
// refuse O_PATH descriptors. That names the inode itself for files and
// directories; for a symlink it would name the link's target, so symlinks
// have no attributes here (Linux refuses user.* attributes on symlinks
// anyway).

// xattrPath returns the path for the xattr calls, or ENODATA/EPERM-style
// refusal for symlinks.
func (n *node) xattrPath() (string, bool) {
	if n.mode == unix.S_IFLNK {
		return "", false
	}
	return procPath(n.fd), true
}

// GetXattr implements p9.File.GetXattr; a missing attribute is ENODATA.
func (n *node) GetXattr(name string) ([]byte, error) {
	p, ok := n.xattrPath()
	if !ok {
		return nil, linux.ENODATA
	}
	for {
		sz, err := unix.Getxattr(p, name, nil)
		if err != nil {
			return nil, errno(err)
		}
		buf := make([]byte, sz)
		sz, err = unix.Getxattr(p, name, buf)
		if err == unix.ERANGE {
			continue // grew in between
		}
		if err != nil {
			return nil, errno(err)
		}
		return buf[:sz], nil
	}
}

// SetXattr implements p9.File.SetXattr; flags are XATTR_CREATE and
// XATTR_REPLACE as in setxattr(2).
func (n *node) SetXattr(name string, data []byte, flags p9.XattrFlags) error {
	if n.e.readOnly {
		return linux.EROFS
	}
	p, ok := n.xattrPath()
	if !ok {
		return linux.EPERM
	}
	if flags&^(p9.XattrCreate|p9.XattrReplace) != 0 {
		return linux.EINVAL
	}
	return errno(unix.Setxattr(p, name, data, int(flags)))
}

// ListXattrs implements p9.File.ListXattrs.
func (n *node) ListXattrs() ([]string, error) {
	p, ok := n.xattrPath()
	if !ok {
		return nil, nil
	}
	for {
		sz, err := unix.Listxattr(p, nil)
		if err != nil {
			return nil, errno(err)
		}
		if sz == 0 {
			return nil, nil
		}
		buf := make([]byte, sz)
		sz, err = unix.Listxattr(p, buf)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return nil, errno(err)
		}
		return strings.Split(strings.TrimSuffix(string(buf[:sz]), "\x00"), "\x00"), nil
	}
}

// RemoveXattr implements p9.File.RemoveXattr.
func (n *node) RemoveXattr(name string) error {
	if n.e.readOnly {
		return linux.EROFS
	}
	p, ok := n.xattrPath()
	if !ok {
		return linux.EPERM
	}
	return errno(unix.Removexattr(p, name))
}
