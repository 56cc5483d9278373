package namespace

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/client"
	"mfs/srv9p"
)

// remoteFile is a file of another node: a fid of mfs's client on that
// node's connection. The client bounds every call (peerConn.call says
// what a failure means); xattrs, locks, Tgetlock and the whole mode of a
// chmod are plain messages of the client.
type remoteFile struct {
	pc     *peerConn
	f      *client.File
	top    bool
	opened atomic.Bool // Open or Create ran: the fid may hold locks
	walked atomic.Pointer[walkAttr]
}

// walkAttr is what the walk that made a file learnt of it. The kernel
// follows every lookup's Twalk with a Tgetattr of the new fid; the walk
// asks the peer for both in one round trip (Twalk and Tgetattr back to
// back), and the Tgetattr here is answered from it, once, if nothing that
// could change attributes went to the peer on this connection since the
// walk was sent (gen) and the answer is fresh (walkAttrTTL). What other
// clients of the peer did meanwhile it may miss, as it would have missed
// it had the Tgetattr been sent with the walk.
type walkAttr struct {
	gen  uint64
	at   time.Time
	qid  p9.QID // as the namespace shows it
	mask p9.AttrMask
	attr p9.Attr
}

// walkAttrTTL bounds how old a walk's attributes may be to answer a
// getattr (a variable for tests on a loaded machine).
var walkAttrTTL = 100 * time.Millisecond

var (
	_ p9.File           = (*remoteFile)(nil)
	_ srv9p.GetLocker   = (*remoteFile)(nil)
	_ srv9p.LockWaiter  = (*remoteFile)(nil)
	_ srv9p.EntryStater = (*remoteFile)(nil)
)

func (r *remoteFile) qid(q p9.QID) p9.QID {
	if r.top {
		return nodeDirQID(r.pc.node)
	}
	return r.pc.ns.mapQID(r.pc.node, q)
}

func (r *remoteFile) wrap(f p9.File, top bool) *remoteFile {
	return &remoteFile{pc: r.pc, f: f.(*client.File), top: top}
}

// same returns other as a remoteFile on r's connection: EXDEV for another
// node, EHOSTDOWN for an older connection to the same node.
func (r *remoteFile) same(other p9.File) (*remoteFile, error) {
	o, ok := other.(*remoteFile)
	if !ok || o.pc.node != r.pc.node {
		return nil, linux.EXDEV
	}
	if o.pc != r.pc {
		return nil, linux.EHOSTDOWN
	}
	return o, nil
}

// Walk implements p9.File.Walk. A walk to a name also fetches the new
// file's attributes for the getattr that follows (see walkAttr).
func (r *remoteFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	if len(names) == 0 {
		var (
			q []p9.QID
			f p9.File
		)
		err := r.pc.query("walk", func() (err error) { q, f, err = r.f.Walk(names); return })
		if err != nil {
			return nil, nil, err
		}
		return r.pc.ns.mapQIDs(r.pc.node, q), r.wrap(f, r.top), nil
	}
	gen := r.pc.gen.Load()
	q, f, m, a, err := r.WalkGetAttr(names)
	if err != nil {
		return nil, nil, err
	}
	f.(*remoteFile).walked.Store(&walkAttr{gen: gen, at: time.Now(), qid: q[len(q)-1], mask: m, attr: a})
	return q, f, nil
}

// WalkGetAttr implements p9.File.WalkGetAttr.
func (r *remoteFile) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	var (
		q []p9.QID
		f p9.File
		m p9.AttrMask
		a p9.Attr
	)
	err := r.pc.query("walkgetattr", func() (err error) { q, f, m, a, err = r.f.WalkGetAttr(names); return })
	if err != nil {
		return nil, nil, m, a, err
	}
	return r.pc.ns.mapQIDs(r.pc.node, q), r.wrap(f, r.top && len(names) == 0), m, a, nil
}

// StatFS implements p9.File.StatFS.
func (r *remoteFile) StatFS() (st p9.FSStat, err error) {
	err = r.pc.query("statfs", func() (err error) { st, err = r.f.StatFS(); return })
	return st, err
}

// GetAttr implements p9.File.GetAttr; the first one after the walk may
// be answered from the walk (see walkAttr).
func (r *remoteFile) GetAttr(req p9.AttrMask) (q p9.QID, m p9.AttrMask, a p9.Attr, err error) {
	if w := r.walked.Swap(nil); w != nil && w.gen == r.pc.gen.Load() && time.Since(w.at) < walkAttrTTL && !r.pc.dead() {
		return w.qid, w.mask, w.attr, nil
	}
	err = r.pc.query("getattr", func() (err error) { q, m, a, err = r.f.GetAttr(req); return })
	return r.qid(q), m, a, err
}

