package srv9p

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// LockInfo is a lock description as Tgetlock/Rgetlock carry it.
type LockInfo struct {
	Type          p9.LockType
	Start, Length uint64
	PID           int32
	Client        string
}

// A Tgetlock is disguised as a Tlock whose flags carry getLockFlag and whose
// client string is getLockMagic, the token, a NUL, and the original client.
const (
	getLockFlag  p9.LockFlags = 1 << 31
	getLockMagic              = "\x00mfs-getlock\x00"
)

// getLocks holds the Tgetlocks in flight, by token: registered by Serve's
// filter, answered by a File's Lock, taken back by the filter when the Rlock
// passes. Only registered tokens can be answered, so a forged disguise can
// neither grow the table nor answer another client's request.
var getLocks = struct {
	mu      sync.Mutex
	pending map[string]*LockInfo // nil value: not answered yet
	seq     atomic.Uint64
	secret  string
}{pending: make(map[string]*LockInfo), secret: newSecret()}

func newSecret() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newToken returns a token no other request of this process has had; the
// secret part keeps clients from guessing one.
func newToken() string {
	return getLocks.secret + "." + strconv.FormatUint(getLocks.seq.Add(1), 10)
}

// newGetLockToken registers a new Tgetlock in flight and returns its token.
func newGetLockToken() string {
	t := newToken()
	getLocks.mu.Lock()
	getLocks.pending[t] = nil
	getLocks.mu.Unlock()
	return t
}

// takeGetLock removes the token and returns its answer, if there was one.
func takeGetLock(token string) (LockInfo, bool) {
	getLocks.mu.Lock()
	defer getLocks.mu.Unlock()
	info, ok := getLocks.pending[token]
	delete(getLocks.pending, token)
	if !ok || info == nil {
		return LockInfo{}, false
	}
	return *info, true
}

// disguiseClient returns the client string of the Tlock standing for a
// Tgetlock.
func disguiseClient(token, client string) string {
	return getLockMagic + token + "\x00" + client
}

// IsGetLock reports whether a File.Lock call is a Tgetlock disguised by
// Serve's filter; if so it returns the token to answer with and the
// request's original client string. A File that gets one must not take or
// release a lock: it tests for a conflicting lock (as fcntl F_GETLK does),
// calls AnswerGetLock and returns p9.LockStatusOK, or returns an error.
func IsGetLock(flags p9.LockFlags, client string) (token string, origClient string, ok bool) {
	if flags&getLockFlag == 0 || !strings.HasPrefix(client, getLockMagic) {
		return "", "", false
	}
	rest := client[len(getLockMagic):]
	i := strings.IndexByte(rest, 0)
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// AnswerGetLock records the answer to a disguised Tgetlock; Serve's filter
// turns it into the Rgetlock. Answers to tokens no filter is waiting for are
// dropped.
func AnswerGetLock(token string, info LockInfo) {
	getLocks.mu.Lock()
	defer getLocks.mu.Unlock()
	if _, ok := getLocks.pending[token]; ok {
		getLocks.pending[token] = &info
	}
}

// Lock implements p9.File.Lock with open file description locks on the
// fid's own open descriptor: two fids conflict even though this one process
// holds both, and closing the fid releases its locks. A request that would
// block answers p9.LockStatusBlocked at once (for a non-blocking request
// the Linux client makes it EAGAIN), except a blocking request that Serve's
// filter marked (see LockWait): that one waits for the lock (WaitForLock)
// until it is granted, flushed, its connection ends, or 20 s have passed. A disguised Tgetlock (see
// IsGetLock) is answered with F_OFD_GETLK; an UNLCK probe, which is what the
// Linux client sends, tests for any conflicting lock.
func (n *node) Lock(pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	if n.ofd < 0 {
		return p9.LockStatusError, linux.EBADF
	}
	if start > math.MaxInt64 || length > math.MaxInt64 {
		return p9.LockStatusError, linux.EINVAL
	}
	lk := unix.Flock_t{Whence: unix.SEEK_SET, Start: int64(start), Len: int64(length)}
	switch typ {
	case p9.ReadLock:
		lk.Type = unix.F_RDLCK
	case p9.WriteLock:
		lk.Type = unix.F_WRLCK
	case p9.Unlock:
		lk.Type = unix.F_UNLCK
	default:
		return p9.LockStatusError, linux.EINVAL
	}
	if token, orig, ok := IsGetLock(flags, client); ok {
		if typ == p9.Unlock {
			// The Linux client always asks with UNLCK (v9fs_file_getlock):
			// "is there any lock in the way?", which a write-lock probe
			// answers, since every lock conflicts with a write lock.
			lk.Type = unix.F_WRLCK
		}
		if err := fcntlLock(n.ofd, unix.F_OFD_GETLK, &lk); err != nil {
			return p9.LockStatusError, errno(err)
		}
		info := LockInfo{Type: p9.Unlock, Start: start, Length: length, Client: orig}
		if lk.Type != unix.F_UNLCK {
			info.Type = p9.WriteLock
			if lk.Type == unix.F_RDLCK {
				info.Type = p9.ReadLock
			}
			info.Start, info.Length = uint64(lk.Start), uint64(lk.Len)
			// OFD locks have no owning process (l_pid is -1).
			info.PID = max(lk.Pid, 0)
		}
		AnswerGetLock(token, info)
		return p9.LockStatusOK, nil
	}
	if cancel, _, ok := LockWait(flags, client); ok {
		return WaitForLock(cancel, func() (p9.LockStatus, error) { return setLock(n.ofd, lk) })
	}
	return setLock(n.ofd, lk)
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
	for {
		err := unix.FcntlFlock(uintptr(fd), cmd, lk)
		if err != unix.EINTR {
			return err
		}
	}
}
