package client

import (
	"context"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// dialect is what a File's methods send in its connection's dialect: one
// implementation for 9P2000.L (dialectL, in dialectl.go) and one for
// 9P2000 and 9P2000.u (dialect9, in file9.go), which maps each method onto
// the messages 9P2000.L replaced, as Linux's v9fs does. New picks one once
// the Tversion has answered; File's methods call it once. What every
// dialect does alike (Twalk, Tread, Twrite, Tclunk, Tremove, Tflush) is
// in file.go and conn.go, not here.
type dialect interface {
	// getAttr is the request for fid's attributes; attr reads its reply
	// (WalkGetAttr sends it behind a Twalk).
	getAttr(fid uint32, req p9.AttrMask) fcall.Msg
	attr(rep fcall.Msg, err error) (p9.QID, p9.AttrMask, p9.Attr, error)

	setAttr(f *File, valid p9.SetAttrMask, attr p9.SetAttr) error
	statFS(f *File) (p9.FSStat, error)
	fsync(f *File) error
	open(f *File, flags p9.OpenFlags) (p9.QID, uint32, error)
	create(f *File, name string, flags p9.OpenFlags, perm p9.FileMode, gid p9.GID) (p9.File, p9.QID, uint32, error)
	mkdir(f *File, name string, perm p9.FileMode, gid p9.GID) (p9.QID, error)
	symlink(f *File, target, name string, gid p9.GID) (p9.QID, error)
	mknod(f *File, name string, mode p9.FileMode, major, minor uint32, gid p9.GID) (p9.QID, error)
	link(f, target *File, name string) error
	rename(f, dir *File, name string) error
	renameAt(f *File, oldName string, dir *File, newName string) error
	unlinkAt(f *File, name string, flags uint32) error
	readlink(f *File) (string, error)

	// readdir returns at most count entries; readdirBytes asks for count
	// bytes of them.
	readdir(f *File, offset uint64, count uint32) (p9.Dirents, error)
	readdirBytes(f *File, offset uint64, count uint32) (p9.Dirents, error)

	// lock sends the Tlock m and waits for its answer within timeout (0:
	// none) or until ctx is done (then it is flushed and the lock is
	// LockStatusBlocked).
	lock(f *File, ctx context.Context, m *fcall.Tlock, timeout time.Duration) (p9.LockStatus, error)
	getLock(f *File, want LockInfo) (LockInfo, error)

	readXattr(f *File, name string) ([]byte, error)
	writeXattr(f *File, name string, data []byte, flags uint32) error
}

// newDialect returns the implementation of d, which the server has
// agreed to.
func newDialect(d fcall.Dialect) dialect {
	if d == fcall.L {
		return dialectL{}
	}
	return &dialect9{dialect: d, u: d == fcall.U}
}
