// Package cred runs file operations as a user: fsuid, fsgid and
// supplementary groups set on the calling goroutine's locked OS thread,
// and for anyone but root no effective capabilities, so that the kernel's
// own permission checks apply. The 9P server and the FUSE server switch
// credentials through it.
//
// What a caller may rely on: RunAs puts the process's own credentials back
// on the thread before the goroutine is unlocked from it, also when fn
// panics; a thread whose credentials cannot be put back stays locked to
// its goroutine, so Go retires it with the goroutine rather than let
// another goroutine run on it with a stranger's identity. A process that
// is not root can run only as itself (RunAs of another user fails).
package cred

import (
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Cred is a user whose file operations run with its credentials.
type Cred struct {
	UID, GID uint32
	Groups   []int
	// self: the process's own identity; nothing to switch.
	self bool
	// fsOnly is this cred with keepCaps, for lookups.
	fsOnly *Cred
	// keepCaps leaves the effective capabilities alone: setfsuid to a
	// uid other than 0 already drops the file-system ones (CAP_CHOWN,
	// CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
	// CAP_LINUX_IMMUTABLE, CAP_MKNOD, CAP_MAC_OVERRIDE), which are all a
	// lookup consults.
	keepCaps bool
}

// New returns the credentials of uid, gid and groups as given (no
// database lookup). They are the process's own, and RunAs switches
// nothing, when uid and gid are the effective uid and gid.
func New(uid, gid uint32, groups []int) *Cred {
	c := newCred(uid, gid, groups, uint32(os.Geteuid()), uint32(os.Getegid()))
	// Given explicitly (a FUSE caller), root's own gid counts too: a
	// process of root with another egid makes files of that group.
	c.self = c.self && gid == uint32(os.Getegid())
	return c
}

func newCred(uid, gid uint32, groups []int, euid, egid uint32) *Cred {
	c := &Cred{UID: uid, GID: gid, Groups: groups}
	c.self = uid == euid && (uid == 0 || gid == egid)
	fs := *c
	fs.keepCaps = true
	c.fsOnly = &fs
	return c
}

// ForLookup returns c for lookups (walks): fsuid, fsgid and groups are
// switched, but the effective capabilities other than the file-system
// ones (which the switch of fsuid drops by itself) are kept.
func (c *Cred) ForLookup() *Cred {
	if c == nil {
		return nil
	}
	return c.fsOnly
}

// Self reports whether c is the process's own identity (RunAs switches
// nothing).
func (c *Cred) Self() bool { return c.self }

// Cache builds and caches Creds from the node's user and group databases.
type Cache struct {
	anonGID uint32
	euid    uint32
	egid    uint32

	mu    sync.Mutex
	cache map[uint32]cacheEntry
}

type cacheEntry struct {
	c       *Cred
	expires time.Time
}

// ttl is how long a user's groups are cached.
const ttl = 30 * time.Second

// NewCache returns an empty cache; anonGID is the gid of a uid with no
// passwd entry whose own number is a group of this node.
func NewCache(anonGID uint32) *Cache {
	return &Cache{anonGID: anonGID, euid: uint32(os.Geteuid()), egid: uint32(os.Getegid()), cache: make(map[uint32]cacheEntry)}
}

// EUID returns the process's effective uid, read when the cache was made.
func (cs *Cache) EUID() uint32 { return cs.euid }

// Of returns the Cred of uid, looked up at most every 30 s. Its primary
// gid and groups come from the user database. A uid with no passwd entry
// still works, with no supplementary groups and the gid of the same
// number if no group of this node has it (else the anonymous gid).
func (cs *Cache) Of(uid uint32) *Cred {
	now := time.Now()
	cs.mu.Lock()
	e, ok := cs.cache[uid]
	cs.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.c
	}
	gid := cs.anonGID
	var groups []int
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err != nil {
		// No passwd entry: the user-private-group convention (gid =
		// uid, as the guests and containers that use such uids do),
		// unless that gid is a group of this node, whose rights the
		// stranger must not get.
		if _, err := user.LookupGroupId(id); err != nil {
			gid = uid
		}
	} else {
		if g, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			gid = uint32(g)
		}
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := strconv.ParseUint(id, 10, 32); err == nil {
					groups = append(groups, int(g))
				}
			}
		}
	}
	c := newCred(uid, gid, groups, cs.euid, cs.egid)
	cs.mu.Lock()
	cs.cache[uid] = cacheEntry{c: c, expires: now.Add(ttl)}
	cs.mu.Unlock()
	return c
}

