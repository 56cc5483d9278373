package mount

import (
	gocontext "context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p"
)

// POSIX (fcntl) locks belong to a process, not to an open file: a
// process's locks on a file never conflict with each other whichever
// descriptor set them, a forked child's do conflict with its parent's,
// and closing any descriptor of the file releases them all. The servers
// keep locks per open fid (open file description locks), so the mount
// gives each lock owner the kernel names (one per process) a fid of its
// own per inode, opened at its first lock and closed when the owner
// closes a descriptor of the file (FLUSH carries the owner). flock locks
// belong to the open file and use the handle's own fid.

// ownerKey names one owner's locks on one inode.
type ownerKey struct {
	ino   uint64
	owner uint64
}

// ownerLocks is an owner's fid for locking one inode, and the ranges it
// was asked to lock, which F_GETLK needs to name the holding process (the
// servers' locks have no process).
type ownerLocks struct {
	f      p9.File
	pid    uint32
	ranges []lockRange
}

type lockRange struct {
	typ        uint32
	start, end uint64 // end inclusive
}

// lockTable is the mount's owners' lock fids.
//
// Concurrency: mu guards m; a fid's own calls run outside it.
type lockTable struct {
	mu sync.Mutex
	m  map[ownerKey]*ownerLocks
	// flushMu serializes FLUSH requests so that flushOwner can hand the
	// owner of the one in progress to the node's Flush (go-fuse's Flush
	// does not pass it on).
	flushMu    sync.Mutex
	flushOwner uint64
}

func newLockTable() *lockTable { return &lockTable{m: map[ownerKey]*ownerLocks{}} }

// fileFor returns owner's lock fid of the handle's inode, opening one
// from the handle's walked file when there is none.
func (lt *lockTable) fileFor(h *handle, owner uint64, pid uint32) (*ownerLocks, error) {
	k := ownerKey{h.ino, owner}
	lt.mu.Lock()
	ol := lt.m[k]
	lt.mu.Unlock()
	if ol != nil {
		return ol, nil
	}
	_, nf, err := h.f.Walk(nil)
	if err != nil {
		return nil, err
	}
	// Read and write, so the owner may take either kind of lock (the
	// kernel has checked the descriptor's mode); else the handle's.
	if _, _, err := nf.Open(p9.ReadWrite); err != nil {
		if _, _, err := nf.Open(h.mode); err != nil {
			nf.Close()
			return nil, err
		}
	}
	ol = &ownerLocks{f: nf, pid: pid}
	lt.mu.Lock()
	if prev := lt.m[k]; prev != nil {
		lt.mu.Unlock()
		nf.Close()
		return prev, nil
	}
	lt.m[k] = ol
	lt.mu.Unlock()
	return ol, nil
}

// release closes owner's lock fid of ino, which drops its locks.
func (lt *lockTable) release(ino, owner uint64) {
	k := ownerKey{ino, owner}
	lt.mu.Lock()
	ol := lt.m[k]
	delete(lt.m, k)
	lt.mu.Unlock()
	if ol != nil {
		ol.f.Close()
	}
}

// note records a lock or unlock of ol's range.
func (lt *lockTable) note(ol *ownerLocks, r lockRange, pid uint32) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	ol.pid = pid
	kept := ol.ranges[:0]
	for _, x := range ol.ranges {
		if x.start >= r.start && x.end <= r.end {
			continue // replaced or unlocked whole
		}
		kept = append(kept, x)
	}
	ol.ranges = kept
	if r.typ != syscall.F_UNLCK {
		ol.ranges = append(ol.ranges, r)
	}
}

// holder returns the pid of an owner other than owner that holds a lock
// of ino overlapping r, or 0 (the lock is another client's).
func (lt *lockTable) holder(ino, owner uint64, r lockRange) uint32 {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	for k, ol := range lt.m {
		if k.ino != ino || k.owner == owner {
			continue
		}
		for _, x := range ol.ranges {
			if x.start <= r.end && r.start <= x.end {
				return ol.pid
			}
		}
	}
	return 0
}

