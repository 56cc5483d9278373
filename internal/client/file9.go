package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// dialect9 is the dialect of 9P2000 and 9P2000.u: File's methods on the
// messages 9P2000.L replaced, as Linux's v9fs maps them
// (fs/9p/vfs_inode.c). What the dialect has no message for (StatFS,
// xattrs, locks; in 9P2000 symlinks, special files and hard links) fails
// with a dialectError and sends nothing.
type dialect9 struct {
	dialect fcall.Dialect // fcall.Plan9 or fcall.U
	u       bool          // dialect is 9P2000.u
	ids     idCache       // names of users and groups (9P2000), resolved here
}

var _ dialect = (*dialect9)(nil)

// open9 is what an open File of 9P2000 or 9P2000.u keeps (File.o9; a
// File of 9P2000.L has none).
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

// stat sends Tstat.
func (d *dialect9) stat(f *File) (*fcall.Dir, error) {
	r, err := expect[*fcall.Rstat](f.rpc(&fcall.Tstat{Fid: f.fid}))
	if err != nil {
		return nil, err
	}
	return &r.Stat, nil
}

// getAttr is Tstat, whose Dir attr converts (see attrOfDir).
func (d *dialect9) getAttr(fid uint32, _ p9.AttrMask) fcall.Msg { return &fcall.Tstat{Fid: fid} }

func (d *dialect9) attr(rep fcall.Msg, err error) (p9.QID, p9.AttrMask, p9.Attr, error) {
	r, err := expect[*fcall.Rstat](rep, err)
	if err != nil {
		return p9.QID{}, p9.AttrMask{}, p9.Attr{}, err
	}
	valid, attr := d.attrOfDir(&r.Stat)
	return r.Stat.QID, valid, attr, nil
}

// setAttr is one Twstat.
func (d *dialect9) setAttr(f *File, valid p9.SetAttrMask, attr p9.SetAttr) error {
	st, touched := d.dirOfSetAttr(f.qid.Type&p9.TypeDir != 0, valid, attr)
	if !touched {
		return nil
	}
	_, err := expect[*fcall.Rwstat](f.rpc(&fcall.Twstat{Fid: f.fid, Stat: st}))
	return err
}

func (d *dialect9) statFS(*File) (p9.FSStat, error) { return p9.FSStat{}, d.lacks("statfs") }

// fsync is a Twstat that changes nothing, which 9P2000 reads as "commit
// the file to stable storage".
func (d *dialect9) fsync(f *File) error {
	_, err := expect[*fcall.Rwstat](f.rpc(&fcall.Twstat{Fid: f.fid, Stat: fcall.NoTouchDir()}))
	return err
}

