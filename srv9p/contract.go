package srv9p

import (
	"context"

	"github.com/hugelgupf/p9/p9"
)

// The server's contract with a file system is p9.Attacher and p9.File.
// Where p9.File cannot say something 9P2000.L needs, the server looks for
// one of the small interfaces below on the attacher or the file; a file
// system that lacks one gets the plain p9 behaviour.

// Attach is what a Tattach asks for.
type Attach struct {
	// Name is the attach name (aname), as the client sent it.
	Name string
	// User is the user name (uname).
	User string
	// UID is n_uname, p9.NoUID when the client sent none.
	UID p9.UID
}

// Attacher is a p9.Attacher that sees the whole Tattach. The server calls
// AttachWith instead of Attach; the file returned is the attach's root,
// already at Name. A plain p9.Attacher is attached with Attach and the
// name walked from its root one element at a time.
type Attacher interface {
	p9.Attacher
	AttachWith(a Attach) (p9.File, error)
}

// LockInfo is a lock description as Tgetlock and Rgetlock carry it.
type LockInfo struct {
	Type          p9.LockType
	Start, Length uint64
	PID           int32
	Client        string
}

// GetLocker is a file that answers Tgetlock: GetLock reports the first lock
// that would conflict with the one described (Type p9.Unlock in the answer
// if none). A file without it answers Tgetlock with ENOSYS.
type GetLocker interface {
	GetLock(want LockInfo) (LockInfo, error)
}

// LockWaiter is a file whose blocking locks wait. For a Tlock with
// p9.LockFlagsBlock the server calls LockWait instead of Lock; ctx is done
// when the client flushes the request or the connection ends, and the
// wait must then end without taking the lock (the client has given up on
// it). A file without it gets the blocking Tlock through Lock.
type LockWaiter interface {
	LockWait(ctx context.Context, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error)
}

// Inline is a file whose methods other than ReadAt, WriteAt, FSync, Lock
// and Readdir never wait on anything but the local kernel's file system
// calls. The server runs such requests on the connection's reader instead
// of handing them to a goroutine, which saves a thread wake-up per
// request. Inline reports whether the promise holds for this file.
//
// The server's promise to clients follows from it: a Twalk from an Inline
// file is answered before the next request of the connection is read, so
// a request pipelined behind it finds the new fid (the namespace's peer
// client relies on this for the srv9p exports of other nodes:
// client.Options.InOrder). A walk from any other file makes no such
// promise.
type Inline interface {
	Inline() bool
}

// LinkRoot is an attach root that knows where absolute symlink targets
// land in its tree, for 9P2000, whose clients cannot follow symlinks (the
// server follows them). For the file at path (names from this root),
// LinkRoot returns how many leading names of path lead to the directory
// that is the host directory dir: a target below dir lands there, any
// other absolute target leaves the tree. ok is false where no absolute
// target can land. An attach root without it follows relative targets
// only.
type LinkRoot interface {
	LinkRoot(path []string) (depth int, dir string, ok bool)
}

// EntryStater is a directory that gives the attributes of its entries
// without a walk to each, for the directory reads of 9P2000 and 9P2000.u,
// which carry every entry's stat. StatEntries answers one EntryStat per
// name, in order: what WalkGetAttr([]string{name}) would (refusing the
// same names; "." and ".." are no entry's and are EINVAL), with the
// target of a symlink. The server asks for a Readdir batch at once, so a
// directory whose stats cost a round trip can overlap them. An Err of
// ENOSYS makes the server walk to that entry instead.
type EntryStater interface {
	StatEntries(names []string) []EntryStat
}

// EntryStat is what StatEntries tells of one entry.
type EntryStat struct {
	QID    p9.QID
	Attr   p9.Attr
	Target string // a symlink's target
	Err    error
}