// RunAs runs fn with c's credentials on its thread (fn itself when c is
// nil or the process's own). The goroutine is locked to its OS thread
// while they are in force, and they are put back before it is unlocked,
// also when fn panics (the panic then goes on); a thread that cannot be
// put back stays locked to the goroutine, so Go retires it with the
// goroutine rather than let another goroutine run on it with a stranger's
// identity. The error is that of the switch or of the restore.
func RunAs(c *Cred, fn func()) (err error) {
	if c == nil || c.self {
		fn()
		return nil
	}
	runtime.LockOSThread()
	if err := become(c); err != nil {
		if restore(true) == nil {
			runtime.UnlockOSThread()
		}
		return err
	}
	defer func() {
		if rerr := restore(!c.keepCaps); rerr != nil {
			err = fmt.Errorf("restore credentials: %w", rerr)
			return
		}
		runtime.UnlockOSThread()
	}()
	fn()
	return nil
}

// own is the process's own thread credentials, read once: what restore
// puts back. They never change (the server does not call setuid).
var own struct {
	once   sync.Once
	fsuid  int
	fsgid  int
	groups []int
	caps   [2]unix.CapUserData
	err    error
}

func loadOwn() error {
	own.once.Do(func() {
		hdr := capHeader
		if err := unix.Capget(&hdr, &own.caps[0]); err != nil {
			own.err = fmt.Errorf("capget: %w", err)
			return
		}
		g, err := unix.Getgroups()
		if err != nil {
			own.err = fmt.Errorf("getgroups: %w", err)
			return
		}
		own.groups = g
		own.fsuid, own.fsgid = os.Geteuid(), os.Getegid()
	})
	return own.err
}

var capHeader = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}

// become switches the calling thread, which has the process's own
// credentials, to c: groups, fsgid, fsuid, then no effective capabilities
// (setfsuid clears only the file-system ones; a thread that kept
// CAP_SYS_ADMIN or CAP_SETFCAP would let the user set trusted.* attributes
// or file capabilities).
func become(c *Cred) error {
	if err := loadOwn(); err != nil {
		return err
	}
	if err := unix.Setgroups(c.Groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setfsgid(int(c.GID)); err != nil {
		return fmt.Errorf("setfsgid %d: %w", c.GID, err)
	}
	if err := unix.Setfsuid(int(c.UID)); err != nil {
		return fmt.Errorf("setfsuid %d: %w", c.UID, err)
	}
	if c.UID != 0 && !c.keepCaps {
		hdr := capHeader
		none := [2]unix.CapUserData{
			{Permitted: own.caps[0].Permitted, Inheritable: own.caps[0].Inheritable},
			{Permitted: own.caps[1].Permitted, Inheritable: own.caps[1].Inheritable},
		}
		if err := unix.Capset(&hdr, &none[0]); err != nil {
			return fmt.Errorf("capset: %w", err)
		}
	}
	return nil
}

// restore puts the process's own credentials back on the calling thread,
// capabilities first (setgroups and setfsuid need them) if become dropped
// them.
func restore(caps bool) error {
	if err := loadOwn(); err != nil {
		return err
	}
	if caps {
		hdr := capHeader
		saved := own.caps
		if err := unix.Capset(&hdr, &saved[0]); err != nil {
			return fmt.Errorf("capset: %w", err)
		}
	}
	if err := unix.Setfsuid(own.fsuid); err != nil {
		return fmt.Errorf("setfsuid: %w", err)
	}
	if err := unix.Setfsgid(own.fsgid); err != nil {
		return fmt.Errorf("setfsgid: %w", err)
	}
	if err := unix.Setgroups(own.groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	return nil
}