// closeAll closes every lock fid (unmount).
func (lt *lockTable) closeAll() {
	lt.mu.Lock()
	m := lt.m
	lt.m = map[ownerKey]*ownerLocks{}
	lt.mu.Unlock()
	for _, ol := range m {
		ol.f.Close()
	}
}

// rawFS is go-fuse's node file system with FLUSH's lock owner handed to
// the node (see lockTable.flushMu).
type rawFS struct {
	fuse.RawFileSystem
	locks *lockTable
}

// Flush implements fuse.RawFileSystem.
func (r *rawFS) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	r.locks.flushMu.Lock()
	defer r.locks.flushMu.Unlock()
	r.locks.flushOwner = in.LockOwner
	return r.RawFileSystem.Flush(cancel, in)
}

var _ fs.NodeFlusher = (*node)(nil)

// Flush implements fs.NodeFlusher: the flushing owner's POSIX locks on
// the file go (a close of any of its descriptors).
func (n *node) Flush(ctx gocontext.Context, fh fs.FileHandle) syscall.Errno {
	n.m.locks.release(n.StableAttr().Ino, n.m.locks.flushOwner)
	if h, ok := fh.(*handle); ok {
		h.flushFlock(ctx)
	}
	return 0
}

// flushFlock drops the handle's flock lock when the process that took it
// closes a descriptor of the file. The kernel releases a FUSE file (and
// with it a flock lock) only after close has returned, so a process that
// unlocks by exiting would otherwise leave its lock in place for a moment
// that another process can see; the cost is that a process closing one
// of two descriptors of one open file drops the lock early.
func (h *handle) flushFlock(ctx gocontext.Context) {
	fc, ok := fuse.FromContext(ctx)
	if !ok {
		return
	}
	h.flockMu.Lock()
	defer h.flockMu.Unlock()
	if h.flockPid == 0 || (int(fc.Pid) != h.flockPid && tgid(int(fc.Pid)) != h.flockPid) {
		return
	}
	h.f.Lock(h.flockPid, p9.Unlock, 0, 0, 0, lockClient)
	h.flockPid = 0
}

// lockEnd converts a FUSE lock's end (inclusive; OFFSET_MAX for "to the
// end") to a 9P length (0 for "to the end").
func lockLength(lk *fuse.FileLock) uint64 {
	if lk.End >= 1<<63-1 {
		return 0
	}
	return lk.End - lk.Start + 1
}

// lockType converts a FUSE lock type.
func lockType(t uint32) p9.LockType {
	switch t {
	case syscall.F_RDLCK:
		return p9.ReadLock
	case syscall.F_WRLCK:
		return p9.WriteLock
	}
	return p9.Unlock
}

// lockClient is the client name of the mount's 9P locks: each owner has
// a fid of its own, so the name tells the server nothing more.
const lockClient = "mfs-fuse"

// lockFile returns the fid a lock request of owner uses: the handle's
// own for flock, the owner's lock fid for fcntl.
func (h *handle) lockFile(owner uint64, lk *fuse.FileLock, flags uint32) (p9.File, *ownerLocks, error) {
	if flags&fuse.FUSE_LK_FLOCK != 0 {
		return h.f, nil, nil
	}
	if lk.Typ == syscall.F_UNLCK {
		h.m.locks.mu.Lock()
		ol := h.m.locks.m[ownerKey{h.ino, owner}]
		h.m.locks.mu.Unlock()
		if ol == nil {
			return nil, nil, nil // nothing to unlock
		}
		return ol.f, ol, nil
	}
	ol, err := h.m.locks.fileFor(h, owner, lk.Pid)
	if err != nil {
		return nil, nil, err
	}
	return ol.f, ol, nil
}

