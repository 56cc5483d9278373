package srv9p

import (
	"io"
	"log/slog"
	"math"
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/cred"
	"mfs/internal/fcall"
)

// Linux's limits on extended attributes (XATTR_SIZE_MAX, XATTR_NAME_MAX,
// XATTR_LIST_MAX).
const (
	xattrSizeMax = 64 << 10
	xattrNameMax = 255
	xattrListMax = 64 << 10
)

// auth answers Tauth: no authentication here; diod's clients take
// ENOENT to mean "none needed", Plan 9's lib9pclient any Rerror.
func (c *conn) auth(*fcall.Tauth) (fcall.Msg, error) { return nil, errNoAuth }

// clunkMsg answers Tclunk.
func (c *conn) clunkMsg(m *fcall.Tclunk) (fcall.Msg, error) {
	var err error
	if c.legacy() {
		err = c.clunk9(m.Fid)
	} else {
		err = c.clunk(m.Fid)
	}
	return &fcall.Rclunk{}, err
}

// remove answers Tremove.
func (c *conn) remove(m *fcall.Tremove) (fcall.Msg, error) {
	if c.legacy() {
		if err := c.remove9(m.Fid); err != nil {
			return nil, err
		}
		return &fcall.Rremove{}, nil
	}
	// p9.File cannot remove itself (it does not know its name); the
	// Linux client uses Tunlinkat. The fid is clunked as the protocol
	// says.
	if err := c.clunk(m.Fid); err != nil {
		return nil, err
	}
	return nil, linux.EOPNOTSUPP
}

// validName reports whether name can be one path element: not empty, not
// "." or "..", without '/' or NUL.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && strings.IndexByte(name, '/') < 0 && strings.IndexByte(name, 0) < 0
}

// file returns fid n if it stands for a file (not an xattr fid), with a
// reference to release.
func (c *conn) file(n uint32) (*fid, error) {
	f := c.fids.get(n)
	if f == nil {
		return nil, linux.EBADF
	}
	if f.file == nil {
		f.release()
		return nil, linux.EBADF
	}
	return f, nil
}

// dir is file for a fid that must be a directory.
func (c *conn) dir(n uint32, name string) (*fid, error) {
	f, err := c.file(n)
	if err != nil {
		return nil, err
	}
	if !f.isDir() {
		f.release()
		return nil, linux.ENOTDIR
	}
	if !validName(name) {
		f.release()
		return nil, linux.EINVAL
	}
	return f, nil
}

// cloneSource is file for a request that makes newfid from fid n (Twalk,
// Txattrwalk): a newfid in use, other than n itself, is EBADF.
func (c *conn) cloneSource(n, newfid uint32) (*fid, error) {
	f, err := c.file(n)
	if err == nil && newfid != n && c.fids.has(newfid) {
		f.release()
		return nil, linux.EBADF
	}
	return f, err
}

func (c *conn) attach(m *fcall.Tattach) (fcall.Msg, error) {
	if m.Afid != fcall.NoFid {
		return nil, linux.EBADF
	}
	if c.fids.has(m.Fid) {
		return nil, linux.EBADF
	}
	uid, err := c.srv.resolve(c.peer, m.Uname, m.NUname)
	if err != nil {
		c.log.Info("9p: attach refused", slog.String("proof", c.peer.Proof.String()), slog.Uint64("peer_uid", uint64(c.peer.UID)), slog.String("uname", m.Uname), slog.Uint64("n_uname", uint64(m.NUname)))
		return nil, refuse
	}
	cr := c.srv.creds.Of(uid)
	if !cr.Self() && c.srv.creds.EUID() != 0 {
		c.srv.refusedOnce.Do(func() {
			c.srv.log.Warn("9p: the server does not run as root and cannot act as other users; their attaches are refused", slog.Uint64("euid", uint64(c.srv.creds.EUID())))
		})
		return nil, refuse
	}
	if err := c.countAttach(uid); err != nil {
		return nil, err
	}
	u := c.srv.limits.userFid(uid)
	if err := c.newFid(u, 1, true); err != nil {
		return nil, err
	}
	var f p9.File
	var qid p9.QID
	ran := cred.RunAs(cr, func() {
		if a, ok := c.srv.attacher.(Attacher); ok {
			f, err = a.AttachWith(Attach{Name: m.Aname, User: m.Uname, UID: p9.UID(uid)})
		} else {
			f, err = attachWalk(c.srv.attacher, m.Aname)
		}
		if err != nil {
			return
		}
		qid, _, _, err = f.GetAttr(p9.AttrMask{Mode: true})
		if err != nil {
			f.Close()
		}
	})
	if ran != nil {
		u.putFid()
		return nil, linux.EPERM
	}
	if err != nil {
		u.putFid()
		return nil, err
	}
	if !c.fids.add(m.Fid, (&fid{file: f, qid: qid, uid: p9.UID(uid), cred: cr}).charge(u, 1)) {
		f.Close() // and uncharged: the fid was never referenced
		u.putFid()
		processFDs().est.Add(-1)
		return nil, linux.EBADF
	}
	return &fcall.Rattach{QID: qid}, nil
}

