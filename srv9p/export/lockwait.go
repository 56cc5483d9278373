package export

import (
	"context"
	"time"

	"github.com/hugelgupf/p9/p9"
)

// Bounds of the wait for a blocking lock. The cap stays below the Linux
// client's retry interval (its session lock timeout, 30 s by default), so
// a waiter that runs out answers BLOCKED and the kernel asks again.
var (
	lockWaitCap      = 20 * time.Second
	lockBackoffFirst = time.Millisecond
	lockBackoffMax   = 50 * time.Millisecond
)

// waitForLock calls try, a non-blocking lock attempt, until it answers
// anything but p9.LockStatusBlocked, with a backoff from 1 ms to 50 ms
// between attempts. It gives up with p9.LockStatusBlocked when ctx is
// done or after 20 s (below the Linux client's 30 s retry interval, so
// the client asks again). The kernel discards the answer to a flushed
// request, so a cancelled wait must not take the lock, and does not.
func waitForLock(ctx context.Context, try func() (p9.LockStatus, error)) (p9.LockStatus, error) {
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
		case <-ctx.Done():
			return p9.LockStatusBlocked, nil
		case <-t.C:
		}
		select {
		case <-ctx.Done(): // both were ready: do not take a lock nobody awaits
			return p9.LockStatusBlocked, nil
		default:
		}
		backoff = min(2*backoff, lockBackoffMax)
	}
}