// SetAttr implements p9.File.SetAttr, with the whole mode.
func (r *remoteFile) SetAttr(valid p9.SetAttrMask, attr p9.SetAttr) error {
	return r.pc.call("setattr", func() error { return r.f.SetAttr(valid, attr) })
}

// Close implements p9.File.Close. On a dead connection there is nothing to
// clunk: the fid died with it. A failed clunk is not reported: the fid is
// gone either way.
func (r *remoteFile) Close() error {
	if r.pc.dead() {
		return nil
	}
	clunk := func() {
		if err := r.pc.query("clunk", r.f.Close); err != nil {
			r.pc.log.Debug("namespace: peer clunk failed", slog.Int("node", r.pc.node), slog.String("error", err.Error()))
		}
	}
	if !r.opened.Load() {
		// A fid that was only walked (lookups, stat, the clone the
		// kernel makes for every getxattr) holds nothing on the peer
		// but itself: clunk it without making the client wait. An
		// opened fid may hold locks, which its clunk releases; that
		// one is waited for.
		go clunk()
		return nil
	}
	clunk()
	return nil
}

// Open implements p9.File.Open.
func (r *remoteFile) Open(mode p9.OpenFlags) (q p9.QID, iounit uint32, err error) {
	r.opened.Store(true)
	err = r.pc.call("open", func() (err error) { q, iounit, err = r.f.Open(mode); return })
	return r.qid(q), iounit, err
}

// ReadAt implements p9.File.ReadAt; the data lands in p.
func (r *remoteFile) ReadAt(p []byte, off int64) (n int, err error) {
	err = r.pc.call("read", func() (err error) { n, err = r.f.ReadAt(p, off); return })
	return n, err
}

// WriteAt implements p9.File.WriteAt.
func (r *remoteFile) WriteAt(p []byte, off int64) (n int, err error) {
	err = r.pc.call("write", func() (err error) { n, err = r.f.WriteAt(p, off); return })
	return n, err
}

// SetXattr implements p9.File.SetXattr.
func (r *remoteFile) SetXattr(attr string, data []byte, flags p9.XattrFlags) error {
	return r.pc.call("setxattr", func() error { return r.f.SetXattr(attr, data, flags) })
}

// GetXattr implements p9.File.GetXattr; a failure is the peer's errno.
func (r *remoteFile) GetXattr(attr string) (b []byte, err error) {
	err = r.pc.query("getxattr", func() (err error) { b, err = r.f.GetXattr(attr); return })
	return b, err
}

// ListXattrs implements p9.File.ListXattrs.
func (r *remoteFile) ListXattrs() (names []string, err error) {
	err = r.pc.query("listxattr", func() (err error) { names, err = r.f.ListXattrs(); return })
	return names, err
}

// RemoveXattr implements p9.File.RemoveXattr.
func (r *remoteFile) RemoveXattr(attr string) error {
	return r.pc.call("removexattr", func() error { return r.f.RemoveXattr(attr) })
}

// FSync implements p9.File.FSync.
func (r *remoteFile) FSync() error { return r.pc.call("fsync", r.f.FSync) }

