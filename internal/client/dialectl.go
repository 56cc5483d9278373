package client

import (
	"context"
	"io"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// dialectL is the dialect of 9P2000.L: each File method is the message of
// its name. Nothing is injected and nothing is smuggled: xattrs, Tlock
// with the file's own fid, Tgetlock and Tsetattr with the whole mode
// (setuid, setgid, sticky) are plain messages.
type dialectL struct{}

var _ dialect = dialectL{}

func (dialectL) getAttr(fid uint32, req p9.AttrMask) fcall.Msg {
	return &fcall.Tgetattr{Fid: fid, Mask: req}
}

func (dialectL) attr(rep fcall.Msg, err error) (p9.QID, p9.AttrMask, p9.Attr, error) {
	r, err := expect[*fcall.Rgetattr](rep, err)
	if err != nil {
		return p9.QID{}, p9.AttrMask{}, p9.Attr{}, err
	}
	return r.QID, r.Valid, r.Attr, nil
}

func (dialectL) setAttr(f *File, valid p9.SetAttrMask, attr p9.SetAttr) error {
	_, err := expect[*fcall.Rsetattr](f.rpc(&fcall.Tsetattr{Fid: f.fid, Valid: valid, Attr: attr}))
	return err
}

func (dialectL) statFS(f *File) (p9.FSStat, error) {
	r, err := expect[*fcall.Rstatfs](f.rpc(&fcall.Tstatfs{Fid: f.fid}))
	if err != nil {
		return p9.FSStat{}, err
	}
	return r.Stat, nil
}

func (dialectL) fsync(f *File) error {
	_, err := expect[*fcall.Rfsync](f.rpc(&fcall.Tfsync{Fid: f.fid}))
	return err
}

func (dialectL) open(f *File, flags p9.OpenFlags) (p9.QID, uint32, error) {
	r, err := expect[*fcall.Rlopen](f.rpc(&fcall.Tlopen{Fid: f.fid, Flags: flags}))
	if err != nil {
		return p9.QID{}, 0, err
	}
	return r.QID, r.IOUnit, nil
}

// create sends Tlcreate, which turns the fid it is sent on into the new
// file, on a clone: f stays the directory.
func (dialectL) create(f *File, name string, flags p9.OpenFlags, perm p9.FileMode, gid p9.GID) (p9.File, p9.QID, uint32, error) {
	_, nf, err := f.walk(nil)
	if err != nil {
		return nil, p9.QID{}, 0, err
	}
	r, err := expect[*fcall.Rlcreate](f.c.rpc(&fcall.Tlcreate{Fid: nf.fid, Name: name, Flags: flags, Mode: perm, GID: gid}))
	if err != nil {
		nf.Close()
		return nil, p9.QID{}, 0, err
	}
	nf.qid = r.QID
	return nf, r.QID, r.IOUnit, nil
}

func (dialectL) mkdir(f *File, name string, perm p9.FileMode, gid p9.GID) (p9.QID, error) {
	r, err := expect[*fcall.Rmkdir](f.rpc(&fcall.Tmkdir{Dfid: f.fid, Name: name, Mode: perm, GID: gid}))
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

func (dialectL) symlink(f *File, target, name string, gid p9.GID) (p9.QID, error) {
	r, err := expect[*fcall.Rsymlink](f.rpc(&fcall.Tsymlink{Fid: f.fid, Name: name, Target: target, GID: gid}))
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

func (dialectL) mknod(f *File, name string, mode p9.FileMode, major, minor uint32, gid p9.GID) (p9.QID, error) {
	r, err := expect[*fcall.Rmknod](f.rpc(&fcall.Tmknod{Dfid: f.fid, Name: name, Mode: mode, Major: major, Minor: minor, GID: gid}))
	if err != nil {
		return p9.QID{}, err
	}
	return r.QID, nil
}

func (dialectL) link(f, target *File, name string) error {
	_, err := expect[*fcall.Rlink](f.rpc(&fcall.Tlink{Dfid: f.fid, Fid: target.fid, Name: name}))
	return err
}

func (dialectL) rename(f, dir *File, name string) error {
	_, err := expect[*fcall.Rrename](f.rpc(&fcall.Trename{Fid: f.fid, Dfid: dir.fid, Name: name}))
	return err
}

func (dialectL) renameAt(f *File, oldName string, dir *File, newName string) error {
	_, err := expect[*fcall.Rrenameat](f.rpc(&fcall.Trenameat{OldDfid: f.fid, OldName: oldName, NewDfid: dir.fid, NewName: newName}))
	return err
}

func (dialectL) unlinkAt(f *File, name string, flags uint32) error {
	_, err := expect[*fcall.Runlinkat](f.rpc(&fcall.Tunlinkat{Dfid: f.fid, Name: name, Flags: flags}))
	return err
}

func (dialectL) readlink(f *File) (string, error) {
	r, err := expect[*fcall.Rreadlink](f.rpc(&fcall.Treadlink{Fid: f.fid}))
	if err != nil {
		return "", err
	}
	return r.Target, nil
}

// readdir asks for the bytes count entries with names of up to 64 bytes
// take (at most the ioSize); entries past count are dropped and come
// again at the next offset.
func (dialectL) readdir(f *File, offset uint64, count uint32) (p9.Dirents, error) {
	budget := uint32(min(uint64(count)*(fcall.DirentFixedSize+64), uint64(f.ioSize())))
	ents, err := treaddir(f, offset, budget)
	if uint64(len(ents)) > uint64(count) {
		ents = ents[:count]
	}
	return ents, err
}

func (dialectL) readdirBytes(f *File, offset uint64, count uint32) (p9.Dirents, error) {
	return treaddir(f, offset, min(count, uint32(f.ioSize())))
}

// treaddir is one Treaddir of budget bytes.
func treaddir(f *File, offset uint64, budget uint32) (p9.Dirents, error) {
	r, err := expect[*fcall.Rreaddir](f.rpc(&fcall.Treaddir{Fid: f.fid, Offset: offset, Count: budget}))
	if err != nil {
		return nil, err
	}
	ents, err := fcall.DecodeDirents(r.Data)
	if err != nil {
		return nil, linux.EIO
	}
	return ents, nil
}

func (dialectL) lock(f *File, ctx context.Context, m *fcall.Tlock, timeout time.Duration) (p9.LockStatus, error) {
	if f.closed.Load() {
		return p9.LockStatusError, linux.EBADF
	}
	r, err := expect[*fcall.Rlock](f.c.rpcInto(ctx, m, nil, timeout))
	if err != nil {
		if ctx.Err() != nil && err == ctx.Err() {
			return p9.LockStatusBlocked, nil
		}
		return p9.LockStatusError, err
	}
	return r.Status, nil
}

func (dialectL) getLock(f *File, want LockInfo) (LockInfo, error) {
	r, err := expect[*fcall.Rgetlock](f.rpc(&fcall.Tgetlock{Fid: f.fid, LockType: want.Type, Start: want.Start, Length: want.Length, PID: want.PID, Client: want.Client}))
	if err != nil {
		return LockInfo{}, err
	}
	return LockInfo{Type: r.LockType, Start: r.Start, Length: r.Length, PID: r.PID, Client: r.Client}, nil
}

// readXattr is a Txattrwalk, Treads of the attribute's fid and its Tclunk.
func (dialectL) readXattr(f *File, name string) ([]byte, error) {
	xfid := f.c.newFid()
	r, err := expect[*fcall.Rxattrwalk](f.c.rpc(&fcall.Txattrwalk{Fid: f.fid, NewFid: xfid, Name: name}))
	if err != nil {
		f.c.releaseFid(xfid, err)
		return nil, err
	}
	defer f.c.clunk(xfid)
	if r.Size > 64<<10 {
		return nil, linux.E2BIG
	}
	buf := make([]byte, r.Size)
	x := &File{c: f.c, fid: xfid}
	n, err := x.ReadAt(buf, 0)
	if err != nil && !(err == io.EOF && r.Size == 0) {
		return nil, err
	}
	return buf[:n], nil
}

// writeXattr is, on a clone, Txattrcreate, Twrites, and the Tclunk that
// sets the attribute (whose answer is the result).
func (dialectL) writeXattr(f *File, name string, data []byte, flags uint32) error {
	_, x, err := f.walk(nil)
	if err != nil {
		return err
	}
	if _, err := expect[*fcall.Rxattrcreate](f.c.rpc(&fcall.Txattrcreate{Fid: x.fid, Name: name, Size: uint64(len(data)), Flags: flags})); err != nil {
		x.Close()
		return err
	}
	if len(data) > 0 {
		if _, err := x.WriteAt(data, 0); err != nil {
			x.Close()
			return err
		}
	}
	return x.Close()
}