// attachWalk attaches a plain p9.Attacher and walks the attach name from
// its root.
func attachWalk(a p9.Attacher, aname string) (p9.File, error) {
	root, err := a.Attach()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range strings.Split(aname, "/") {
		if n == "" {
			continue
		}
		if !validName(n) {
			root.Close()
			return nil, linux.EINVAL
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return root, nil
	}
	_, f, err := root.Walk(names)
	root.Close()
	return f, err
}

// bind makes n the fid newfid of a walk from fid: in fid's place when
// they are the same, else as a new fid; false if newfid was taken in the
// meantime.
func (c *conn) bind(fid, newfid uint32, n *fid) bool {
	if newfid == fid {
		c.fids.replace(fid, n)
		return true
	}
	return c.fids.add(newfid, n)
}

// walk answers Twalk (walk(5)): an unknown fid is EBADF, a newfid in use
// (other than fid itself) EBADF; a walk with names from a non-directory
// is ENOTDIR; "", ".", ".." and names with '/' or NUL are EINVAL here and
// in every request that names a directory entry (at most 16 names: the
// codec refuses more). In 9P2000 and 9P2000.u, ".." is allowed (walk9).
func (c *conn) walk(m *fcall.Twalk) (fcall.Msg, error) {
	f, err := c.cloneSource(m.Fid, m.NewFid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	if len(m.Names) > 0 && !f.isDir() {
		return nil, linux.ENOTDIR
	}
	for _, n := range m.Names {
		if !validName(n) && (n != ".." || !c.legacy()) {
			return nil, linux.EINVAL
		}
	}
	if err := c.walkRoom(f, m.Fid, m.NewFid, 1); err != nil {
		return nil, err
	}
	if c.legacy() {
		return c.walk9(f, m)
	}
	qids, nf, err := f.file.Walk(m.Names)
	if err != nil {
		c.unwalk(f)
		return nil, err
	}
	if len(qids) != len(m.Names) {
		nf.Close()
		c.unwalk(f)
		return nil, linux.EIO
	}
	qid := f.qid
	if len(qids) > 0 {
		qid = qids[len(qids)-1]
	}
	n := (&fid{file: nf, qid: qid, uid: f.uid, cred: f.cred}).charge(f.acct, 1) // walkRoom took it
	if !c.bind(m.Fid, m.NewFid, n) {
		n.refs.Add(1)
		n.release()
		return nil, linux.EBADF
	}
	return &fcall.Rwalk{QIDs: qids}, nil
}

// walkRoom takes, for a walk or Txattrwalk from f to a new fid newfid
// holding fds descriptors, the fid from the limits (EMFILE past one); a
// walk onto fid itself takes one that the fid it replaces gives back.
// When the walk fails, unwalk gives it back.
func (c *conn) walkRoom(f *fid, fid, newfid uint32, fds int32) error {
	if f.acct == nil {
		return nil
	}
	if newfid == fid {
		f.acct.fids.Add(1) // f holds one: the count is not zero
		if fds > 0 {
			if err := c.fdRoom(uint32(f.uid), int64(fds)); err != nil {
				f.acct.putFid()
				return err
			}
		}
		return nil
	}
	return c.newFid(f.acct, fds, false)
}

// unwalk gives back what walkRoom took for a walk that made no fid.
func (c *conn) unwalk(f *fid) {
	if f.acct != nil {
		f.acct.putFid()
	}
}

// replacing counts n, made from f to take f's place (a create), for f's
// user, holding fds descriptors; f gives its own count back when it goes.
func (c *conn) replacing(f, n *fid, fds int32) *fid {
	if f.acct != nil {
		f.acct.fids.Add(1)
		n.charge(f.acct, fds)
	}
	return n
}

// clunk forgets fid n. Clunking a Txattrcreate fid sets the attribute
// (removes it if its size was 0, as QEMU and the Linux client agree) and
// answers that call's error.
func (c *conn) clunk(n uint32) error {
	f := c.fids.remove(n)
	if f == nil {
		return linux.EBADF
	}
	defer f.release()
	// A Twrite that took the fid before it left the table may still be
	// appending: read the value under the fid's lock. Once it is whole no
	// Twrite changes it (E2BIG).
	f.mu.Lock()
	x := f.xattr
	var data []byte
	if x != nil {
		data = x.data
	}
	f.mu.Unlock()
	if x == nil || !x.create {
		return nil
	}
	switch {
	case uint64(len(data)) != x.size:
		return linux.EINVAL
	case x.size == 0:
		return f.file.RemoveXattr(x.name)
	default:
		return f.file.SetXattr(x.name, data, x.flags)
	}
}

func (c *conn) open(m *fcall.Tlopen) (fcall.Msg, error) {
	f, err := c.file(m.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opened || f.xattr != nil {
		return nil, linux.EINVAL
	}
	if err := c.fdRoom(uint32(f.uid), 1); err != nil {
		return nil, err
	}
	qid, iounit, err := f.file.Open(m.Flags)
	if err != nil {
		return nil, err
	}
	f.opens()
	f.opened, f.flags = true, m.Flags
	return &fcall.Rlopen{QID: qid, IOUnit: c.iounit(iounit)}, nil
}

// iounit caps a file's iounit at what one message can carry.
func (c *conn) iounit(n uint32) uint32 {
	if limit := c.msize - fcall.IOHeaderSize; n > limit {
		return limit
	}
	return n
}

func (c *conn) create(m *fcall.Tlcreate) (fcall.Msg, error) {
	f, err := c.dir(m.Fid, m.Name)
	if err != nil {
		return nil, err
	}
	defer f.release()
	if opened, _, x := f.state(); opened || x != nil {
		return nil, linux.EINVAL
	}
	if err := c.fdRoom(uint32(f.uid), 2); err != nil {
		return nil, err
	}
	nf, qid, iounit, err := f.file.Create(m.Name, m.Flags, m.Mode, f.uid, m.GID)
	if err != nil {
		return nil, err
	}
	c.fids.replace(m.Fid, c.replacing(f, &fid{file: nf, qid: qid, uid: f.uid, cred: f.cred, opened: true, flags: m.Flags}, 2))
	return &fcall.Rlcreate{QID: qid, IOUnit: c.iounit(iounit)}, nil
}

// read answers a Tread, reading straight into the reply frame.
func (c *conn) read(r *request, m *fcall.Tread) {
	f := c.fids.get(m.Fid)
	if f == nil {
		c.reply(r, nil, linux.EBADF)
		return
	}
	defer f.release()
	opened, flags, x := f.state()
	if m.Offset > math.MaxInt64 {
		c.reply(r, nil, linux.EINVAL)
		return
	}
	if c.legacy() && opened && f.isDir() {
		rep, err := c.readDir9(f, m)
		c.reply(r, rep, err)
		return
	}
	count := min(m.Count, c.msize-fcall.RreadHeaderSize)
	if x != nil {
		if x.create {
			c.reply(r, nil, linux.EBADF)
			return
		}
		var data []byte
		if m.Offset < uint64(len(x.data)) {
			data = x.data[m.Offset:]
		}
		data = data[:min(len(data), int(count))]
		c.reply(r, &fcall.Rread{Data: data}, nil)
		return
	}
	if !opened || flags.Mode() == p9.WriteOnly {
		c.reply(r, nil, linux.EBADF)
		return
	}
	buf := c.getFrame(r.ctx, fcall.RreadHeaderSize+int(count), nil)
	if buf == nil {
		c.reply(r, nil, linux.EINTR)
		return
	}
	n, err := f.file.ReadAt(buf[fcall.RreadHeaderSize:], int64(m.Offset))
	if n == 0 && err != nil && err != io.EOF {
		c.putFrame(buf)
		c.reply(r, nil, err)
		return
	}
	c.finish(r, fcall.PutRreadHeader(buf, r.tag, n))
	c.putFrame(buf)
}

// readdir answers a Treaddir with as many entries as fit in its count.
// Readdir is asked for entries by number, as p9.File documents; the
// number is what the count holds if names were short, and entries that
// do not fit are left for the next call (offsets are per entry).
func (c *conn) readdir(r *request, m *fcall.Treaddir) {
	f, err := c.file(m.Fid)
	if err != nil {
		c.reply(r, nil, err)
		return
	}
	defer f.release()
	if opened, _, _ := f.state(); !opened {
		c.reply(r, nil, linux.EBADF)
		return
	}
	count := int(min(m.Count, c.msize-fcall.RreadHeaderSize))
	want := max(1, count/(fcall.DirentFixedSize+8))
	ents, err := f.file.Readdir(m.Offset, uint32(want))
	if err != nil {
		c.reply(r, nil, err)
		return
	}
	buf := c.getFrame(r.ctx, fcall.RreadHeaderSize+count, nil)
	if buf == nil {
		c.reply(r, nil, linux.EINTR)
		return
	}
	b := buf[:fcall.RreadHeaderSize]
	for i := range ents {
		if len(b)+fcall.DirentSize(&ents[i]) > len(buf) {
			break
		}
		b = fcall.AppendDirent(b, &ents[i])
	}
	if len(ents) > 0 && len(b) == fcall.RreadHeaderSize {
		c.putFrame(buf)
		c.reply(r, nil, linux.EINVAL) // not even one entry fits
		return
	}
	c.finish(r, fcall.PutRreaddirHeader(b, r.tag, len(b)-fcall.RreadHeaderSize))
	c.putFrame(buf)
}

func (c *conn) writeFile(m *fcall.Twrite) (fcall.Msg, error) {
	f := c.fids.get(m.Fid)
	if f == nil {
		return nil, linux.EBADF
	}
	defer f.release()
	if m.Offset > math.MaxInt64 {
		return nil, linux.EINVAL
	}
	f.mu.Lock()
	if x := f.xattr; x != nil {
		defer f.mu.Unlock()
		switch {
		case !x.create:
			return nil, linux.EBADF
		case m.Offset != uint64(len(x.data)):
			return nil, linux.EINVAL
		case uint64(len(x.data))+uint64(len(m.Data)) > x.size:
			return nil, linux.E2BIG
		}
		x.data = append(x.data, m.Data...)
		return &fcall.Rwrite{Count: uint32(len(m.Data))}, nil
	}
	opened, flags := f.opened, f.flags
	f.mu.Unlock()
	if !opened || flags.Mode() == p9.ReadOnly {
		return nil, linux.EBADF
	}
	n, err := f.file.WriteAt(m.Data, int64(m.Offset))
	if n == 0 && err != nil {
		return nil, err
	}
	return &fcall.Rwrite{Count: uint32(n)}, nil
}

func (c *conn) getattr(m *fcall.Tgetattr) (fcall.Msg, error) {
	return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
		qid, valid, attr, err := f.file.GetAttr(m.Mask)
		return &fcall.Rgetattr{Valid: valid, QID: qid, Attr: attr}, err
	})
}

func (c *conn) setattr(m *fcall.Tsetattr) (fcall.Msg, error) {
	return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
		return &fcall.Rsetattr{}, f.file.SetAttr(m.Valid, m.Attr)
	})
}

