package export

import (
	"context"
	"math"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/srv9p"
)

// Lock implements p9.File.Lock with open file description locks on the
// fid's own open descriptor: two fids conflict even though this one process
// holds both, and closing the fid releases its locks. A request that would
// block answers p9.LockStatusBlocked at once (for a non-blocking request
// the Linux client makes it EAGAIN); the server calls LockWait instead for
// a blocking one.
func (n *node) Lock(pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	lk, err := n.flock(typ, start, length)
	if err != nil {
		return p9.LockStatusError, err
	}
	return setLock(n.ofd, lk)
}

// LockWait implements LockWaiter: it retries the lock (waitForLock) until
// it is granted, ctx is done, or 20 s have passed.
func (n *node) LockWait(ctx context.Context, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	lk, err := n.flock(typ, start, length)
	if err != nil {
		return p9.LockStatusError, err
	}
	return waitForLock(ctx, func() (p9.LockStatus, error) { return setLock(n.ofd, lk) })
}

// GetLock implements GetLocker with F_OFD_GETLK. An UNLCK probe, which is
// what the Linux client always sends (v9fs_file_getlock), asks "is any lock
// in the way?", which a write-lock probe answers, since every lock
// conflicts with a write lock.
func (n *node) GetLock(want srv9p.LockInfo) (srv9p.LockInfo, error) {
	typ := want.Type
	if typ == p9.Unlock {
		typ = p9.WriteLock
	}
	lk, err := n.flock(typ, want.Start, want.Length)
	if err != nil {
		return srv9p.LockInfo{}, err
	}
	if err := fcntlLock(n.ofd, unix.F_OFD_GETLK, &lk); err != nil {
		return srv9p.LockInfo{}, errno(err)
	}
	got := srv9p.LockInfo{Type: p9.Unlock, Start: want.Start, Length: want.Length, Client: want.Client}
	if lk.Type != unix.F_UNLCK {
		got.Type = p9.WriteLock
		if lk.Type == unix.F_RDLCK {
			got.Type = p9.ReadLock
		}
		got.Start, got.Length = uint64(lk.Start), uint64(lk.Len)
		// OFD locks have no owning process (l_pid is -1).
		got.PID = max(lk.Pid, 0)
	}
	return got, nil
}

// flock checks a lock request and returns its flock form.
func (n *node) flock(typ p9.LockType, start, length uint64) (unix.Flock_t, error) {
	lk := unix.Flock_t{Whence: unix.SEEK_SET, Start: int64(start), Len: int64(length)}
	if n.ofd < 0 {
		return lk, linux.EBADF
	}
	if start > math.MaxInt64 || length > math.MaxInt64 {
		return lk, linux.EINVAL
	}
	switch typ {
	case p9.ReadLock:
		lk.Type = unix.F_RDLCK
	case p9.WriteLock:
		lk.Type = unix.F_WRLCK
	case p9.Unlock:
		lk.Type = unix.F_UNLCK
	default:
		return lk, linux.EINVAL
	}
	return lk, nil
}

// setLock tries F_OFD_SETLK once.
func setLock(fd int, lk unix.Flock_t) (p9.LockStatus, error) {
	switch err := fcntlLock(fd, unix.F_OFD_SETLK, &lk); err {
	case nil:
		return p9.LockStatusOK, nil
	case unix.EAGAIN, unix.EACCES:
		return p9.LockStatusBlocked, nil
	default:
		return p9.LockStatusError, errno(err)
	}
}

func fcntlLock(fd, cmd int, lk *unix.Flock_t) error {
	return ignoringEINTR(func() error { return unix.FcntlFlock(uintptr(fd), cmd, lk) })
}

var (
	_ srv9p.GetLocker  = (*file)(nil)
	_ srv9p.LockWaiter = (*file)(nil)
	_ srv9p.Inline     = (*dir)(nil)
	_ srv9p.LinkRoot   = (*dir)(nil)
)
