package client

import (
	"context"
	"fmt"
	"sync"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// The p9.File methods of a File in 9P2000 and 9P2000.u, on the messages
// 9P2000.L replaced (see the package doc, "Dialects"). File's methods in
// file.go come here when the Conn is old.

// open9 is what an open File of 9P2000 keeps.
type open9 struct {
	// clone is an unopened clone of an open directory: 9P2000 walks only
	// from fids not open, and p9.File walks from open directories too.
	clone  *File
	iounit uint32

	// mu guards the directory entries a Tread brought but Readdir did not
	// return (a 9P2000 directory is read on from where the last Tread
	// ended, and nowhere else): they start at byte offset pendingAt.
	mu        sync.Mutex
	pending   p9.Dirents
	pendingAt uint64
}

// walkFid is the fid walks from f start at: f's own, or its unopened clone.
func (f *File) walkFid() uint32 {
	if o := f.o9.Load(); o != nil && o.clone != nil {
		return o.clone.fid
	}
	return f.fid
}

// closeClone clunks the unopened clone of a directory f opened.
func (f *File) closeClone() {
	if o := f.o9.Load(); o != nil && o.clone != nil {
		o.clone.Close()
	}
}

// stat9 sends Tstat.
func (f *File) stat9() (*fcall.Dir, error) {
	r, err := expect[*fcall.Rstat](f.rpc(&fcall.Tstat{Fid: f.fid}))
	if err != nil {
		return nil, err
	}
	return &r.Stat, nil
}

// getAttr9 is GetAttr: Tstat.
func (f *File) getAttr9() (p9.QID, p9.AttrMask, p9.Attr, error) {
	d, err := f.stat9()
	if err != nil {
		return p9.QID{}, p9.AttrMask{}, p9.Attr{}, err
	}
	valid, attr := f.c.attrOfDir(d)
	return d.QID, valid, attr, nil
}

// walkGetAttr9 is WalkGetAttr: a Twalk and a Tstat of the new fid back to
// back, with a second Tstat if the server ran the first too early.
func (f *File) walkGetAttr9(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	if len(names) > fcall.MaxWalk || f.closed.Load() {
		return f.walkThenGetAttr(names)
	}
	c := f.c
	nfid := c.newFid()
	wcl, err := c.start(&fcall.Twalk{Fid: f.walkFid(), NewFid: nfid, Names: names}, nil)
	if err != nil {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, err
	}
	scl, serr := c.start(&fcall.Tstat{Fid: nfid}, nil)
	w, err := expect[*fcall.Rwalk](c.wait(context.Background(), wcl, c.timeout))
	var s *fcall.Rstat
	if serr == nil {
		s, serr = expect[*fcall.Rstat](c.wait(context.Background(), scl, c.timeout))
	}
	if err == nil && len(w.QIDs) != len(names) {
		err = linux.ENOENT
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
	if serr == nil && s.Stat.QID.Path != q.Path {
		serr = linux.ESTALE // answered halfway through the walk (see WalkGetAttr)
	}
	if serr != nil {
		_, valid, attr, err := nf.getAttr9()
		if err != nil {
			nf.Close()
			return nil, nil, p9.AttrMask{}, p9.Attr{}, err
		}
		return w.QIDs, nf, valid, attr, nil
	}
	valid, attr := c.attrOfDir(&s.Stat)
	return w.QIDs, nf, valid, attr, nil
}

// setAttr9 is SetAttr: one Twstat.
func (f *File) setAttr9(valid p9.SetAttrMask, attr p9.SetAttr) error {
	d, touched := f.c.dirOfSetAttr(f.qid.Type&p9.TypeDir != 0, valid, attr)
	if !touched {
		return nil
	}
	_, err := expect[*fcall.Rwstat](f.rpc(&fcall.Twstat{Fid: f.fid, Stat: d}))
	return err
}

// fsync9 is FSync: a Twstat that changes nothing, which 9P2000 reads as
// "commit the file to stable storage".
func (f *File) fsync9() error {
	_, err := expect[*fcall.Rwstat](f.rpc(&fcall.Twstat{Fid: f.fid, Stat: fcall.NoTouchDir()}))
	return err
}

// open9 is Open: Topen. A directory is cloned first, so that walks from
// it go on (from the clone).
func (f *File) open9(flags p9.OpenFlags) (p9.QID, uint32, error) {
	if f.closed.Load() {
		return p9.QID{}, 0, linux.EBADF
	}
	o := &open9{}
	if f.qid.Type&p9.TypeDir != 0 {
		_, clone, err := f.walk(nil)
		if err != nil {
			return p9.QID{}, 0, err
		}
		o.clone = clone
	}
	r, err := expect[*fcall.Ropen](f.rpc(&fcall.Topen{Fid: f.fid, Mode: f.c.openMode(flags)}))
	if err != nil {
		if o.clone != nil {
			o.clone.Close()
		}
		return p9.QID{}, 0, err
	}
	o.iounit = r.IOUnit
	f.o9.Store(o)
	return r.QID, r.IOUnit, nil
}

// create9 sends Tcreate on a clone of the directory f, which becomes the
// new file; the clone is closed if the create fails or close is set.
func (f *File) create9(name string, perm uint32, mode uint8, ext string, close bool) (*File, *fcall.Rcreate, error) {
	_, nf, err := f.walk(nil)
	if err != nil {
		return nil, nil, err
	}
	r, err := expect[*fcall.Rcreate](f.c.rpc(&fcall.Tcreate{Fid: nf.fid, Name: name, Perm: perm, Mode: mode, Extension: ext}))
	if err != nil || close {
		nf.Close()
		return nil, r, err
	}
	nf.qid = r.QID
	nf.o9.Store(&open9{iounit: r.IOUnit})
	return nf, r, nil
}

// createFile9 is Create.
func (f *File) createFile9(name string, flags p9.OpenFlags, perm p9.FileMode) (p9.File, p9.QID, uint32, error) {
	nf, r, err := f.create9(name, f.c.dirPerm(perm), f.c.openMode(flags), "", false)
	if err != nil {
		return nil, p9.QID{}, 0, err
	}
	return nf, r.QID, r.IOUnit, nil
}

// mkdir9 is Mkdir: Tcreate with DMDIR, then Tclunk.
func (f *File) mkdir9(name string, perm p9.FileMode) (p9.QID, error) {
	_, r, err := f.create9(name, fcall.DMDIR|f.c.dirPerm(perm), fcall.OREAD, "", true)
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

// symlink9 is Symlink: in 9P2000.u a Tcreate with DMSYMLINK and the target
// as extension.
func (f *File) symlink9(target, name string) (p9.QID, error) {
	if f.c.dialect != fcall.U {
		return p9.QID{}, f.c.lacks("symlinks")
	}
	_, r, err := f.create9(name, fcall.DMSYMLINK|0o777, fcall.OREAD, target, true)
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

// mknod9 is Mknod: a Tcreate with DMNAMEDPIPE, DMSOCKET or DMDEVICE and
// "b|c major minor" (9P2000.u), or a plain one for a regular file.
func (f *File) mknod9(name string, mode p9.FileMode, major, minor uint32) (p9.QID, error) {
	perm := f.c.dirPerm(mode)
	var ext string
	switch mode.FileType() {
	case 0, p9.ModeRegular:
	case p9.ModeNamedPipe:
		perm |= fcall.DMNAMEDPIPE
	case p9.ModeSocket:
		perm |= fcall.DMSOCKET
	case p9.ModeCharacterDevice, p9.ModeBlockDevice:
		perm |= fcall.DMDEVICE
		ext = fcall.DeviceExtension(mode.FileType() == p9.ModeBlockDevice, major, minor)
	default:
		return p9.QID{}, linux.EINVAL
	}
	if perm&^(0o777|fcall.DMSETUID|fcall.DMSETGID|fcall.DMSETVTX) != 0 && f.c.dialect != fcall.U {
		return p9.QID{}, f.c.lacks("special files")
	}
	_, r, err := f.create9(name, perm, fcall.OREAD, ext, true)
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

// link9 is Link: in 9P2000.u a Tcreate with DMLINK whose extension is the
// source's fid and a newline.
func (f *File) link9(t *File, name string) error {
	if f.c.dialect != fcall.U {
		return f.c.lacks("hard links")
	}
	_, _, err := f.create9(name, fcall.DMLINK, fcall.OREAD, fmt.Sprintf("%d\n", t.fid), true)
	return err
}

// renameAt9 is RenameAt: within one directory (same qid) a Twstat of the
// name; across directories EXDEV, as 9P2000 has no rename across them.
func (f *File) renameAt9(d *File, oldName, newName string) error {
	if d.qid.Path != f.qid.Path || d.qid.Type != f.qid.Type {
		return linux.EXDEV
	}
	_, nf, err := f.walk([]string{oldName})
	if err != nil {
		return err
	}
	defer nf.Close()
	st := fcall.NoTouchDir()
	st.Name = newName
	_, err = expect[*fcall.Rwstat](nf.rpc(&fcall.Twstat{Fid: nf.fid, Stat: st}))
	return err
}

// unlinkAt9 is UnlinkAt: a walk to name and Tremove, refused as unlinkat(2)
// refuses a directory without AT_REMOVEDIR and a file with it.
func (f *File) unlinkAt9(name string, flags uint32) error {
	qids, nf, err := f.walk([]string{name})
	if err != nil {
		return err
	}
	isDir := qids[0].Type&p9.TypeDir != 0
	switch {
	case isDir && flags&unix.AT_REMOVEDIR == 0:
		nf.Close()
		return linux.EISDIR
	case !isDir && flags&unix.AT_REMOVEDIR != 0:
		nf.Close()
		return linux.ENOTDIR
	}
	return nf.Remove()
}

// readlink9 is Readlink: a symlink's target is its Tstat's extension
// (9P2000.u).
func (f *File) readlink9() (string, error) {
	if f.c.dialect != fcall.U {
		return "", f.c.lacks("symlinks")
	}
	d, err := f.stat9()
	if err != nil {
		return "", err
	}
	if d.Mode&fcall.DMSYMLINK == 0 {
		return "", linux.EINVAL
	}
	return d.Extension, nil
}

// readdir9 is Readdir: a Tread of the open directory at the byte offset,
// of up to budget bytes (the ioSize at most), whose whole entries come back
// as Dirents whose Offset is the byte offset after each and whose Type is
// the DT_ value of the entry's mode, as Treaddir has it. Entries past
// count are kept for the next call at their offset: a 9P2000 server reads
// a directory on only from where its last Tread ended.
func (f *File) readdir9(offset uint64, count, budget uint32) (p9.Dirents, error) {
	if f.closed.Load() {
		return nil, linux.EBADF
	}
	if count == 0 {
		return nil, nil
	}
	o := f.o9.Load()
	if o != nil {
		o.mu.Lock()
		defer o.mu.Unlock()
		if len(o.pending) > 0 && o.pendingAt == offset {
			return o.take(count), nil
		}
		o.pending = nil
	}
	r, err := expect[*fcall.Rread](f.c.rpc(&fcall.Tread{Fid: f.fid, Offset: offset, Count: min(budget, uint32(f.ioSize()))}))
	if err != nil {
		return nil, err
	}
	dirs, err := fcall.DecodeDirs(f.c.dialect, r.Data)
	if err != nil {
		return nil, linux.EIO
	}
	ents := make(p9.Dirents, len(dirs))
	end := offset
	for i := range dirs {
		end += uint64(fcall.DirSize(f.c.dialect, &dirs[i]))
		m, _, _ := f.c.modeOfDir(&dirs[i])
		ents[i] = p9.Dirent{QID: dirs[i].QID, Offset: end, Type: p9.QIDType(m.FileType() >> 12), Name: dirs[i].Name}
	}
	if uint64(len(ents)) > uint64(count) {
		if o == nil {
			return ents[:count], nil
		}
		o.pending, o.pendingAt = ents, offset
		return o.take(count), nil
	}
	return ents, nil
}

// take returns up to count pending entries and keeps the rest.
func (o *open9) take(count uint32) p9.Dirents {
	n := int(min(uint64(count), uint64(len(o.pending))))
	ents := o.pending[:n:n]
	o.pending = o.pending[n:]
	o.pendingAt = ents[n-1].Offset
	if len(o.pending) == 0 {
		o.pending = nil
	}
	return ents
}