// open is Topen (the access mode, O_TRUNC as OTRUNC, in 9P2000.u O_APPEND
// as OAPPEND). A directory is cloned first, so that walks from it go on
// (from the clone).
func (d *dialect9) open(f *File, flags p9.OpenFlags) (p9.QID, uint32, error) {
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
	r, err := expect[*fcall.Ropen](f.rpc(&fcall.Topen{Fid: f.fid, Mode: d.openMode(flags)}))
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

// tcreate sends Tcreate on a clone of the directory f, which becomes the
// new file; the clone is closed if the create fails or close is set.
func tcreate(f *File, name string, perm uint32, mode uint8, ext string, close bool) (*File, *fcall.Rcreate, error) {
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

func (d *dialect9) create(f *File, name string, flags p9.OpenFlags, perm p9.FileMode, _ p9.GID) (p9.File, p9.QID, uint32, error) {
	nf, r, err := tcreate(f, name, d.dirPerm(perm), d.openMode(flags), "", false)
	if err != nil {
		return nil, p9.QID{}, 0, err
	}
	return nf, r.QID, r.IOUnit, nil
}

// mkdir is Tcreate with DMDIR, then Tclunk.
func (d *dialect9) mkdir(f *File, name string, perm p9.FileMode, _ p9.GID) (p9.QID, error) {
	_, r, err := tcreate(f, name, fcall.DMDIR|d.dirPerm(perm), fcall.OREAD, "", true)
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

// symlink is, in 9P2000.u, a Tcreate with DMSYMLINK and the target as
// extension.
func (d *dialect9) symlink(f *File, target, name string, _ p9.GID) (p9.QID, error) {
	if !d.u {
		return p9.QID{}, d.lacks("symlinks")
	}
	_, r, err := tcreate(f, name, fcall.DMSYMLINK|0o777, fcall.OREAD, target, true)
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

// mknod is a Tcreate with DMNAMEDPIPE, DMSOCKET or DMDEVICE and "b|c
// major minor" (9P2000.u), or a plain one for a regular file.
func (d *dialect9) mknod(f *File, name string, mode p9.FileMode, major, minor uint32, _ p9.GID) (p9.QID, error) {
	perm := d.dirPerm(mode)
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
	if perm&^(0o777|fcall.DMSETUID|fcall.DMSETGID|fcall.DMSETVTX) != 0 && !d.u {
		return p9.QID{}, d.lacks("special files")
	}
	_, r, err := tcreate(f, name, perm, fcall.OREAD, ext, true)
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

// link is, in 9P2000.u, a Tcreate with DMLINK whose extension is the
// source's fid and a newline.
func (d *dialect9) link(f, t *File, name string) error {
	if !d.u {
		return d.lacks("hard links")
	}
	_, _, err := tcreate(f, name, fcall.DMLINK, fcall.OREAD, fmt.Sprintf("%d\n", t.fid), true)
	return err
}

// rename is EXDEV: a fid's directory is not known (use RenameAt).
func (d *dialect9) rename(*File, *File, string) error { return linux.EXDEV }

// renameAt is, within one directory (same qid), a Twstat of the name;
// across directories EXDEV, as 9P2000 has no rename across them.
func (d *dialect9) renameAt(f *File, oldName string, dir *File, newName string) error {
	if dir.qid.Path != f.qid.Path || dir.qid.Type != f.qid.Type {
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

// unlinkAt is a walk to name and Tremove, refused as unlinkat(2) refuses a
// directory without AT_REMOVEDIR and a file with it.
func (d *dialect9) unlinkAt(f *File, name string, flags uint32) error {
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

// readlink reads a symlink's target in its Tstat's extension (9P2000.u).
func (d *dialect9) readlink(f *File) (string, error) {
	if !d.u {
		return "", d.lacks("symlinks")
	}
	st, err := d.stat(f)
	if err != nil {
		return "", err
	}
	if st.Mode&fcall.DMSYMLINK == 0 {
		return "", linux.EINVAL
	}
	return st.Extension, nil
}

func (d *dialect9) lock(*File, context.Context, *fcall.Tlock, time.Duration) (p9.LockStatus, error) {
	return p9.LockStatusError, d.lacks("locks")
}

func (d *dialect9) getLock(*File, LockInfo) (LockInfo, error) { return LockInfo{}, d.lacks("locks") }

func (d *dialect9) readXattr(*File, string) ([]byte, error) { return nil, d.lacksXattrs() }

func (d *dialect9) writeXattr(*File, string, []byte, uint32) error { return d.lacksXattrs() }

// readdir returns count entries of a Tread of as many bytes as one Tread
// carries; readdirBytes asks for count bytes.
func (d *dialect9) readdir(f *File, offset uint64, count uint32) (p9.Dirents, error) {
	return d.tread(f, offset, count, uint32(f.ioSize()))
}

func (d *dialect9) readdirBytes(f *File, offset uint64, count uint32) (p9.Dirents, error) {
	return d.tread(f, offset, count, count)
}

// tread is a Tread of the open directory at the byte offset,
// of up to budget bytes (the ioSize at most), whose whole entries come back
// as Dirents whose Offset is the byte offset after each and whose Type is
// the DT_ value of the entry's mode, as Treaddir has it. Entries past
// count are kept for the next call at their offset: a 9P2000 server reads
// a directory on only from where its last Tread ended.
func (d *dialect9) tread(f *File, offset uint64, count, budget uint32) (p9.Dirents, error) {
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
	dirs, err := fcall.DecodeDirs(d.dialect, r.Data)
	if err != nil {
		return nil, linux.EIO
	}
	ents := make(p9.Dirents, len(dirs))
	end := offset
	for i := range dirs {
		end += uint64(fcall.DirSize(d.dialect, &dirs[i]))
		m, _, _ := d.modeOfDir(&dirs[i])
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
