package namespace

import (
	"context"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p"
)

// localFile is a file of the serving node, served in-process from the
// local export: every method calls the export's file directly, mapping
// only QIDs (and checking that renames and links stay on this node). The
// read and write paths add one method call.
//
// top marks the node's root directory, whose QID is the reserved
// nodeDirQID (see qid.go).
type localFile struct {
	ns  *Namespace
	f   p9.File
	top bool
}

var (
	_ p9.File           = (*localFile)(nil)
	_ srv9p.GetLocker   = (*localFile)(nil)
	_ srv9p.LockWaiter  = (*localFile)(nil)
	_ srv9p.Inline      = (*localFile)(nil)
	_ srv9p.EntryStater = (*localFile)(nil)
)

func (l *localFile) id() int { return l.ns.here }

func (l *localFile) qid(q p9.QID) p9.QID {
	if l.top {
		return nodeDirQID(l.ns.here)
	}
	return l.ns.mapQID(l.ns.here, q)
}

func (l *localFile) wrap(f p9.File, top bool) *localFile { return &localFile{ns: l.ns, f: f, top: top} }

// Walk implements p9.File.Walk.
func (l *localFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	q, f, err := l.f.Walk(names)
	if err != nil {
		return nil, nil, err
	}
	return l.ns.mapQIDs(l.id(), q), l.wrap(f, l.top && len(names) == 0), nil
}

// WalkGetAttr implements p9.File.WalkGetAttr.
func (l *localFile) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	q, f, m, a, err := l.f.WalkGetAttr(names)
	if err != nil {
		return nil, nil, m, a, err
	}
	return l.ns.mapQIDs(l.id(), q), l.wrap(f, l.top && len(names) == 0), m, a, nil
}

// StatFS implements p9.File.StatFS.
func (l *localFile) StatFS() (p9.FSStat, error) { return l.f.StatFS() }

// GetAttr implements p9.File.GetAttr.
func (l *localFile) GetAttr(req p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	q, m, a, err := l.f.GetAttr(req)
	return l.qid(q), m, a, err
}

// SetAttr implements p9.File.SetAttr.
func (l *localFile) SetAttr(valid p9.SetAttrMask, attr p9.SetAttr) error {
	return l.f.SetAttr(valid, attr)
}

// Close implements p9.File.Close.
func (l *localFile) Close() error { return l.f.Close() }

// Open implements p9.File.Open.
func (l *localFile) Open(mode p9.OpenFlags) (p9.QID, uint32, error) {
	q, iounit, err := l.f.Open(mode)
	return l.qid(q), iounit, err
}

// ReadAt implements p9.File.ReadAt.
func (l *localFile) ReadAt(p []byte, off int64) (int, error) { return l.f.ReadAt(p, off) }

// WriteAt implements p9.File.WriteAt.
func (l *localFile) WriteAt(p []byte, off int64) (int, error) { return l.f.WriteAt(p, off) }

// SetXattr implements p9.File.SetXattr.
func (l *localFile) SetXattr(attr string, data []byte, flags p9.XattrFlags) error {
	return l.f.SetXattr(attr, data, flags)
}

// GetXattr implements p9.File.GetXattr.
func (l *localFile) GetXattr(attr string) ([]byte, error) { return l.f.GetXattr(attr) }

// ListXattrs implements p9.File.ListXattrs.
func (l *localFile) ListXattrs() ([]string, error) { return l.f.ListXattrs() }

// RemoveXattr implements p9.File.RemoveXattr.
func (l *localFile) RemoveXattr(attr string) error { return l.f.RemoveXattr(attr) }

// FSync implements p9.File.FSync.
func (l *localFile) FSync() error { return l.f.FSync() }

// Lock implements p9.File.Lock.
func (l *localFile) Lock(pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	return l.f.Lock(pid, typ, flags, start, length, client)
}

// LockWait implements srv9p.LockWaiter: the export's file waits, or, if it
// cannot, answers at once.
func (l *localFile) LockWait(ctx context.Context, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	if w, ok := l.f.(srv9p.LockWaiter); ok {
		return w.LockWait(ctx, pid, typ, flags, start, length, client)
	}
	return l.f.Lock(pid, typ, flags, start, length, client)
}