// Lock implements p9.File.Lock with a Tlock on the file's own fid.
func (r *remoteFile) Lock(pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (st p9.LockStatus, err error) {
	err = r.pc.query("lock", func() (err error) { st, err = r.f.Lock(pid, typ, flags, start, length, client); return })
	return st, err
}

// LockWait implements srv9p.LockWaiter: a blocking Tlock goes to the peer
// and waits there, with no timeout, until the lock is granted, the kernel
// flushes the request here (ctx; the client flushes it on the peer), or
// the connection ends.
func (r *remoteFile) LockWait(ctx context.Context, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (st p9.LockStatus, err error) {
	err = r.pc.query("lockwait", func() (err error) { st, err = r.f.LockWait(ctx, pid, typ, flags, start, length, client); return })
	return st, err
}

// GetLock implements srv9p.GetLocker with a Tgetlock to the peer.
func (r *remoteFile) GetLock(want srv9p.LockInfo) (srv9p.LockInfo, error) {
	var g client.LockInfo
	err := r.pc.query("getlock", func() (err error) {
		g, err = r.f.GetLock(client.LockInfo(want))
		return
	})
	return srv9p.LockInfo(g), err
}

// Create implements p9.File.Create (the client creates on a clone, so r
// stays the directory).
func (r *remoteFile) Create(name string, flags p9.OpenFlags, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.File, p9.QID, uint32, error) {
	var (
		nf     p9.File
		q      p9.QID
		iounit uint32
	)
	err := r.pc.call("create", func() (err error) { nf, q, iounit, err = r.f.Create(name, flags, perm, uid, gid); return })
	if err != nil {
		return nil, p9.QID{}, 0, err
	}
	f := r.wrap(nf, false)
	f.opened.Store(true)
	return f, r.pc.ns.mapQID(r.pc.node, q), iounit, nil
}

// Mkdir implements p9.File.Mkdir.
func (r *remoteFile) Mkdir(name string, perm p9.FileMode, uid p9.UID, gid p9.GID) (q p9.QID, err error) {
	err = r.pc.call("mkdir", func() (err error) { q, err = r.f.Mkdir(name, perm, uid, gid); return })
	return r.pc.ns.mapQID(r.pc.node, q), err
}

// Symlink implements p9.File.Symlink.
func (r *remoteFile) Symlink(oldName, newName string, uid p9.UID, gid p9.GID) (q p9.QID, err error) {
	err = r.pc.call("symlink", func() (err error) { q, err = r.f.Symlink(oldName, newName, uid, gid); return })
	return r.pc.ns.mapQID(r.pc.node, q), err
}

// Link implements p9.File.Link; a target on another node is EXDEV.
func (r *remoteFile) Link(target p9.File, newName string) error {
	t, err := r.same(target)
	if err != nil {
		return err
	}
	return r.pc.call("link", func() error { return r.f.Link(t.f, newName) })
}

// Mknod implements p9.File.Mknod.
func (r *remoteFile) Mknod(name string, mode p9.FileMode, major, minor uint32, uid p9.UID, gid p9.GID) (q p9.QID, err error) {
	err = r.pc.call("mknod", func() (err error) { q, err = r.f.Mknod(name, mode, major, minor, uid, gid); return })
	return r.pc.ns.mapQID(r.pc.node, q), err
}

// Rename implements p9.File.Rename (not called by the server).
func (r *remoteFile) Rename(newDir p9.File, newName string) error {
	d, err := r.same(newDir)
	if err != nil {
		return err
	}
	return r.pc.call("rename", func() error { return r.f.Rename(d.f, newName) })
}

// RenameAt implements p9.File.RenameAt; a directory on another node is
// EXDEV.
func (r *remoteFile) RenameAt(oldName string, newDir p9.File, newName string) error {
	d, err := r.same(newDir)
	if err != nil {
		return err
	}
	return r.pc.call("renameat", func() error { return r.f.RenameAt(oldName, d.f, newName) })
}

// UnlinkAt implements p9.File.UnlinkAt.
func (r *remoteFile) UnlinkAt(name string, flags uint32) error {
	return r.pc.call("unlinkat", func() error { return r.f.UnlinkAt(name, flags) })
}

// Readdir implements p9.File.Readdir: at most count entries.
func (r *remoteFile) Readdir(off uint64, count uint32) (ds p9.Dirents, err error) {
	err = r.pc.call("readdir", func() (err error) { ds, err = r.f.Readdir(off, count); return })
	return r.pc.ns.fixDirents(r.pc.node, ds), err
}

// statDepth is how many of a directory's entries StatEntries stats on the
// peer at once.
const statDepth = 16

// StatEntries implements srv9p.EntryStater: a walk and getattr per entry,
// as WalkGetAttr, up to statDepth of them in flight on the connection, so
// a directory read of 9P2000 or 9P2000.u waits for a few round trips to
// the peer rather than one per entry.
func (r *remoteFile) StatEntries(names []string) []srv9p.EntryStat {
	out := make([]srv9p.EntryStat, len(names))
	sem := make(chan struct{}, statDepth)
	var wg sync.WaitGroup
	for i, name := range names {
		if name == "" || name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
			out[i].Err = linux.EINVAL
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = r.statEntry(name)
		})
	}
	wg.Wait()
	return out
}

// statEntry is one entry's answer of StatEntries.
func (r *remoteFile) statEntry(name string) srv9p.EntryStat {
	qids, f, _, a, err := r.WalkGetAttr([]string{name})
	if err != nil {
		return srv9p.EntryStat{Err: err}
	}
	defer f.Close()
	if len(qids) != 1 {
		return srv9p.EntryStat{Err: linux.EIO}
	}
	e := srv9p.EntryStat{QID: qids[0], Attr: a}
	if a.Mode.IsSymlink() {
		e.Target, e.Err = f.Readlink()
	}
	return e
}

// Readlink implements p9.File.Readlink.
func (r *remoteFile) Readlink() (s string, err error) {
	err = r.pc.query("readlink", func() (err error) { s, err = r.f.Readlink(); return })
	return s, err
}

// Renamed implements p9.File.Renamed: the peer tracks its own renames.
func (r *remoteFile) Renamed(p9.File, string) {}