func (c *conn) statfs(m *fcall.Tstatfs) (fcall.Msg, error) {
	return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
		st, err := f.file.StatFS()
		return &fcall.Rstatfs{Stat: st}, err
	})
}

func (c *conn) readlink(m *fcall.Treadlink) (fcall.Msg, error) {
	return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
		t, err := f.file.Readlink()
		return &fcall.Rreadlink{Target: t}, err
	})
}

func (c *conn) fsync(m *fcall.Tfsync) (fcall.Msg, error) {
	return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
		return &fcall.Rfsync{}, f.file.FSync()
	})
}

// lock answers Tlock; a blocking one waits in LockWait where the file has
// it, until the request is flushed or the connection ends (r's context).
func (c *conn) lock(r *request, m *fcall.Tlock) {
	rep, err := withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
		var st p9.LockStatus
		var err error
		if w, ok := f.file.(LockWaiter); ok && m.Flags&p9.LockFlagsBlock != 0 {
			st, err = w.LockWait(r.ctx, int(m.PID), m.LockType, m.Flags, m.Start, m.Length, m.Client)
		} else {
			st, err = f.file.Lock(int(m.PID), m.LockType, m.Flags, m.Start, m.Length, m.Client)
		}
		return &fcall.Rlock{Status: st}, err
	})
	c.reply(r, rep, err)
}