// Getlk implements fs.FileGetlker.
func (h *handle) Getlk(ctx gocontext.Context, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	f := h.f
	if flags&fuse.FUSE_LK_FLOCK == 0 {
		h.m.locks.mu.Lock()
		if ol := h.m.locks.m[ownerKey{h.ino, owner}]; ol != nil {
			f = ol.f // the owner's own locks do not conflict
		}
		h.m.locks.mu.Unlock()
	}
	gl, ok := f.(srv9p.GetLocker)
	if !ok {
		return syscall.ENOSYS
	}
	got, err := gl.GetLock(srv9p.LockInfo{Type: lockType(lk.Typ), Start: lk.Start, Length: lockLength(lk), PID: int32(lk.Pid), Client: lockClient})
	if err != nil {
		return errnoOf(err)
	}
	*out = fuse.FileLock{Typ: syscall.F_UNLCK}
	switch got.Type {
	case p9.ReadLock:
		out.Typ = syscall.F_RDLCK
	case p9.WriteLock:
		out.Typ = syscall.F_WRLCK
	default:
		return 0
	}
	out.Start = got.Start
	out.End = 1<<63 - 1
	if got.Length != 0 {
		out.End = got.Start + got.Length - 1
	}
	out.Pid = uint32(got.PID)
	if out.Pid == 0 || int32(out.Pid) < 0 {
		out.Pid = h.m.locks.holder(h.ino, owner, lockRange{start: out.Start, end: out.End})
	}
	return 0
}

// Setlk implements fs.FileSetlker: EAGAIN when another holds it.
func (h *handle) Setlk(ctx gocontext.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return h.setlk(ctx, owner, lk, flags, false)
}

// Setlkw implements fs.FileSetlkwer: waits, and gives up when the kernel
// interrupts the request (a signal to the waiter).
func (h *handle) Setlkw(ctx gocontext.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return h.setlk(ctx, owner, lk, flags, true)
}

func (h *handle) setlk(ctx gocontext.Context, owner uint64, lk *fuse.FileLock, flags uint32, wait bool) syscall.Errno {
	f, ol, err := h.lockFile(owner, lk, flags)
	if err != nil {
		return errnoOf(err)
	}
	if f == nil {
		return 0
	}
	typ, start, length := lockType(lk.Typ), lk.Start, lockLength(lk)
	var st p9.LockStatus
	switch lw, ok := f.(srv9p.LockWaiter); {
	case wait && ok:
		st, err = lw.LockWait(ctx, int(lk.Pid), typ, p9.LockFlagsBlock, start, length, lockClient)
		if err == nil && st != p9.LockStatusOK && ctx.Err() != nil {
			return syscall.EINTR
		}
	case wait:
		st, err = f.Lock(int(lk.Pid), typ, p9.LockFlagsBlock, start, length, lockClient)
	default:
		st, err = f.Lock(int(lk.Pid), typ, 0, start, length, lockClient)
	}
	if err == nil && st == p9.LockStatusOK {
		if ol != nil {
			h.m.locks.note(ol, lockRange{typ: lk.Typ, start: lk.Start, end: lk.End}, lk.Pid)
		} else {
			h.noteFlock(ctx, lk.Typ)
		}
	}
	return lockErrno(st, err)
}

func lockErrno(st p9.LockStatus, err error) syscall.Errno {
	if err != nil {
		return errnoOf(err)
	}
	switch st {
	case p9.LockStatusOK:
		return 0
	case p9.LockStatusBlocked:
		return syscall.EAGAIN
	}
	return syscall.ENOLCK
}

// noteFlock records which process holds the handle's flock lock.
func (h *handle) noteFlock(ctx gocontext.Context, typ uint32) {
	pid := 0
	if fc, ok := fuse.FromContext(ctx); ok && typ != syscall.F_UNLCK {
		pid = tgid(int(fc.Pid))
	}
	h.flockMu.Lock()
	h.flockPid = pid
	h.flockMu.Unlock()
}
