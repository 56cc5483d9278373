package mount

import (
	"errors"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// errnoOf is the errno a FUSE caller gets for err.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return se
	}
	return syscall.Errno(linux.ExtractErrno(err))
}

// allAttrs asks GetAttr for everything FUSE shows.
var allAttrs = p9.AttrMask{Mode: true, NLink: true, UID: true, GID: true, RDev: true, ATime: true, MTime: true, CTime: true, INo: true, Size: true, Blocks: true}

// fillAttr converts a namespace file's attributes for the kernel.
func fillAttr(q p9.QID, a p9.Attr, out *fuse.Attr) {
	out.Ino = q.Path
	out.Mode = uint32(a.Mode)
	out.Nlink = uint32(a.NLink)
	out.Uid = uint32(a.UID)
	out.Gid = uint32(a.GID)
	out.Rdev = uint32(a.RDev)
	out.Size = a.Size
	out.Blocks = a.Blocks
	out.Blksize = uint32(a.BlockSize)
	out.Atime, out.Atimensec = a.ATimeSeconds, uint32(a.ATimeNanoSeconds)
	out.Mtime, out.Mtimensec = a.MTimeSeconds, uint32(a.MTimeNanoSeconds)
	out.Ctime, out.Ctimensec = a.CTimeSeconds, uint32(a.CTimeNanoSeconds)
}

// setAttrOf converts a FUSE SETATTR to p9's.
func setAttrOf(in *fuse.SetAttrIn) (p9.SetAttrMask, p9.SetAttr) {
	var m p9.SetAttrMask
	var a p9.SetAttr
	if mode, ok := in.GetMode(); ok {
		m.Permissions, a.Permissions = true, p9.FileMode(mode)
	}
	if uid, ok := in.GetUID(); ok {
		m.UID, a.UID = true, p9.UID(uid)
	}
	if gid, ok := in.GetGID(); ok {
		m.GID, a.GID = true, p9.GID(gid)
	}
	if size, ok := in.GetSize(); ok {
		m.Size, a.Size = true, size
	}
	if in.Valid&fuse.FATTR_ATIME != 0 {
		m.ATime = true
		if in.Valid&fuse.FATTR_ATIME_NOW == 0 {
			m.ATimeNotSystemTime = true
			a.ATimeSeconds, a.ATimeNanoSeconds = in.Atime, uint64(in.Atimensec)
		}
	}
	if in.Valid&fuse.FATTR_MTIME != 0 {
		m.MTime = true
		if in.Valid&fuse.FATTR_MTIME_NOW == 0 {
			m.MTimeNotSystemTime = true
			a.MTimeSeconds, a.MTimeNanoSeconds = in.Mtime, uint64(in.Mtimensec)
		}
	}
	if in.Valid&fuse.FATTR_CTIME != 0 {
		m.CTime = true
	}
	return m, a
}

// openFlags converts open(2) flags to 9P2000.L's; flags the kernel
// handles itself (O_CREAT, O_EXCL, O_NOCTTY, O_CLOEXEC) are dropped.
func openFlags(fl uint32) p9.OpenFlags { return fcall.LOpenFlags(int(fl)) }

// timeout is what every entry and attribute the kernel caches is good
// for: nothing, so every node's changes are seen at once (cache=none's
// promise) and home, here and selected are answered per caller.
var timeout = time.Duration(0)
