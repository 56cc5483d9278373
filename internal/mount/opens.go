package mount

import (
	"log/slog"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// opens counts the files each user holds open through the mount: each is
// a descriptor of the node (this node's files) or a fid on a peer, so one
// user must not hold them without bound. Root is not counted.
//
// Concurrency: mu guards n and logged.
type opens struct {
	max    int
	log    *slog.Logger
	mu     sync.Mutex
	n      map[uint32]int
	logged map[uint32]bool
}

// defaultMaxOpens is a quarter of the node's descriptor limit (at least
// 256): the rest stays for other users, peers, gossip and the node.
func defaultMaxOpens() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY {
		return 1 << 16
	}
	return max(256, int(rl.Cur/4))
}

func newOpens(max int, log *slog.Logger) *opens {
	return &opens{max: max, log: log, n: map[uint32]int{}, logged: map[uint32]bool{}}
}

// take counts one more open file of uid, or refuses it with EMFILE (said
// in the log once per user).
func (o *opens) take(uid uint32) error {
	if uid == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n[uid] >= o.max {
		if !o.logged[uid] {
			o.logged[uid] = true
			o.log.Warn("mount: limit reached; refusing more open files to this user (logged once per user)",
				slog.Uint64("uid", uint64(uid)), slog.Int("max", o.max))
		}
		return syscall.EMFILE
	}
	o.n[uid]++
	return nil
}

// give returns one open file of uid.
func (o *opens) give(uid uint32) {
	if uid == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n[uid]--; o.n[uid] <= 0 {
		delete(o.n, uid)
	}
}
