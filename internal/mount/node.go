package mount

import (
	gocontext "context"
	"strconv"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// node is a file of some node's tree: /N itself (nodeID N) or anything
// below it. It holds no file of its own: operations use the caller's
// walked file of its inode (fids), walking from the parent's when there
// is none, so every caller reaches the file as itself.
type node struct {
	fs.Inode
	m *Mount
	// nodeID is N for /N, else 0.
	nodeID int
	// owner is the node whose file this is.
	owner int
}

var (
	_ fs.NodeLookuper       = (*node)(nil)
	_ fs.NodeGetattrer      = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeMkdirer        = (*node)(nil)
	_ fs.NodeMknoder        = (*node)(nil)
	_ fs.NodeSymlinker      = (*node)(nil)
	_ fs.NodeLinker         = (*node)(nil)
	_ fs.NodeUnlinker       = (*node)(nil)
	_ fs.NodeRmdirer        = (*node)(nil)
	_ fs.NodeRenamer        = (*node)(nil)
	_ fs.NodeReadlinker     = (*node)(nil)
	_ fs.NodeOpendirHandler = (*node)(nil)
	_ fs.NodeStatfser       = (*node)(nil)
	_ fs.NodeGetxattrer     = (*node)(nil)
	_ fs.NodeSetxattrer     = (*node)(nil)
	_ fs.NodeListxattrer    = (*node)(nil)
	_ fs.NodeRemovexattrer  = (*node)(nil)
	_ fs.NodeAccesser       = (*node)(nil)
	_ fs.NodeOnForgetter    = (*node)(nil)
)

// file returns c's walked file of n, held: release it with m.fids.release.
func (n *node) file(c *caller) (*fidRef, error) {
	ino := n.StableAttr().Ino
	k := fidKey{ino, c.uid}
	if r := n.m.fids.get(k); r != nil {
		return r, nil
	}
	if n.nodeID != 0 {
		rf, err := n.m.rootFor(c.uid, context{})
		if err != nil {
			return nil, err
		}
		_, f, err := rf.Walk([]string{strconv.Itoa(n.nodeID)})
		if err != nil {
			return nil, err
		}
		return n.m.fids.put(k, f), nil
	}
	name, parent := n.Parent()
	if parent == nil {
		return nil, syscall.ESTALE
	}
	pn, ok := parent.Operations().(*node)
	if !ok {
		return nil, syscall.ESTALE
	}
	pr, err := pn.file(c)
	if err != nil {
		return nil, err
	}
	defer n.m.fids.release(pr)
	_, f, err := pr.f.Walk([]string{name})
	if err != nil {
		return nil, err
	}
	return n.m.fids.put(k, f), nil
}

// with runs fn as the caller of ctx on the caller's walked file of n.
func (n *node) with(ctx gocontext.Context, fn func(c *caller, f p9.File) error) syscall.Errno {
	return n.m.do(ctx, func(c *caller) error {
		r, err := n.file(c)
		if err != nil {
			return err
		}
		defer n.m.fids.release(r)
		return fn(c, r.f)
	})
}

// child makes the inode of a file reached from n by name, with the
// caller's walked file kept for it.
func (n *node) child(ctx gocontext.Context, c *caller, q p9.QID, a p9.Attr, f p9.File, out *fuse.EntryOut) *fs.Inode {
	if f != nil {
		n.m.fids.release(n.m.fids.put(fidKey{q.Path, c.uid}, f))
	}
	fillAttr(q, a, &out.Attr)
	return n.NewInode(ctx, &node{m: n.m, owner: n.owner}, fs.StableAttr{Mode: uint32(a.Mode) & syscall.S_IFMT, Ino: q.Path})
}

// Lookup implements fs.NodeLookuper: one walk that also answers the
// attributes.
func (n *node) Lookup(ctx gocontext.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var in *fs.Inode
	e := n.with(ctx, func(c *caller, f p9.File) error {
		qids, nf, _, a, err := f.WalkGetAttr([]string{name})
		if err != nil {
			return err
		}
		in = n.child(ctx, c, qids[len(qids)-1], a, nf, out)
		return nil
	})
	return in, e
}

// OnForget implements fs.NodeOnForgetter: the kernel no longer knows
// the inode, so no user's walked file of it is needed.
func (n *node) OnForget() { n.m.fids.forget(n.StableAttr().Ino) }

// onFile runs fn as the caller of ctx on the open file fh when there is
// one (an unlinked file stays reachable through it), else on the
// caller's walked file of n.
func (n *node) onFile(ctx gocontext.Context, fh fs.FileHandle, fn func(f p9.File) error) syscall.Errno {
	if h, ok := fh.(*handle); ok {
		return n.m.do(ctx, func(*caller) error { return fn(h.f) })
	}
	return n.with(ctx, func(_ *caller, f p9.File) error { return fn(f) })
}

// attrOut fills out with f's attributes.
func attrOut(f p9.File, out *fuse.AttrOut) error {
	q, _, a, err := f.GetAttr(allAttrs)
	if err != nil {
		return err
	}
	fillAttr(q, a, &out.Attr)
	return nil
}

// Getattr implements fs.NodeGetattrer.
func (n *node) Getattr(ctx gocontext.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	return n.onFile(ctx, fh, func(f p9.File) error { return attrOut(f, out) })
}

// Setattr implements fs.NodeSetattrer (ftruncate on the open file).
func (n *node) Setattr(ctx gocontext.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	mask, attr := setAttrOf(in)
	return n.onFile(ctx, fh, func(f p9.File) error {
		if err := f.SetAttr(mask, attr); err != nil {
			return err
		}
		return attrOut(f, out)
	})
}

// Open implements fs.NodeOpener: a fresh clone of the caller's walked
// file, opened.
func (n *node) Open(ctx gocontext.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	var h *handle
	e := n.with(ctx, func(c *caller, f p9.File) error {
		if err := n.m.opens.take(c.uid); err != nil {
			return err
		}
		_, nf, err := f.Walk(nil)
		if err == nil {
			if _, _, err = nf.Open(openFlags(flags)); err != nil {
				nf.Close()
			}
		}
		if err != nil {
			n.m.opens.give(c.uid)
			return err
		}
		h = &handle{m: n.m, f: nf, uid: c.uid, ino: n.StableAttr().Ino, mode: openFlags(flags) & p9.OpenFlagsModeMask}
		return nil
	})
	if e != 0 {
		return nil, 0, e
	}
	return h, 0, 0
}

// OpendirHandle implements fs.NodeOpendirHandler.
func (n *node) OpendirHandle(ctx gocontext.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	var d *dirHandle
	e := n.with(ctx, func(c *caller, f p9.File) error {
		if err := n.m.opens.take(c.uid); err != nil {
			return err
		}
		_, nf, err := f.Walk(nil)
		if err == nil {
			if _, _, err = nf.Open(p9.ReadOnly); err != nil {
				nf.Close()
			}
		}
		if err != nil {
			n.m.opens.give(c.uid)
			return err
		}
		d = &dirHandle{n: n, f: nf, uid: c.uid}
		return nil
	})
	if e != 0 {
		return nil, 0, e
	}
	return d, 0, 0
}

// Create implements fs.NodeCreater.
func (n *node) Create(ctx gocontext.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	var in *fs.Inode
	var h *handle
	e := n.with(ctx, func(c *caller, f p9.File) error {
		if err := n.m.opens.take(c.uid); err != nil {
			return err
		}
		// Create leaves the directory's file as it was (the client
		// creates on a clone of it) and returns the new file, open.
		of, _, _, err := f.Create(name, openFlags(flags), p9.FileMode(mode&0o7777), p9.UID(c.uid), n.newGID(c, f))
		if err != nil {
			n.m.opens.give(c.uid)
			return err
		}
		q, _, a, err := of.GetAttr(allAttrs)
		if err != nil {
			of.Close()
			n.m.opens.give(c.uid)
			return err
		}
		in = n.child(ctx, c, q, a, nil, out)
		h = &handle{m: n.m, f: of, uid: c.uid, ino: q.Path, mode: openFlags(flags) & p9.OpenFlagsModeMask}
		return nil
	})
	if e != 0 {
		return nil, nil, 0, e
	}
	return in, h, 0, 0
}

// newGID is the group a file made in n by c gets, as Linux gives it: the
// directory's under a setgid directory, else the caller's fsgid. This
// node's files are made on the caller's own thread credentials, where the
// kernel decides so itself (NoGID); another node's are made with the
// credentials that node knows for the uid, so the group is sent.
func (n *node) newGID(c *caller, dir p9.File) p9.GID {
	if n.owner == n.m.ns.Here() {
		return p9.NoGID
	}
	_, _, a, err := dir.GetAttr(p9.AttrMask{Mode: true, GID: true})
	if err == nil && uint32(a.Mode)&syscall.S_ISGID != 0 {
		return a.GID
	}
	return p9.GID(c.gid)
}

// made walks to a file just made in n and makes its inode.
func (n *node) made(ctx gocontext.Context, c *caller, f p9.File, name string, out *fuse.EntryOut) (*fs.Inode, error) {
	qids, nf, _, a, err := f.WalkGetAttr([]string{name})
	if err != nil {
		return nil, err
	}
	return n.child(ctx, c, qids[len(qids)-1], a, nf, out), nil
}

// Mkdir implements fs.NodeMkdirer.
func (n *node) Mkdir(ctx gocontext.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var in *fs.Inode
	e := n.with(ctx, func(c *caller, f p9.File) (err error) {
		if _, err := f.Mkdir(name, p9.FileMode(mode&0o7777), p9.UID(c.uid), n.newGID(c, f)); err != nil {
			return err
		}
		in, err = n.made(ctx, c, f, name, out)
		return err
	})
	return in, e
}

// Mknod implements fs.NodeMknoder.
func (n *node) Mknod(ctx gocontext.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var in *fs.Inode
	e := n.with(ctx, func(c *caller, f p9.File) (err error) {
		if _, err := f.Mknod(name, p9.FileMode(mode), unixMajor(dev), unixMinor(dev), p9.UID(c.uid), n.newGID(c, f)); err != nil {
			return err
		}
		in, err = n.made(ctx, c, f, name, out)
		return err
	})
	return in, e
}

// Symlink implements fs.NodeSymlinker.
func (n *node) Symlink(ctx gocontext.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var in *fs.Inode
	e := n.with(ctx, func(c *caller, f p9.File) (err error) {
		if _, err := f.Symlink(target, name, p9.UID(c.uid), n.newGID(c, f)); err != nil {
			return err
		}
		in, err = n.made(ctx, c, f, name, out)
		return err
	})
	return in, e
}

// Link implements fs.NodeLinker.
func (n *node) Link(ctx gocontext.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	tn, ok := target.(*node)
	if !ok || tn.nodeID != 0 {
		return nil, syscall.EXDEV
	}
	var in *fs.Inode
	e := n.with(ctx, func(c *caller, f p9.File) error {
		tr, err := tn.file(c)
		if err != nil {
			return err
		}
		defer n.m.fids.release(tr)
		if err := f.Link(tr.f, name); err != nil {
			return err
		}
		in, err = n.made(ctx, c, f, name, out)
		return err
	})
	return in, e
}

// Unlink implements fs.NodeUnlinker.
func (n *node) Unlink(ctx gocontext.Context, name string) syscall.Errno {
	return n.with(ctx, func(_ *caller, f p9.File) error { return f.UnlinkAt(name, 0) })
}

// Rmdir implements fs.NodeRmdirer.
func (n *node) Rmdir(ctx gocontext.Context, name string) syscall.Errno {
	return n.with(ctx, func(_ *caller, f p9.File) error { return f.UnlinkAt(name, unix.AT_REMOVEDIR) })
}

// Rename implements fs.NodeRenamer. Flags (RENAME_NOREPLACE,
// RENAME_EXCHANGE) have no 9P form: EINVAL, as a file system without
// them answers.
func (n *node) Rename(ctx gocontext.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags != 0 {
		return syscall.EINVAL
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	return n.with(ctx, func(c *caller, f p9.File) error {
		if np == n {
			return f.RenameAt(name, f, newName)
		}
		nr, err := np.file(c)
		if err != nil {
			return err
		}
		defer n.m.fids.release(nr)
		return f.RenameAt(name, nr.f, newName)
	})
}

// Readlink implements fs.NodeReadlinker.
func (n *node) Readlink(ctx gocontext.Context) ([]byte, syscall.Errno) {
	var t string
	e := n.with(ctx, func(_ *caller, f p9.File) (err error) {
		t, err = f.Readlink()
		return err
	})
	return []byte(t), e
}

// Statfs implements fs.NodeStatfser: that of the file's own node.
func (n *node) Statfs(ctx gocontext.Context, out *fuse.StatfsOut) syscall.Errno {
	return n.with(ctx, func(_ *caller, f p9.File) error {
		st, err := f.StatFS()
		if err != nil {
			return err
		}
		fillStatfs(st, out)
		return nil
	})
}

// Getxattr implements fs.NodeGetxattrer.
func (n *node) Getxattr(ctx gocontext.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	var v []byte
	e := n.with(ctx, func(_ *caller, f p9.File) (err error) {
		v, err = f.GetXattr(attr)
		return err
	})
	if e != 0 {
		return 0, e
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

// Setxattr implements fs.NodeSetxattrer.
func (n *node) Setxattr(ctx gocontext.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return n.with(ctx, func(_ *caller, f p9.File) error { return f.SetXattr(attr, data, p9.XattrFlags(flags)) })
}

// Listxattr implements fs.NodeListxattrer.
func (n *node) Listxattr(ctx gocontext.Context, dest []byte) (uint32, syscall.Errno) {
	var names []string
	e := n.with(ctx, func(_ *caller, f p9.File) (err error) {
		names, err = f.ListXattrs()
		return err
	})
	if e != 0 {
		return 0, e
	}
	var b []byte
	for _, s := range names {
		b = append(append(b, s...), 0)
	}
	if len(dest) < len(b) {
		return uint32(len(b)), syscall.ERANGE
	}
	return uint32(copy(dest, b)), 0
}

// Removexattr implements fs.NodeRemovexattrer.
func (n *node) Removexattr(ctx gocontext.Context, attr string) syscall.Errno {
	return n.with(ctx, func(_ *caller, f p9.File) error { return f.RemoveXattr(attr) })
}

// Access implements fs.NodeAccesser: the mode bits against the caller's
// uid, gid and groups, as the kernel checks them (root passes all but
// execute on a file no one may execute).
func (n *node) Access(ctx gocontext.Context, mask uint32) syscall.Errno {
	return n.with(ctx, func(c *caller, f p9.File) error {
		_, _, a, err := f.GetAttr(p9.AttrMask{Mode: true, UID: true, GID: true})
		if err != nil {
			return err
		}
		return access(c, a, mask)
	})
}
