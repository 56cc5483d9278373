package srv9p

import (
	"os/user"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// Tstat, Twstat and directory reads of 9P2000 and 9P2000.u: a p9.Attr as
// the Dir of stat(5), and back.

// statMask is what a Dir is made of.
var statMask = p9.AttrMask{Mode: true, UID: true, GID: true, RDev: true, ATime: true, MTime: true, Size: true}

// stat9 is Tstat. The attach root is named "/", as Plan 9's servers name
// theirs.
func (c *conn) stat9(m *fcall.Tstat) (fcall.Msg, error) {
	f, err := c.file(m.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	name := "/"
	if p := f.names(); len(p) > 0 {
		name = p[len(p)-1]
	}
	qid, _, a, err := f.file.GetAttr(statMask)
	if err != nil {
		return nil, err
	}
	return &fcall.Rstat{Stat: c.dirOf(f.file.Readlink, name, qid, a)}, nil
}

// dirOf is the Dir of a file named name whose attributes are a. In
// 9P2000.u a symlink's target (from readlink) and a device's numbers
// travel in the extension.
func (c *conn) dirOf(readlink func() (string, error), name string, qid p9.QID, a p9.Attr) fcall.Dir {
	d := fcall.Dir{
		QID:    qid,
		Mode:   uint32(a.Mode.Permissions()) & 0o777,
		Atime:  uint32(a.ATimeSeconds),
		Mtime:  uint32(a.MTimeSeconds),
		Length: a.Size,
		Name:   name,
		UID:    c.srv.names.user(uint32(a.UID)),
		GID:    c.srv.names.group(uint32(a.GID)),
		NUID:   uint32(a.UID),
		NGID:   uint32(a.GID),
		NMUID:  uint32(a.UID),
	}
	d.MUID = d.UID
	ft := a.Mode.FileType()
	switch ft {
	case p9.ModeDirectory:
		d.Mode |= fcall.DMDIR
		d.Length = 0
	case p9.ModeRegular:
	default:
		d.Length = 0
	}
	if c.dialect != fcall.U {
		d.QID.Type &^= p9.TypeSymlink | p9.TypeLink
		return d
	}
	d.Mode |= fcall.DMSpecial(uint32(a.Mode))
	switch ft {
	case p9.ModeSymlink:
		d.Mode |= fcall.DMSYMLINK
		if t, err := readlink(); err == nil {
			d.Extension = t
			d.Length = uint64(len(t))
		}
	case p9.ModeBlockDevice, p9.ModeCharacterDevice:
		d.Mode |= fcall.DMDEVICE
		d.Extension = fcall.DeviceExtension(ft == p9.ModeBlockDevice, unix.Major(uint64(a.RDev)), unix.Minor(uint64(a.RDev)))
	case p9.ModeNamedPipe:
		d.Mode |= fcall.DMNAMEDPIPE
	case p9.ModeSocket:
		d.Mode |= fcall.DMSOCKET
	}
	return d
}

// wstat9 is Twstat: the fields that are not "don't touch" are set — mode
// (chmod), length (truncate), mtime and atime, owner and group (by name,
// or by number in 9P2000.u), and the name (a rename within the
// directory), last.
func (c *conn) wstat9(m *fcall.Twstat) (fcall.Msg, error) {
	f, err := c.file(m.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	d := &m.Stat
	var mask p9.SetAttrMask
	var set p9.SetAttr
	var cur p9.Attr
	curOK := false
	current := func() (p9.Attr, error) {
		if !curOK {
			_, _, a, err := f.file.GetAttr(p9.AttrMask{Mode: true, UID: true, GID: true})
			if err != nil {
				return a, err
			}
			cur, curOK = a, true
		}
		return cur, nil
	}
	if d.Mode != fcall.NoTouch32 {
		if (d.Mode&fcall.DMDIR != 0) != f.isDir() {
			return nil, errConvert
		}
		if d.Mode&(fcall.DMAPPEND|fcall.DMEXCL) != 0 {
			return nil, errNoForm
		}
		perm := d.Mode & 0o777
		if c.dialect == fcall.U {
			perm |= fcall.UnixSpecial(d.Mode)
		} else {
			// 9P2000 cannot say setuid, setgid or sticky: a chmod from
			// it keeps the ones the file has.
			a, err := current()
			if err != nil {
				return nil, err
			}
			perm |= uint32(a.Mode) & (unix.S_ISUID | unix.S_ISGID | unix.S_ISVTX)
		}
		mask.Permissions, set.Permissions = true, p9.FileMode(perm)
	}
	if d.Length != fcall.NoTouch64 {
		if f.isDir() {
			if d.Length != 0 {
				return nil, errDirMode
			}
		} else {
			mask.Size, set.Size = true, d.Length
		}
	}
	if d.Mtime != fcall.NoTouch32 {
		mask.MTime, mask.MTimeNotSystemTime, set.MTimeSeconds = true, true, uint64(d.Mtime)
	}
	if d.Atime != fcall.NoTouch32 {
		mask.ATime, mask.ATimeNotSystemTime, set.ATimeSeconds = true, true, uint64(d.Atime)
	}
	uid, gid, err := c.owners(d)
	if err != nil {
		return nil, err
	}
	if uid != fcall.NoTouch32 || gid != fcall.NoTouch32 {
		// Only what changes: Plan 9 clients send the owner they read.
		a, err := current()
		if err != nil {
			return nil, err
		}
		if uid != fcall.NoTouch32 && uid != uint32(a.UID) {
			mask.UID, set.UID = true, p9.UID(uid)
		}
		if gid != fcall.NoTouch32 && gid != uint32(a.GID) {
			mask.GID, set.GID = true, p9.GID(gid)
		}
	}
	if mask != (p9.SetAttrMask{}) {
		if err := f.file.SetAttr(mask, set); err != nil {
			return nil, err
		}
	}
	if d.Name != "" {
		if err := c.rename9(f, d.Name); err != nil {
			return nil, err
		}
	}
	return &fcall.Rwstat{}, nil
}

// owners reads the owner and group a Twstat asks for: numbers in 9P2000.u,
// else names through the node's databases (decimal numbers too).
func (c *conn) owners(d *fcall.Dir) (uid, gid uint32, err error) {
	uid, gid = fcall.NoTouch32, fcall.NoTouch32
	switch {
	case c.dialect == fcall.U && d.NUID != fcall.NoTouch32:
		uid = d.NUID
	case d.UID != "":
		v, ok := c.srv.names.userID(d.UID)
		if !ok {
			return 0, 0, &wordError{linux.EINVAL, "unknown user"}
		}
		uid = v
	}
	switch {
	case c.dialect == fcall.U && d.NGID != fcall.NoTouch32:
		gid = d.NGID
	case d.GID != "":
		v, ok := c.srv.names.groupID(d.GID)
		if !ok {
			return 0, 0, &wordError{linux.EINVAL, "unknown group"}
		}
		gid = v
	}
	return uid, gid, nil
}

// rename9 renames fid f's file within its directory; the paths of the
// connection's fids below it follow.
func (c *conn) rename9(f *fid, name string) error {
	path := f.names()
	if len(path) == 0 {
		return errRoot
	}
	if name == path[len(path)-1] {
		return nil
	}
	if !validName(name) {
		return &wordError{linux.EINVAL, "illegal name"}
	}
	dir, old, err := c.parentOf(f)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := dir.RenameAt(old, dir, name); err != nil {
		return err
	}
	c.renamed(f, path, join(path[:len(path)-1], name))
	return nil
}

// makeSpecial makes what a 9P2000.u Tcreate with a special perm asks for
// in directory d: a symlink (the extension is its target), a hard link
// (the extension is the source's fid and a newline), a device ("b|c
// major minor"), a named pipe or a socket.
func (c *conn) makeSpecial(d *fid, m *fcall.Tcreate, perm p9.FileMode) error {
	switch {
	case m.Perm&fcall.DMSYMLINK != 0:
		_, err := d.file.Symlink(m.Extension, m.Name, d.uid, p9.NoGID)
		return err
	case m.Perm&fcall.DMLINK != 0:
		n, err := strconv.ParseUint(trimNewline(m.Extension), 10, 32)
		if err != nil {
			return &wordError{linux.EINVAL, "bad hard link source fid"}
		}
		src, err := c.file(uint32(n))
		if err != nil {
			return err
		}
		defer src.release()
		return d.file.Link(src.file, m.Name)
	case m.Perm&fcall.DMDEVICE != 0:
		block, major, minor, ok := fcall.ParseDevice(m.Extension)
		if !ok {
			return &wordError{linux.EINVAL, "bad device extension"}
		}
		ft := p9.ModeCharacterDevice
		if block {
			ft = p9.ModeBlockDevice
		}
		_, err := d.file.Mknod(m.Name, ft|perm, major, minor, d.uid, p9.NoGID)
		return err
	case m.Perm&fcall.DMNAMEDPIPE != 0:
		_, err := d.file.Mknod(m.Name, p9.ModeNamedPipe|perm, 0, 0, d.uid, p9.NoGID)
		return err
	default:
		_, err := d.file.Mknod(m.Name, p9.ModeSocket|perm, 0, 0, d.uid, p9.NoGID)
		return err
	}
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}

// dirReader is the reading of one open directory in 9P2000 and 9P2000.u,
// where a Tread returns whole Dir entries at byte offsets: entries are
// made in order, and the offset of each is the sum of the sizes before
// it, so the offsets a client was handed stay good (a Tread at 0 starts
// again; at an earlier offset, the listing is made again up to there).
type dirReader struct {
	mu      sync.Mutex
	offset  uint64 // byte offset of pending[0]
	cookie  uint64 // Readdir offset after the last entry made
	pending []byte // entries made and not yet read
	eof     bool
}

// dirBatch is how many entries one Readdir call asks for.
const dirBatch = 64

// readDir9 is a Tread of an open directory: whole stat entries at byte
// offsets that stay good (a read at 0 starts again, at another offset
// handed out continues there, inside an entry is ESPIPE).
func (c *conn) readDir9(f *fid, m *fcall.Tread) (fcall.Msg, error) {
	count := int(min(m.Count, c.msize-fcall.RreadHeaderSize))
	f.mu.Lock()
	dr := f.dirs
	if dr == nil {
		dr = new(dirReader)
		f.dirs = dr
	}
	f.mu.Unlock()
	dr.mu.Lock()
	defer dr.mu.Unlock()
	if m.Offset < dr.offset || m.Offset == 0 {
		dr.offset, dr.cookie, dr.pending, dr.eof = 0, 0, nil, false
	}
	for dr.offset < m.Offset {
		if err := c.fillDir(f, dr, 1); err != nil {
			return nil, err
		}
		if len(dr.pending) == 0 {
			return &fcall.Rread{}, nil // past the end
		}
		n := entrySize(dr.pending)
		if dr.offset+uint64(n) > m.Offset {
			return nil, linux.ESPIPE // not an entry's offset
		}
		dr.pending = dr.pending[n:]
		dr.offset += uint64(n)
	}
	if err := c.fillDir(f, dr, count); err != nil {
		return nil, err
	}
	n := 0
	for n < len(dr.pending) {
		e := entrySize(dr.pending[n:])
		if n+e > count {
			break
		}
		n += e
	}
	if n == 0 && len(dr.pending) > 0 {
		return nil, &wordError{linux.EINVAL, "read count too small for a directory entry"}
	}
	data := append([]byte(nil), dr.pending[:n]...)
	dr.pending = dr.pending[n:]
	dr.offset += uint64(n)
	return &fcall.Rread{Data: data}, nil
}

// entrySize is the size of the Dir at the start of b.
func entrySize(b []byte) int { return 2 + (int(b[0]) | int(b[1])<<8) }

// fillDir makes entries until want bytes are pending or the directory
// ends. An entry that vanished between Readdir and its stat is left out.
func (c *conn) fillDir(f *fid, dr *dirReader, want int) error {
	es, _ := f.file.(EntryStater)
	for len(dr.pending) < want && !dr.eof {
		ents, err := f.file.Readdir(dr.cookie, dirBatch)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			dr.eof = true
			break
		}
		dr.cookie = ents[len(ents)-1].Offset
		ents = slices.DeleteFunc(ents, func(e p9.Dirent) bool { return e.Name == "." || e.Name == ".." })
		var stats []EntryStat
		if es != nil {
			names := make([]string, 0, len(ents))
			for _, e := range ents {
				if !c.follows(e) {
					names = append(names, e.Name)
				}
			}
			if stats = es.StatEntries(names); len(stats) != len(names) {
				stats = nil // a broken answer: walk to each
			}
		}
		for _, e := range ents {
			var d fcall.Dir
			var err error
			st := EntryStat{Err: linux.ENOSYS}
			if stats != nil && !c.follows(e) {
				st, stats = stats[0], stats[1:]
			}
			if linux.ExtractErrno(st.Err) == linux.ENOSYS {
				d, err = c.entryDir(f, e)
			} else if err = st.Err; err == nil {
				d = c.dirOf(func() (string, error) { return st.Target, nil }, e.Name, st.QID, st.Attr)
			}
			if err == nil {
				dr.pending = fcall.AppendDir(dr.pending, c.dialect, &d)
			}
		}
	}
	return nil
}

// follows reports whether the server follows directory entry e: in
// 9P2000, a symlink (to the file it leads to within the attach).
func (c *conn) follows(e p9.Dirent) bool {
	return c.dialect == fcall.Plan9 && e.QID.Type&p9.TypeSymlink != 0
}

// entryDir is the Dir of directory entry e of f found by a walk; in
// 9P2000, of the file a symlink that stays inside the attach leads to,
// under the link's name.
func (c *conn) entryDir(f *fid, e p9.Dirent) (fcall.Dir, error) {
	follow := c.follows(e)
	if !follow {
		// One call where the file system has it.
		qids, nf, _, a, err := f.file.WalkGetAttr([]string{e.Name})
		if err == nil {
			defer nf.Close()
			if len(qids) != 1 {
				return fcall.Dir{}, linux.EIO
			}
			return c.dirOf(nf.Readlink, e.Name, qids[0], a), nil
		}
		if linux.ExtractErrno(err) != linux.ENOSYS {
			return fcall.Dir{}, err
		}
	}
	var nf p9.File
	var qid p9.QID
	var err error
	if follow {
		nf, _, qid, err = c.step(f.tree(), f.file, f.names(), e.Name, 0)
	} else {
		var qids []p9.QID
		qids, nf, err = f.file.Walk([]string{e.Name})
		if err == nil && len(qids) != 1 {
			nf.Close()
			err = linux.EIO
		}
		if err == nil {
			qid = qids[0]
		}
	}
	if err != nil {
		return fcall.Dir{}, err
	}
	defer nf.Close()
	_, _, a, err := nf.GetAttr(statMask)
	if err != nil {
		return fcall.Dir{}, err
	}
	return c.dirOf(nf.Readlink, e.Name, qid, a), nil
}

// namesTTL is how long names are cached, as long as internal/cred keeps a
// user's groups.
const namesTTL = 30 * time.Second

// idNames names uids and gids for Dirs and reads the names of Twstat and
// of attaches, through the node's passwd and group databases, cached for
// namesTTL.
type idNames struct {
	mu     sync.Mutex
	users  map[uint32]string
	groups map[uint32]string
	byName map[string]uint32 // "u:name" and "g:name"
	at     time.Time
}

func (n *idNames) fresh() {
	if n.users == nil || time.Since(n.at) > namesTTL {
		n.users, n.groups, n.byName = make(map[uint32]string), make(map[uint32]string), make(map[string]uint32)
		n.at = time.Now()
	}
}

// user returns the login name of uid, or its number.
func (n *idNames) user(uid uint32) string {
	return n.name(func() map[uint32]string { return n.users }, uid, func(s string) (string, error) {
		u, err := user.LookupId(s)
		if err != nil {
			return "", err
		}
		return u.Username, nil
	})
}

// group returns the name of gid, or its number.
func (n *idNames) group(gid uint32) string {
	return n.name(func() map[uint32]string { return n.groups }, gid, func(s string) (string, error) {
		g, err := user.LookupGroupId(s)
		if err != nil {
			return "", err
		}
		return g.Name, nil
	})
}

// name looks id up in the cache table gives (after fresh) or with lookup.
func (n *idNames) name(table func() map[uint32]string, id uint32, lookup func(string) (string, error)) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.fresh()
	t := table()
	if s, ok := t[id]; ok {
		return s
	}
	s := strconv.FormatUint(uint64(id), 10)
	if name, err := lookup(s); err == nil {
		s = name
	}
	t[id] = s
	return s
}

// userID returns the uid of a login name or decimal number.
func (n *idNames) userID(name string) (uint32, bool) {
	return n.id("u:", name, func(s string) (string, error) {
		u, err := user.Lookup(s)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	})
}

// groupID returns the gid of a group name or decimal number.
func (n *idNames) groupID(name string) (uint32, bool) {
	return n.id("g:", name, func(s string) (string, error) {
		g, err := user.LookupGroup(s)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	})
}

func (n *idNames) id(kind, name string, lookup func(string) (string, error)) (uint32, bool) {
	if v, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(v), true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.fresh()
	if v, ok := n.byName[kind+name]; ok {
		return v, v != fcall.NoTouch32
	}
	v := fcall.NoTouch32
	if s, err := lookup(name); err == nil {
		if x, err := strconv.ParseUint(s, 10, 32); err == nil {
			v = uint32(x)
		}
	}
	n.byName[kind+name] = v
	return v, v != fcall.NoTouch32
}
