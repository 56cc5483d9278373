package client

import (
	"context"
	"io"
	"strings"
	"sync/atomic"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// File is one fid of a Conn. Its methods are p9.File's, each one or a few
// round trips bounded by the connection's timeout.
type File struct {
	c      *Conn
	fid    uint32
	qid    p9.QID
	closed atomic.Bool
	o9     atomic.Pointer[open9] // set by Open and Create in 9P2000 and 9P2000.u only
}

var _ p9.File = (*File)(nil)

// LockInfo is a lock description as Tgetlock and Rgetlock carry it (the
// same fields as srv9p.LockInfo).
type LockInfo struct {
	Type          p9.LockType
	Start, Length uint64
	PID           int32
	Client        string
}

func (f *File) rpc(m fcall.Msg) (fcall.Msg, error) {
	if f.closed.Load() {
		return nil, linux.EBADF
	}
	return f.c.rpc(m)
}

// Walk implements p9.File.Walk. More than 16 names are walked 16 at a
// time; a walk that stops short is ENOENT.
func (f *File) Walk(names []string) ([]p9.QID, p9.File, error) {
	qids, nf, err := f.walk(names)
	if err != nil {
		return nil, nil, err
	}
	return qids, nf, nil
}

func (f *File) walk(names []string) ([]p9.QID, *File, error) {
	if f.closed.Load() {
		return nil, nil, linux.EBADF
	}
	nfid := f.c.newFid()
	from := f.walkFid()
	var qids []p9.QID
	for first := true; first || len(names) > 0; first = false {
		n := min(len(names), fcall.MaxWalk)
		r, err := expect[*fcall.Rwalk](f.c.rpc(&fcall.Twalk{Fid: from, NewFid: nfid, Names: names[:n]}))
		if err == nil && len(r.QIDs) != n {
			err = linux.ENOENT
		}
		if err != nil {
			if from == nfid {
				f.c.clunk(nfid)
			} else {
				f.c.releaseFid(nfid, err)
			}
			return nil, nil, err
		}
		qids = append(qids, r.QIDs...)
		names = names[n:]
		from = nfid
	}
	q := f.qid
	if len(qids) > 0 {
		q = qids[len(qids)-1]
	}
	return qids, &File{c: f.c, fid: nfid, qid: q}, nil
}

// WalkGetAttr implements p9.File.WalkGetAttr: a Twalk and a request for
// the new fid's attributes (Tgetattr; Tstat in 9P2000 and 9P2000.u). To a
// server that keeps them in order (Options.InOrder) they go back to back,
// in one round trip; should it answer the second EBADF all the same (the
// fid is not there yet), a second request follows the walk. To any other
// server the request for attributes follows the walk's reply.
func (f *File) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	if !f.c.inOrder || len(names) > fcall.MaxWalk || f.closed.Load() {
		return f.walkThenGetAttr(names)
	}
	c := f.c
	nfid := c.newFid()
	wcl, err := c.start(&fcall.Twalk{Fid: f.walkFid(), NewFid: nfid, Names: names}, nil)
	if err != nil {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	gcl, gerr := c.start(c.ops.getAttr(nfid, p9.AttrMaskAll), nil)
	w, err := expect[*fcall.Rwalk](c.wait(context.Background(), wcl, c.timeout))
	var (
		gq    p9.QID
		valid p9.AttrMask
		attr  p9.Attr
	)
	if gerr == nil {
		gq, valid, attr, gerr = c.ops.attr(c.wait(context.Background(), gcl, c.timeout))
	}
	if err == nil && len(w.QIDs) != len(names) {
		err = linux.ENOENT // the walk stopped short: newfid was not made
	}
	if err != nil {
		c.releaseFid(nfid, err)
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	q := f.qid
	if len(w.QIDs) > 0 {
		q = w.QIDs[len(w.QIDs)-1]
	}
	nf := &File{c: c, fid: nfid, qid: q}
	if gerr == nil && gq.Path != q.Path {
		// A server that makes newfid first and walks it name by name
		// (diod does) may answer the attributes halfway: those of a
		// directory on the way, not of the file walked to.
		gerr = linux.ESTALE
	}
	if gerr != nil {
		_, valid, attr, err = nf.GetAttr(p9.AttrMaskAll)
		if err != nil {
			nf.Close()
			return nil, nil, p9.AttrMask{}, p9.Attr{}, err
		}
	}
	return w.QIDs, nf, valid, attr, nil
}

// walkThenGetAttr is WalkGetAttr in two round trips.
func (f *File) walkThenGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	qids, nf, err := f.walk(names)
	if err != nil {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	_, valid, attr, err := nf.GetAttr(p9.AttrMaskAll)
	if err != nil {
		nf.Close()
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	return qids, nf, valid, attr, nil
}

// StatFS implements p9.File.StatFS.
func (f *File) StatFS() (p9.FSStat, error) { return f.c.ops.statFS(f) }

// GetAttr implements p9.File.GetAttr.
func (f *File) GetAttr(req p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	return f.c.ops.attr(f.rpc(f.c.ops.getAttr(f.fid, req)))
}

// SetAttr implements p9.File.SetAttr; the mode goes whole (setuid, setgid
// and sticky bits too, where the dialect has them).
func (f *File) SetAttr(valid p9.SetAttrMask, attr p9.SetAttr) error {
	return f.c.ops.setAttr(f, valid, attr)
}

// Close implements p9.File.Close: Tclunk. The fid is gone afterwards
// whatever the answer.
func (f *File) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	f.closeClone()
	return f.c.clunk(f.fid)
}

// clunk clunks fid and frees its number (unless the connection died: the
// number dies with it; or the Tclunk timed out: the server may still have
// the fid).
func (c *Conn) clunk(fid uint32) error {
	_, err := expect[*fcall.Rclunk](c.rpc(&fcall.Tclunk{Fid: fid}))
	c.releaseFid(fid, err)
	return err
}

// walkFid is the fid walks from f start at: f's own, or the unopened
// clone of a directory opened in 9P2000 or 9P2000.u (see open9).
func (f *File) walkFid() uint32 {
	if o := f.o9.Load(); o != nil && o.clone != nil {
		return o.clone.fid
	}
	return f.fid
}

// closeClone clunks the unopened clone of a directory f opened, if any.
func (f *File) closeClone() {
	if o := f.o9.Load(); o != nil && o.clone != nil {
		o.clone.Close()
	}
}

// Open implements p9.File.Open.
func (f *File) Open(mode p9.OpenFlags) (p9.QID, uint32, error) { return f.c.ops.open(f, mode) }

// ioSize is the most data one Tread or Twrite carries: msize-24, and no
// more than the iounit a 9P2000 open gave.
func (f *File) ioSize() int {
	n := int(f.c.msize - fcall.IOHeaderSize)
	if o := f.o9.Load(); o != nil && o.iounit > 0 {
		n = min(n, int(o.iounit))
	}
	return n
}

// ReadAt implements p9.File.ReadAt: Treads of at most msize-24 bytes until
// p is full or the file ends (io.EOF when nothing was read).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, linux.EBADF
	}
	total := 0
	for total < len(p) {
		want := min(len(p)-total, f.ioSize())
		r, err := expect[*fcall.Rread](f.c.rpcInto(context.Background(), &fcall.Tread{Fid: f.fid, Offset: uint64(off) + uint64(total), Count: uint32(want)}, p[total:total+want], f.c.timeout))
		if err != nil {
			return total, err
		}
		n := len(r.Data)
		if n == 0 {
			break
		}
		total += n
		if n < want {
			break
		}
	}
	if total == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return total, nil
}