func (c *conn) getlock(m *fcall.Tgetlock) (fcall.Msg, error) {
	return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
		g, ok := f.file.(GetLocker)
		if !ok {
			return nil, linux.ENOSYS
		}
		got, err := g.GetLock(LockInfo{Type: m.LockType, Start: m.Start, Length: m.Length, PID: m.PID, Client: m.Client})
		return &fcall.Rgetlock{LockType: got.Type, Start: got.Start, Length: got.Length, PID: got.PID, Client: got.Client}, err
	})
}

func (c *conn) mkdir(m *fcall.Tmkdir) (fcall.Msg, error) {
	return withDir(c, m.Dfid, m.Name, func(d *fid) (fcall.Msg, error) {
		q, err := d.file.Mkdir(m.Name, m.Mode, d.uid, m.GID)
		return &fcall.Rmkdir{QID: q}, err
	})
}

func (c *conn) symlink(m *fcall.Tsymlink) (fcall.Msg, error) {
	return withDir(c, m.Fid, m.Name, func(d *fid) (fcall.Msg, error) {
		q, err := d.file.Symlink(m.Target, m.Name, d.uid, m.GID)
		return &fcall.Rsymlink{QID: q}, err
	})
}

func (c *conn) mknod(m *fcall.Tmknod) (fcall.Msg, error) {
	return withDir(c, m.Dfid, m.Name, func(d *fid) (fcall.Msg, error) {
		q, err := d.file.Mknod(m.Name, m.Mode, m.Major, m.Minor, d.uid, m.GID)
		return &fcall.Rmknod{QID: q}, err
	})
}

