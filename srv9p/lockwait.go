package srv9p

import (
	"strings"
	"sync"
	"time"

	"github.com/hugelgupf/p9/p9"
)

// A blocking Tlock (flags with p9.LockFlagsBlock) is disguised by Serve's
// filter as a Tlock whose flags also carry waitLockFlag and whose client
// string is waitLockMagic, the token, a NUL, and the original client. The
// token names a cancel channel that the filter closes when the client
// flushes the request or the connection ends.
const (
	waitLockFlag  p9.LockFlags = 1 << 30
	waitLockMagic              = "\x00mfs-lockw\x00"
)

// Bounds of the wait for a blocking lock. The cap stays below the Linux
// client's retry interval (its session lock timeout, 30 s by default), so
// a waiter that runs out answers BLOCKED and the kernel asks again.
var (
	lockWaitCap      = 20 * time.Second
	lockBackoffFirst = time.Millisecond
	lockBackoffMax   = 50 * time.Millisecond
)

// waitLocks holds the blocking Tlocks in flight, by token: registered by
// Serve's filter, looked up by a File's Lock, cancelled and taken back by
// the filter. Tokens carry the process secret of getLocks, so a client
// cannot name another client's request.
var waitLocks = struct {
	mu      sync.Mutex
	pending map[string]*lockWaiter
}{pending: make(map[string]*lockWaiter)}

// lockWaiter is the cancel channel of one blocking Tlock.
type lockWaiter struct {
	once   sync.Once
	cancel chan struct{}
}

func (w *lockWaiter) stop() { w.once.Do(func() { close(w.cancel) }) }

// newWaitLockToken registers a blocking Tlock in flight and returns its
// token.
func newWaitLockToken() string {
	t := newToken()
	waitLocks.mu.Lock()
	waitLocks.pending[t] = &lockWaiter{cancel: make(chan struct{})}
	waitLocks.mu.Unlock()
	return t
}

// cancelWaitLock ends the wait of the blocking Tlock token, if it is still
// registered; the token stays until takeWaitLock.
func cancelWaitLock(token string) {
	waitLocks.mu.Lock()
	w := waitLocks.pending[token]
	waitLocks.mu.Unlock()
	if w != nil {
		w.stop()
	}
}

// takeWaitLock removes the token (its reply has passed, or the connection
// is gone), ending any wait on it.
func takeWaitLock(token string) {
	waitLocks.mu.Lock()
	w := waitLocks.pending[token]
	delete(waitLocks.pending, token)
	waitLocks.mu.Unlock()
	if w != nil {
		w.stop()
	}
}

// LockWait reports whether a File.Lock call is a blocking Tlock marked by
// Serve's filter; if so it returns the channel that is closed when the
// client gives up on the request (Tflush) or its connection ends, and the
// request's original client string. A File that gets one may wait for the
// lock, but must stop when cancel is closed and should use WaitForLock,
// which bounds the wait. Files that do not look take a marked request as
// an ordinary one (the extra flag and the client string do not matter to
// a lock).
func LockWait(flags p9.LockFlags, client string) (cancel <-chan struct{}, origClient string, ok bool) {
	if flags&waitLockFlag == 0 || !strings.HasPrefix(client, waitLockMagic) {
		return nil, "", false
	}
	rest := client[len(waitLockMagic):]
	i := strings.IndexByte(rest, 0)
	if i < 0 {
		return nil, "", false
	}
	waitLocks.mu.Lock()
	w := waitLocks.pending[rest[:i]]
	waitLocks.mu.Unlock()
	if w == nil {
		return nil, "", false
	}
	return w.cancel, rest[i+1:], true
}

// WaitForLock calls try, a non-blocking lock attempt, until it answers
// anything but p9.LockStatusBlocked, with a backoff from 1 ms to 50 ms
// between attempts. It gives up with p9.LockStatusBlocked when cancel is
// closed or after 20 s (below the Linux client's 30 s retry interval, so
// the client asks again). The kernel discards the answer to a flushed
// request, so a cancelled wait must not take the lock, and does not.
func WaitForLock(cancel <-chan struct{}, try func() (p9.LockStatus, error)) (p9.LockStatus, error) {
	deadline := time.Now().Add(lockWaitCap)
	backoff := lockBackoffFirst
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		st, err := try()
		if err != nil || st != p9.LockStatusBlocked {
			return st, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return p9.LockStatusBlocked, nil
		}
		d := min(backoff, left)
		if t == nil {
			t = time.NewTimer(d)
		} else {
			t.Reset(d)
		}
		select {
		case <-cancel:
			return p9.LockStatusBlocked, nil
		case <-t.C:
		}
		select {
		case <-cancel: // both were ready: do not take a lock nobody awaits
			return p9.LockStatusBlocked, nil
		default:
		}
		backoff = min(2*backoff, lockBackoffMax)
	}
}