// WriteAt implements p9.File.WriteAt in Twrites of at most msize-24 bytes.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) || len(p) == 0 {
		n := min(len(p)-total, f.ioSize())
		r, err := expect[*fcall.Rwrite](f.rpc(&fcall.Twrite{Fid: f.fid, Offset: uint64(off) + uint64(total), Data: p[total : total+n]}))
		if err != nil {
			return total, err
		}
		total += int(r.Count)
		if len(p) == 0 || int(r.Count) < n {
			break
		}
	}
	if total < len(p) {
		return total, io.ErrShortWrite
	}
	return total, nil
}

// FSync implements p9.File.FSync.
func (f *File) FSync() error { return f.c.ops.fsync(f) }

// Lock implements p9.File.Lock: a Tlock on this fid, bounded by the
// timeout (a blocking request through Lock is flushed at the timeout; use
// LockWait to wait for a lock).
func (f *File) Lock(pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	m := &fcall.Tlock{Fid: f.fid, LockType: typ, Flags: flags, Start: start, Length: length, PID: int32(pid), Client: client}
	return f.c.ops.lock(f, context.Background(), m, f.c.timeout)
}

// LockWait sends a blocking Tlock (flags with p9.LockFlagsBlock) with no
// timeout: it waits as the server's lock does, until ctx is done (then it
// is flushed) or the connection ends.
func (f *File) LockWait(ctx context.Context, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	if f.closed.Load() {
		return p9.LockStatusError, linux.EBADF
	}
	m := &fcall.Tlock{Fid: f.fid, LockType: typ, Flags: flags | p9.LockFlagsBlock, Start: start, Length: length, PID: int32(pid), Client: client}
	return f.c.ops.lock(f, ctx, m, 0)
}

// GetLock sends a Tgetlock.
func (f *File) GetLock(want LockInfo) (LockInfo, error) { return f.c.ops.getLock(f, want) }

// Create implements p9.File.Create: the new file is a clone of f, which
// stays the directory.
func (f *File) Create(name string, flags p9.OpenFlags, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.File, p9.QID, uint32, error) {
	return f.c.ops.create(f, name, flags, perm, gid)
}

