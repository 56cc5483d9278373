package export

import (
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// atRemoveDir is P9_DOTL_AT_REMOVEDIR, the Tunlinkat flag for rmdir.
const atRemoveDir = 0x200

// RenameAt implements p9.File.RenameAt with renameat(2) between the two
// directory descriptors: over an existing file, across directories and onto
// an empty directory as Linux allows.
func (d *dir) RenameAt(oldName string, newDir p9.File, newName string) error {
	if d.e.readOnly {
		return linux.EROFS
	}
	nd, ok := newDir.(*dir)
	if !ok || nd.e != d.e {
		if baseOf(newDir) != nil {
			return linux.ENOTDIR
		}
		return linux.EXDEV
	}
	if err := checkName(oldName); err != nil {
		return err
	}
	if d.e.excluded(d.key, oldName) {
		return linux.ENOENT
	}
	if err := nd.checkNew(newName); err != nil {
		return err
	}
	return errno(unix.Renameat(d.fd, oldName, nd.fd, newName))
}

// UnlinkAt implements p9.File.UnlinkAt with unlinkat(2); flags may hold
// AT_REMOVEDIR (0x200), as the Linux client sends it.
func (d *dir) UnlinkAt(name string, flags uint32) error {
	if d.e.readOnly {
		return linux.EROFS
	}
	if err := checkName(name); err != nil {
		return err
	}
	if d.e.excluded(d.key, name) {
		return linux.ENOENT
	}
	if flags&^atRemoveDir != 0 {
		return linux.EINVAL
	}
	var fl int
	if flags&atRemoveDir != 0 {
		fl = unix.AT_REMOVEDIR
	}
	return errno(unix.Unlinkat(d.fd, name, fl))
}
