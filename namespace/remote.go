package namespace

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p"
)

// remoteFile is a file of another node, proxied through the p9 client on
// that node's connection. Every call is bounded by the peer timeout
// (peerConn.call). Xattrs, locks and Tgetlock, which the p9 client cannot
// send properly, go out as injected requests naming the client's fid
// (raw.go, wire.go).
type remoteFile struct {
	pc     *peerConn
	f      p9.File
	top    bool
	opened atomic.Bool // Open or Create ran: the fid may hold locks
	// uid owns what is made through this file (the attach's n_uname);
	// p9.NoUID leaves it to the peer's user.
	uid p9.UID
}

var (
	_ p9.File          = (*remoteFile)(nil)
	_ srv9p.GetLocker  = (*remoteFile)(nil)
	_ srv9p.LockWaiter = (*remoteFile)(nil)
)

func (r *remoteFile) qid(q p9.QID) p9.QID {
	if r.top {
		return nodeDirQID(r.pc.node)
	}
	return r.pc.ns.mapQID(r.pc.node, q)
}

func (r *remoteFile) wrap(f p9.File, top bool) *remoteFile {
	return &remoteFile{pc: r.pc, f: f, top: top, uid: r.uid}
}

// fid returns the peer fid of r.
func (r *remoteFile) fid() (uint32, error) {
	fid, ok := clientFid(r.f)
	if !ok {
		r.pc.log.Error("namespace: cannot find the fid of a p9 client file; library changed?", slog.Int("node", r.pc.node))
		return 0, linux.EIO
	}
	return fid, nil
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

// Walk implements p9.File.Walk.
func (r *remoteFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	var (
		q []p9.QID
		f p9.File
	)
	err := r.pc.call("walk", func() (err error) { q, f, err = r.f.Walk(names); return })
	if err != nil {
		return nil, nil, err
	}
	return r.pc.ns.mapQIDs(r.pc.node, q), r.wrap(f, r.top && len(names) == 0), nil
}

// WalkGetAttr implements p9.File.WalkGetAttr: one round trip for both.
func (r *remoteFile) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	var (
		q []p9.QID
		f p9.File
		m p9.AttrMask
		a p9.Attr
	)
	err := r.pc.call("walkgetattr", func() (err error) { q, f, m, a, err = r.f.WalkGetAttr(names); return })
	if err != nil {
		return nil, nil, m, a, err
	}
	return r.pc.ns.mapQIDs(r.pc.node, q), r.wrap(f, r.top && len(names) == 0), m, a, nil
}

// StatFS implements p9.File.StatFS.
func (r *remoteFile) StatFS() (st p9.FSStat, err error) {
	err = r.pc.call("statfs", func() (err error) { st, err = r.f.StatFS(); return })
	return
}

// GetAttr implements p9.File.GetAttr.
func (r *remoteFile) GetAttr(req p9.AttrMask) (q p9.QID, m p9.AttrMask, a p9.Attr, err error) {
	err = r.pc.call("getattr", func() (err error) { q, m, a, err = r.f.GetAttr(req); return })
	return r.qid(q), m, a, err
}

// SetAttr implements p9.File.SetAttr. A mode with setuid or setgid bits
// goes out as an injected Tsetattr: the p9 client's would drop them.
func (r *remoteFile) SetAttr(valid p9.SetAttrMask, attr p9.SetAttr) error {
	mode := attr.Permissions
	if valid.Permissions && mode&06000 != 0 {
		fid, err := r.fid()
		if err != nil {
			return err
		}
		return r.pc.call("setattr", func() error { return r.pc.w.setattr(fid, valid, attr, mode) })
	}
	return r.pc.call("setattr", func() error { return r.f.SetAttr(valid, attr) })
}