// Mkdir implements p9.File.Mkdir.
func (f *File) Mkdir(name string, perm p9.FileMode, uid p9.UID, gid p9.GID) (p9.QID, error) {
	return f.c.ops.mkdir(f, name, perm, gid)
}

// Symlink implements p9.File.Symlink.
func (f *File) Symlink(oldName, newName string, uid p9.UID, gid p9.GID) (p9.QID, error) {
	return f.c.ops.symlink(f, oldName, newName, gid)
}

// sibling returns g, the second file of a call on f, if it is an open
// File of f's Conn: a closed one's fid number may already name another
// file.
func (f *File) sibling(g p9.File) (*File, error) {
	s, ok := g.(*File)
	if !ok || s.c != f.c {
		return nil, linux.EXDEV
	}
	if s.closed.Load() {
		return nil, linux.EBADF
	}
	return s, nil
}

// Link implements p9.File.Link; target must be a File of the same Conn.
func (f *File) Link(target p9.File, newName string) error {
	t, err := f.sibling(target)
	if err != nil {
		return err
	}
	return f.c.ops.link(f, t, newName)
}

// Mknod implements p9.File.Mknod.
func (f *File) Mknod(name string, mode p9.FileMode, major, minor uint32, uid p9.UID, gid p9.GID) (p9.QID, error) {
	return f.c.ops.mknod(f, name, mode, major, minor, gid)
}

// Rename implements p9.File.Rename (Trename; EXDEV in 9P2000 and
// 9P2000.u, where a fid's directory is not known: use RenameAt).
func (f *File) Rename(newDir p9.File, newName string) error {
	d, err := f.sibling(newDir)
	if err != nil {
		return err
	}
	return f.c.ops.rename(f, d, newName)
}

// RenameAt implements p9.File.RenameAt; newDir must be a File of the same
// Conn.
func (f *File) RenameAt(oldName string, newDir p9.File, newName string) error {
	d, err := f.sibling(newDir)
	if err != nil {
		return err
	}
	return f.c.ops.renameAt(f, oldName, d, newName)
}

// UnlinkAt implements p9.File.UnlinkAt.
func (f *File) UnlinkAt(name string, flags uint32) error { return f.c.ops.unlinkAt(f, name, flags) }

// Readdir implements p9.File.Readdir: at most count entries, as p9.File
// says; entries past count come again at the next offset.
func (f *File) Readdir(offset uint64, count uint32) (p9.Dirents, error) {
	return f.c.ops.readdir(f, offset, count)
}

// ReaddirBytes is one Treaddir with the byte budget count, for callers
// that think in bytes (the kernel's budget passed through).
func (f *File) ReaddirBytes(offset uint64, count uint32) (p9.Dirents, error) {
	return f.c.ops.readdirBytes(f, offset, count)
}

// Readlink implements p9.File.Readlink.
func (f *File) Readlink() (string, error) { return f.c.ops.readlink(f) }

// Renamed implements p9.File.Renamed: the server tracks its own renames.
func (f *File) Renamed(p9.File, string) {}

// GetXattr implements p9.File.GetXattr: Txattrwalk, Treads, Tclunk.
func (f *File) GetXattr(name string) ([]byte, error) {
	return f.readXattr(name)
}

// ListXattrs implements p9.File.ListXattrs (Txattrwalk of "").
func (f *File) ListXattrs() ([]string, error) {
	b, err := f.readXattr("")
	if err != nil || len(b) == 0 {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), nil
}

func (f *File) readXattr(name string) ([]byte, error) {
	if f.closed.Load() {
		return nil, linux.EBADF
	}
	return f.c.ops.readXattr(f, name)
}

// SetXattr implements p9.File.SetXattr: on a clone, Txattrcreate, Twrites,
// and the Tclunk that sets the attribute (whose answer is the result).
func (f *File) SetXattr(name string, data []byte, flags p9.XattrFlags) error {
	return f.c.ops.writeXattr(f, name, data, uint32(flags))
}

// RemoveXattr implements p9.File.RemoveXattr, as the Linux client does it:
// an empty Txattrcreate with XATTR_REPLACE.
func (f *File) RemoveXattr(name string) error {
	return f.c.ops.writeXattr(f, name, nil, uint32(p9.XattrReplace))
}

// Remove sends Tremove: the server removes the file and forgets the fid
// (whatever the answer). mfs's servers answer EOPNOTSUPP in 9P2000.L (use
// UnlinkAt); others, such as diod, remove.
func (f *File) Remove() error {
	if f.closed.Swap(true) {
		return linux.EBADF
	}
	f.closeClone()
	_, err := expect[*fcall.Rremove](f.c.rpc(&fcall.Tremove{Fid: f.fid}))
	f.c.releaseFid(f.fid, err)
	return err
}