func (c *conn) unlinkat(m *fcall.Tunlinkat) (fcall.Msg, error) {
	return withDir(c, m.Dfid, m.Name, func(d *fid) (fcall.Msg, error) {
		return &fcall.Runlinkat{}, d.file.UnlinkAt(m.Name, m.Flags)
	})
}

func (c *conn) link(m *fcall.Tlink) (fcall.Msg, error) {
	return withDir(c, m.Dfid, m.Name, func(d *fid) (fcall.Msg, error) {
		return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
			return &fcall.Rlink{}, d.file.Link(f.file, m.Name)
		})
	})
}

func (c *conn) renameat(m *fcall.Trenameat) (fcall.Msg, error) {
	return withDir(c, m.OldDfid, m.OldName, func(od *fid) (fcall.Msg, error) {
		return withDir(c, m.NewDfid, m.NewName, func(nd *fid) (fcall.Msg, error) {
			return &fcall.Rrenameat{}, od.file.RenameAt(m.OldName, nd.file, m.NewName)
		})
	})
}

func (c *conn) rename(m *fcall.Trename) (fcall.Msg, error) {
	return withDir(c, m.Dfid, m.Name, func(d *fid) (fcall.Msg, error) {
		return withFile(c, m.Fid, func(f *fid) (fcall.Msg, error) {
			return &fcall.Rrename{}, f.file.Rename(d.file, m.Name)
		})
	})
}

