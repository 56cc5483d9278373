package client

import (
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// The conversions between 9P2000's stat (fcall.Dir) and 9P2000.L's
// attributes, as Linux's v9fs makes them (fs/9p/vfs_inode.c).

// attrOfDir converts a Dir to the attributes Tgetattr would have given:
// the mode from the DM bits (9P2000.u's file types, devices and setuid,
// setgid and sticky bits in that dialect only), uid and gid from 9P2000.u's
// numbers or, where there are none, from the names as this host knows
// them, size and the times to the second. NLink is 1 and Blocks the size in
// 512-byte blocks, as v9fs makes them up, but neither is marked valid.
func (d *dialect9) attrOfDir(dir *fcall.Dir) (p9.AttrMask, p9.Attr) {
	u := d.u
	valid := p9.AttrMask{Mode: true, Size: true, ATime: true, MTime: true}
	a := p9.Attr{
		NLink:        1,
		Size:         dir.Length,
		Blocks:       (dir.Length + 511) / 512,
		ATimeSeconds: uint64(dir.Atime),
		MTimeSeconds: uint64(dir.Mtime),
	}
	var rdev bool
	a.Mode, a.RDev, rdev = d.modeOfDir(dir)
	valid.RDev = rdev
	a.UID, a.GID = p9.NoUID, p9.NoGID
	if u && dir.NUID != fcall.NoTouch32 {
		a.UID = p9.UID(dir.NUID)
	} else if id, ok := d.ids.uid(dir.UID); ok {
		a.UID = p9.UID(id)
	}
	if u && dir.NGID != fcall.NoTouch32 {
		a.GID = p9.GID(dir.NGID)
	} else if id, ok := d.ids.gid(dir.GID); ok {
		a.GID = p9.GID(id)
	}
	valid.UID, valid.GID = a.UID != p9.NoUID, a.GID != p9.NoGID
	return valid, a
}

// modeOfDir is the mode of a Dir: its rwx bits, its type (from DMDIR, and
// in 9P2000.u from DMSYMLINK, DMSOCKET, DMNAMEDPIPE, DMDEVICE with the
// extension's "b|c major minor", which also gives rdev), and in 9P2000.u
// its setuid, setgid and sticky bits.
func (d *dialect9) modeOfDir(dir *fcall.Dir) (m p9.FileMode, rdev p9.Dev, isDev bool) {
	u := d.u
	m = p9.FileMode(dir.Mode & 0o777)
	switch {
	case dir.Mode&fcall.DMDIR != 0:
		m |= p9.ModeDirectory
	case u && dir.Mode&fcall.DMSYMLINK != 0:
		m |= p9.ModeSymlink
	case u && dir.Mode&fcall.DMSOCKET != 0:
		m |= p9.ModeSocket
	case u && dir.Mode&fcall.DMNAMEDPIPE != 0:
		m |= p9.ModeNamedPipe
	case u && dir.Mode&fcall.DMDEVICE != 0:
		if block, major, minor, ok := fcall.ParseDevice(dir.Extension); ok {
			if block {
				m |= p9.ModeBlockDevice
			} else {
				m |= p9.ModeCharacterDevice
			}
			rdev, isDev = p9.Dev(unix.Mkdev(major, minor)), true
		} else {
			m |= p9.ModeRegular
		}
	default:
		m |= p9.ModeRegular
	}
	if u {
		m |= p9.FileMode(fcall.UnixSpecial(dir.Mode))
	}
	return m, rdev, isDev
}

// dirOfSetAttr builds the Twstat of a Tsetattr: every field "don't touch"
// but those valid sets. The mode keeps DMDIR for a directory (a server
// refuses to change it); setuid, setgid and sticky bits go in 9P2000.u only
// (9P2000 has none); a time "now" is this host's now (9P2000 has no word
// for the server's); owner and group go as numbers in 9P2000.u and as
// names in 9P2000. It reports false when valid sets nothing 9P2000 has.
func (d *dialect9) dirOfSetAttr(isDir bool, valid p9.SetAttrMask, attr p9.SetAttr) (fcall.Dir, bool) {
	st := fcall.NoTouchDir()
	touched := false
	if valid.Permissions {
		st.Mode = d.dirPerm(attr.Permissions)
		if isDir {
			st.Mode |= fcall.DMDIR
		}
		touched = true
	}
	if valid.Size {
		st.Length = attr.Size
		touched = true
	}
	now := uint32(time.Now().Unix())
	if valid.ATime {
		st.Atime = now
		if valid.ATimeNotSystemTime {
			st.Atime = uint32(attr.ATimeSeconds)
		}
		touched = true
	}
	if valid.MTime {
		st.Mtime = now
		if valid.MTimeNotSystemTime {
			st.Mtime = uint32(attr.MTimeSeconds)
		}
		touched = true
	}
	if valid.UID {
		if d.u {
			st.NUID = uint32(attr.UID)
		} else {
			st.UID = userName(uint32(attr.UID))
		}
		touched = true
	}
	if valid.GID {
		if d.u {
			st.NGID = uint32(attr.GID)
		} else {
			st.GID = groupName(uint32(attr.GID))
		}
		touched = true
	}
	return st, touched
}

// dirPerm is the 9P2000 permission of a mode: its rwx bits, and in
// 9P2000.u its setuid, setgid and sticky bits.
func (d *dialect9) dirPerm(m p9.FileMode) uint32 {
	perm := uint32(m & 0o777)
	if d.u {
		perm |= fcall.DMSpecial(uint32(m))
	}
	return perm
}

// openMode is the Topen and Tcreate mode of Linux open flags: the access
// mode, O_TRUNC as OTRUNC, and in 9P2000.u O_APPEND as OAPPEND.
func (d *dialect9) openMode(flags p9.OpenFlags) uint8 {
	m := uint8(flags & p9.OpenFlagsModeMask)
	if flags&unix.O_TRUNC != 0 {
		m |= fcall.OTRUNC
	}
	if d.u && flags&unix.O_APPEND != 0 {
		m |= fcall.OAPPEND
	}
	return m
}

// idCache resolves the user and group names of 9P2000 stats through this
// host's passwd and group databases, each name once per connection.
type idCache struct {
	mu     sync.Mutex
	users  map[string]idAnswer
	groups map[string]idAnswer
}

type idAnswer struct {
	id uint32
	ok bool
}

// uid is the uid of the user name: the passwd entry's, else name as a
// number, else none.
func (c *idCache) uid(name string) (uint32, bool) {
	return c.lookup(&c.users, name, func(s string) (string, error) {
		u, err := user.Lookup(s)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	})
}

// gid is uid for group names.
func (c *idCache) gid(name string) (uint32, bool) {
	return c.lookup(&c.groups, name, func(s string) (string, error) {
		g, err := user.LookupGroup(s)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	})
}

func (c *idCache) lookup(m *map[string]idAnswer, name string, find func(string) (string, error)) (uint32, bool) {
	if name == "" {
		return 0, false
	}
	c.mu.Lock()
	a, ok := (*m)[name]
	c.mu.Unlock()
	if ok {
		return a.id, a.ok
	}
	a.id, a.ok = parseID(name)
	if s, err := find(name); err == nil {
		if id, ok := parseID(s); ok {
			a = idAnswer{id: id, ok: true}
		}
	}
	c.mu.Lock()
	if *m == nil {
		*m = make(map[string]idAnswer)
	}
	(*m)[name] = a
	c.mu.Unlock()
	return a.id, a.ok
}

// parseID reads a decimal id; the all-ones id is "none".
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// userName is the name of uid on this host, else its number.
func userName(uid uint32) string {
	s := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(s); err == nil {
		return u.Username
	}
	return s
}

// groupName is userName for groups.
func groupName(gid uint32) string {
	s := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(s); err == nil {
		return g.Name
	}
	return s
}