// GetLock implements srv9p.GetLocker through the export's file.
func (l *localFile) GetLock(want srv9p.LockInfo) (srv9p.LockInfo, error) {
	if g, ok := l.f.(srv9p.GetLocker); ok {
		return g.GetLock(want)
	}
	return srv9p.LockInfo{}, linux.ENOSYS
}

// Inline implements srv9p.Inline: as the export's file says.
func (l *localFile) Inline() bool {
	in, ok := l.f.(srv9p.Inline)
	return ok && in.Inline()
}

// Create implements p9.File.Create.
func (l *localFile) Create(name string, flags p9.OpenFlags, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.File, p9.QID, uint32, error) {
	f, q, iounit, err := l.f.Create(name, flags, perm, uid, gid)
	if err != nil {
		return nil, q, iounit, err
	}
	return l.wrap(f, false), l.ns.mapQID(l.id(), q), iounit, nil
}

// Mkdir implements p9.File.Mkdir.
func (l *localFile) Mkdir(name string, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.QID, error) {
	q, err := l.f.Mkdir(name, perm, uid, gid)
	return l.ns.mapQID(l.id(), q), err
}

// Symlink implements p9.File.Symlink.
func (l *localFile) Symlink(oldName, newName string, uid p9.UID, gid p9.GID) (p9.QID, error) {
	q, err := l.f.Symlink(oldName, newName, uid, gid)
	return l.ns.mapQID(l.id(), q), err
}

// Link implements p9.File.Link; a target on another node is EXDEV.
func (l *localFile) Link(target p9.File, newName string) error {
	t, ok := target.(*localFile)
	if !ok {
		return linux.EXDEV
	}
	return l.f.Link(t.f, newName)
}

// Mknod implements p9.File.Mknod.
func (l *localFile) Mknod(name string, mode p9.FileMode, major, minor uint32, uid p9.UID, gid p9.GID) (p9.QID, error) {
	q, err := l.f.Mknod(name, mode, major, minor, uid, gid)
	return l.ns.mapQID(l.id(), q), err
}

// Rename implements p9.File.Rename (not called by the server).
func (l *localFile) Rename(newDir p9.File, newName string) error {
	d, ok := newDir.(*localFile)
	if !ok {
		return linux.EXDEV
	}
	return l.f.Rename(d.f, newName)
}

// RenameAt implements p9.File.RenameAt; a directory on another node (or
// the union root) is EXDEV.
func (l *localFile) RenameAt(oldName string, newDir p9.File, newName string) error {
	d, ok := newDir.(*localFile)
	if !ok {
		return linux.EXDEV
	}
	return l.f.RenameAt(oldName, d.f, newName)
}

// UnlinkAt implements p9.File.UnlinkAt.
func (l *localFile) UnlinkAt(name string, flags uint32) error { return l.f.UnlinkAt(name, flags) }

// Readdir implements p9.File.Readdir.
func (l *localFile) Readdir(off uint64, count uint32) (p9.Dirents, error) {
	ds, err := l.f.Readdir(off, count)
	return l.ns.fixDirents(l.id(), ds), err
}

// StatEntries implements srv9p.EntryStater through the export's file.
func (l *localFile) StatEntries(names []string) []srv9p.EntryStat {
	es, ok := l.f.(srv9p.EntryStater)
	if !ok {
		out := make([]srv9p.EntryStat, len(names))
		for i := range out {
			out[i].Err = linux.ENOSYS
		}
		return out
	}
	out := es.StatEntries(names)
	for i := range out {
		if out[i].Err == nil {
			out[i].QID = l.ns.mapQID(l.id(), out[i].QID)
		}
	}
	return out
}

// Readlink implements p9.File.Readlink.
func (l *localFile) Readlink() (string, error) { return l.f.Readlink() }

// Renamed implements p9.File.Renamed.
func (l *localFile) Renamed(newDir p9.File, newName string) {
	if d, ok := newDir.(*localFile); ok {
		l.f.Renamed(d.f, newName)
	}
}