// withFile runs fn on file fid n.
func withFile(c *conn, n uint32, fn func(*fid) (fcall.Msg, error)) (fcall.Msg, error) {
	f, err := c.file(n)
	if err != nil {
		return nil, err
	}
	defer f.release()
	return fn(f)
}

// withDir runs fn on directory fid n, for an operation on its entry name.
func withDir(c *conn, n uint32, name string, fn func(*fid) (fcall.Msg, error)) (fcall.Msg, error) {
	d, err := c.dir(n, name)
	if err != nil {
		return nil, err
	}
	defer d.release()
	return fn(d)
}

// xattrWalk reads an attribute (or, for an empty name, the list of names)
// into a new xattr fid; the file's own fid is untouched. A value above
// XATTR_SIZE_MAX (a list above XATTR_LIST_MAX) is E2BIG.
func (c *conn) xattrWalk(m *fcall.Txattrwalk) (fcall.Msg, error) {
	f, err := c.cloneSource(m.Fid, m.NewFid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	if len(m.Name) > xattrNameMax {
		return nil, linux.ERANGE
	}
	if err := c.walkRoom(f, m.Fid, m.NewFid, 0); err != nil {
		return nil, err
	}
	n, err := c.readXattr(f, m)
	if err != nil {
		c.unwalk(f)
		return nil, err
	}
	size := uint64(len(n.xattr.data))
	if !c.bind(m.Fid, m.NewFid, n) {
		n.refs.Add(1)
		n.release()
		return nil, linux.EBADF
	}
	return &fcall.Rxattrwalk{Size: size}, nil
}

// readXattr makes the xattr fid of a Txattrwalk from f, holding the
// value, counted for f's user (walkRoom took it).
func (c *conn) readXattr(f *fid, m *fcall.Txattrwalk) (*fid, error) {
	var data []byte
	var err error
	if m.Name == "" {
		names, err := f.file.ListXattrs()
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			data = append(data, n...)
			data = append(data, 0)
		}
		if len(data) > xattrListMax {
			return nil, linux.E2BIG
		}
	} else {
		data, err = f.file.GetXattr(m.Name)
		if err != nil {
			return nil, err
		}
		if len(data) > xattrSizeMax {
			return nil, linux.E2BIG
		}
	}
	n := &fid{qid: f.qid, uid: f.uid, cred: f.cred, xattr: &xattrState{data: data}}
	if err := c.holdXattr(n, int64(len(data))); err != nil {
		return nil, err
	}
	if f.acct != nil {
		n.charge(f.acct, 0)
	}
	return n, nil
}

// xattrCreate turns the fid into one that collects an attribute's value,
// at most attr_size bytes (at most XATTR_SIZE_MAX, 64 KiB: E2BIG beyond),
// set when the fid is clunked (see clunk).
func (c *conn) xattrCreate(m *fcall.Txattrcreate) (fcall.Msg, error) {
	f, err := c.file(m.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	switch {
	case m.Name == "":
		return nil, linux.EINVAL
	case len(m.Name) > xattrNameMax:
		return nil, linux.ERANGE
	case m.Size > xattrSizeMax:
		return nil, linux.E2BIG
	case m.Flags&^uint32(p9.XattrCreate|p9.XattrReplace) != 0:
		return nil, linux.EINVAL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.xattr != nil || f.opened {
		return nil, linux.EINVAL
	}
	if err := c.holdXattr(f, int64(m.Size)); err != nil {
		return nil, err
	}
	f.xattr = &xattrState{create: true, name: m.Name, flags: p9.XattrFlags(m.Flags), size: m.Size}
	return &fcall.Rxattrcreate{}, nil
}
