// Package cred (temporary copy; replaced by the srv9p split)
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

// cred is a user whose file operations the server runs as: fsuid, fsgid,
// supplementary groups, and for anyone but root no effective
// capabilities, so the kernel's own permission checks apply.
type Cred struct {
	UID, GID uint32
	Groups   []int
	// self: the server's own identity; nothing to switch.
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

// creds builds and caches creds from the node's user and group databases.
type creds struct {
	anonGID uint32
	euid    uint32
	egid    uint32

	mu    sync.Mutex
	cache map[uint32]credEntry
}

type credEntry struct {
	c       *Cred
	expires time.Time
}

// credTTL is how long a user's groups are cached.
const credTTL = 30 * time.Second

func newCreds(anonGID uint32) *creds {
	return &creds{anonGID: anonGID, euid: uint32(os.Geteuid()), egid: uint32(os.Getegid()), cache: make(map[uint32]credEntry)}
}

// of returns the cred of uid. Its primary gid and groups come from the
// user database. A uid with no passwd entry still works, with no
// supplementary groups and the gid of the same number if no group of
// this node has it (else the anonymous gid).
func (cs *creds) of(uid uint32) *Cred {
	now := time.Now()
	cs.mu.Lock()
	e, ok := cs.cache[uid]
	cs.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.c
	}
	c := &Cred{UID: uid, GID: cs.anonGID}
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err != nil {
		// No passwd entry: the user-private-group convention (gid =
		// uid, as the guests and containers that use such uids do),
		// unless that gid is a group of this node, whose rights the
		// stranger must not get.
		if _, err := user.LookupGroupId(id); err != nil {
			c.GID = uid
		}
	} else {
		if g, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			c.GID = uint32(g)
		}
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := strconv.ParseUint(id, 10, 32); err == nil {
					c.Groups = append(c.Groups, int(g))
				}
			}
		}
	}
	c.self = uid == cs.euid && (uid == 0 || c.GID == cs.egid)
	fs := *c
	fs.keepCaps = true
	c.fsOnly = &fs
	cs.mu.Lock()
	cs.cache[uid] = credEntry{c: c, expires: now.Add(credTTL)}
	cs.mu.Unlock()
	return c
}

// runAs runs fn with c's credentials on its thread. The goroutine is
// locked to its OS thread while they are in force, and they are put back
// before it is unlocked; a thread that cannot be put back stays locked to
// the goroutine, so Go retires it with the goroutine rather than let
// another goroutine run on it with a stranger's identity.
func RunAs(c *Cred, fn func()) error {
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
	fn()
	if err := restore(!c.keepCaps); err != nil {
		return fmt.Errorf("restore credentials: %w", err)
	}
	runtime.UnlockOSThread()
	return nil
}

// own is the server's own thread credentials, read once: what restore
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

// become switches the calling thread, which has the server's own
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

// restore puts the server's own credentials back on the calling thread,
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

// New returns the Cred of uid, gid and groups as given.
func New(uid, gid uint32, groups []int) *Cred {
	c := &Cred{UID: uid, GID: gid, Groups: groups}
	c.self = uid == uint32(os.Geteuid()) && (uid == 0 || gid == uint32(os.Getegid()))
	fs := *c
	fs.keepCaps = true
	c.fsOnly = &fs
	return c
}