// Close implements p9.File.Close. On a dead connection
// there is nothing to clunk: the fid died with it. A failed clunk is not
// reported: the fid is gone either way.
func (r *remoteFile) Close() error {
	if r.pc.dead() {
		return nil
	}
	clunk := func() {
		if err := r.pc.call("clunk", r.f.Close); err != nil {
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

// ReadAt implements p9.File.ReadAt.
func (r *remoteFile) ReadAt(p []byte, off int64) (n int, err error) {
	err = r.pc.call("read", func() (err error) { n, err = r.f.ReadAt(p, off); return })
	return n, err
}

// WriteAt implements p9.File.WriteAt.
func (r *remoteFile) WriteAt(p []byte, off int64) (n int, err error) {
	err = r.pc.call("write", func() (err error) { n, err = r.f.WriteAt(p, off); return })
	return n, err
}

// SetXattr implements p9.File.SetXattr (injected Txattrcreate).
func (r *remoteFile) SetXattr(attr string, data []byte, flags p9.XattrFlags) error {
	fid, err := r.fid()
	if err != nil {
		return err
	}
	return r.pc.call("setxattr", func() error { return r.pc.w.xattrWrite(fid, attr, data, flags, r.pc.msize) })
}

// GetXattr implements p9.File.GetXattr (injected Txattrwalk); a failure
// is the peer's errno.
func (r *remoteFile) GetXattr(attr string) (b []byte, err error) {
	fid, err := r.fid()
	if err != nil {
		return nil, err
	}
	err = r.pc.call("getxattr", func() (err error) { b, err = r.pc.w.xattrRead(fid, attr, r.pc.msize); return })
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ListXattrs implements p9.File.ListXattrs (injected Txattrwalk "").
func (r *remoteFile) ListXattrs() ([]string, error) {
	fid, err := r.fid()
	if err != nil {
		return nil, err
	}
	var b []byte
	err = r.pc.call("listxattr", func() (err error) { b, err = r.pc.w.xattrRead(fid, "", r.pc.msize); return })
	if err != nil {
		return nil, err
	}
	return splitXattrNames(b), nil
}

// RemoveXattr implements p9.File.RemoveXattr: as the kernel does it, an
// empty Txattrcreate with XATTR_REPLACE.
func (r *remoteFile) RemoveXattr(attr string) error {
	fid, err := r.fid()
	if err != nil {
		return err
	}
	return r.pc.call("removexattr", func() error { return r.pc.w.xattrWrite(fid, attr, nil, p9.XattrReplace, r.pc.msize) })
}

// FSync implements p9.File.FSync.
func (r *remoteFile) FSync() error { return r.pc.call("fsync", r.f.FSync) }

// Lock implements p9.File.Lock with an injected Tlock naming the fid.
func (r *remoteFile) Lock(pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	fid, err := r.fid()
	if err != nil {
		return p9.LockStatusError, err
	}
	return r.lock(fid, pid, typ, flags, start, length, client)
}

func (r *remoteFile) lock(fid uint32, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (st p9.LockStatus, err error) {
	err = r.pc.call("lock", func() (err error) {
		st, err = r.pc.w.lock(fid, typ, flags, start, length, int32(pid), client)
		return
	})
	return st, err
}

// LockWait implements srv9p.LockWaiter. A blocking request waits here, not
// on the peer: a Tlock that waited there would outlast the per-call
// timeout and kill the connection. It polls with non-blocking Tlocks
// (srv9p.WaitForLock) until granted, cancelled or out of time.
func (r *remoteFile) LockWait(ctx context.Context, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	fid, err := r.fid()
	if err != nil {
		return p9.LockStatusError, err
	}
	flags &^= p9.LockFlagsBlock
	return srv9p.WaitForLock(ctx, func() (p9.LockStatus, error) {
		return r.lock(fid, pid, typ, flags, start, length, client)
	})
}

// GetLock implements srv9p.GetLocker with a Tgetlock to the peer.
func (r *remoteFile) GetLock(want srv9p.LockInfo) (srv9p.LockInfo, error) {
	fid, err := r.fid()
	if err != nil {
		return srv9p.LockInfo{}, err
	}
	var g getLock
	err = r.pc.call("getlock", func() (err error) {
		g, err = r.pc.w.getlock(fid, want.Type, want.Start, want.Length, want.PID, want.Client)
		return
	})
	return srv9p.LockInfo{Type: g.Type, Start: g.Start, Length: g.Length, PID: g.PID, Client: g.Client}, err
}

// Create implements p9.File.Create. The p9 client turns the directory's
// own fid into the new file; the server keeps using the directory, so
// the create runs on a clone. The new file gets the attach's owner
// (chown).
func (r *remoteFile) Create(name string, flags p9.OpenFlags, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.File, p9.QID, uint32, error) {
	var (
		nf     p9.File
		q      p9.QID
		iounit uint32
	)
	err := r.pc.call("create", func() error {
		_, clone, err := r.f.Walk(nil)
		if err != nil {
			return err
		}
		nf, q, iounit, err = clone.Create(name, flags, perm, uid, gid)
		if err != nil {
			clone.Close()
		}
		return err
	})
	if err != nil {
		return nil, p9.QID{}, 0, err
	}
	f := r.wrap(nf, false)
	f.opened.Store(true)
	f.chown(r.uid, gid)
	return f, r.pc.ns.mapQID(r.pc.node, q), iounit, nil
}

// chown gives a file just made the attach's owner and the group the
// request named, which the peer cannot know: the p9 client attaches
// without a uid and, speaking plain 9P2000.L, sends no gid with its
// creates. One more round trip, only when there is an owner or a group to
// set. A failure (a peer that may not give files away) leaves the file to
// the peer's user, as a local export does.
func (r *remoteFile) chown(uid p9.UID, gid p9.GID) {
	if !uid.Ok() && !gid.Ok() {
		return
	}
	err := r.pc.call("setattr", func() error {
		return r.f.SetAttr(p9.SetAttrMask{UID: uid.Ok(), GID: gid.Ok()}, p9.SetAttr{UID: uid, GID: gid})
	})
	if err != nil {
		r.pc.log.Debug("namespace: cannot give a new file its owner", slog.Int("node", r.pc.node), slog.Uint64("uid", uint64(uid)), slog.String("error", err.Error()))
	}
}

// chownNew gives the entry name just made in r the attach's owner: a walk
// to it and a setattr (the clunk is not waited for).
func (r *remoteFile) chownNew(name string, gid p9.GID) {
	if !r.uid.Ok() && !gid.Ok() {
		return
	}
	var nf p9.File
	if err := r.pc.call("walk", func() (err error) { _, nf, err = r.f.Walk([]string{name}); return }); err != nil {
		r.pc.log.Debug("namespace: cannot give a new file its owner", slog.Int("node", r.pc.node), slog.String("error", err.Error()))
		return
	}
	f := r.wrap(nf, false)
	f.chown(r.uid, gid)
	f.Close()
}

// Mkdir implements p9.File.Mkdir; the new directory gets the attach's
// owner (chownNew).
func (r *remoteFile) Mkdir(name string, perm p9.FileMode, uid p9.UID, gid p9.GID) (q p9.QID, err error) {
	err = r.pc.call("mkdir", func() (err error) { q, err = r.f.Mkdir(name, perm, uid, gid); return })
	if err == nil {
		r.chownNew(name, gid)
	}
	return r.pc.ns.mapQID(r.pc.node, q), err
}

// Symlink implements p9.File.Symlink; the link gets the attach's owner
// (chownNew).
func (r *remoteFile) Symlink(oldName, newName string, uid p9.UID, gid p9.GID) (q p9.QID, err error) {
	err = r.pc.call("symlink", func() (err error) { q, err = r.f.Symlink(oldName, newName, uid, gid); return })
	if err == nil {
		r.chownNew(newName, gid)
	}
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

// Mknod implements p9.File.Mknod; the node gets the attach's owner
// (chownNew).
func (r *remoteFile) Mknod(name string, mode p9.FileMode, major, minor uint32, uid p9.UID, gid p9.GID) (q p9.QID, err error) {
	err = r.pc.call("mknod", func() (err error) { q, err = r.f.Mknod(name, mode, major, minor, uid, gid); return })
	if err == nil {
		r.chownNew(name, gid)
	}
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

// Readdir implements p9.File.Readdir: at most count entries. The p9
// client's count is Treaddir's byte budget, so it asks for what count
// entries of names up to 64 bytes take (the peer caps it at its msize).
func (r *remoteFile) Readdir(off uint64, count uint32) (ds p9.Dirents, err error) {
	budget := uint32(min(uint64(count)*(fcall.DirentFixedSize+64), uint64(r.pc.msize)))
	err = r.pc.call("readdir", func() (err error) { ds, err = r.f.Readdir(off, budget); return })
	if uint64(len(ds)) > uint64(count) {
		ds = ds[:count]
	}
	return r.pc.ns.fixDirents(r.pc.node, ds), err
}

// Readlink implements p9.File.Readlink.
func (r *remoteFile) Readlink() (s string, err error) {
	err = r.pc.call("readlink", func() (err error) { s, err = r.f.Readlink(); return })
	return s, err
}

// Renamed implements p9.File.Renamed: the peer tracks its own renames.
func (r *remoteFile) Renamed(p9.File, string) {}
