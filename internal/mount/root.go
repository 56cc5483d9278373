package mount

import (
	gocontext "context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/hugelgupf/p9/p9"

	"mfs/namespace"
	"mfs/srv9p"
)

// Names of the root's own files.
const (
	nameCtl   = "ctl"
	nameNodes = "nodes"
)

// Inode numbers of the root's own files: the namespace's QID paths.
const (
	inoRoot  = 1
	inoNodes = 2
	inoCtl   = 3
)

// root is the mount's root: the namespace root of the calling process's
// context, looked up anew at every call.
type root struct {
	fs.Inode
	m *Mount
}

var (
	_ fs.NodeLookuper  = (*root)(nil)
	_ fs.NodeReaddirer = (*root)(nil)
	_ fs.NodeGetattrer = (*root)(nil)
	_ fs.NodeStatfser  = (*root)(nil)
)

// ctxRoot returns the namespace root of c's process context.
func (r *root) ctxRoot(c *caller) (p9.File, error) {
	ctx, _ := r.m.ctxs.resolve(tgid(c.pid))
	return r.m.rootFor(c.uid, ctx)
}

// Lookup implements fs.NodeLookuper: home, here, selected and N are the
// inode of node N's directory, whichever name reached it.
func (r *root) Lookup(ctx gocontext.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	switch name {
	case nameCtl:
		out.Attr = ctlAttr()
		return r.NewInode(ctx, &ctlFile{m: r.m}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: inoCtl}), 0
	case nameNodes:
		out.Attr = ctlAttr()
		out.Attr.Ino, out.Attr.Mode = inoNodes, syscall.S_IFREG|0o444
		return r.NewInode(ctx, &nodesFile{m: r.m}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: inoNodes}), 0
	}
	var child *fs.Inode
	e := r.m.do(ctx, func(c *caller) error {
		rf, err := r.ctxRoot(c)
		if err != nil {
			return err
		}
		qids, f, _, a, err := rf.WalkGetAttr([]string{name})
		if err != nil {
			return err
		}
		q := qids[len(qids)-1]
		id, ok := namespace.NodeDir(q)
		if !ok {
			f.Close()
			return syscall.ENOENT
		}
		r.m.fids.release(r.m.fids.put(fidKey{q.Path, c.uid}, f))
		fillAttr(q, a, &out.Attr)
		child = r.NewInode(ctx, &node{m: r.m, nodeID: id, owner: id}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: q.Path})
		return nil
	})
	return child, e
}

// Readdir implements fs.NodeReaddirer: the namespace root's listing in
// the caller's context, with ctl and nodes.
func (r *root) Readdir(ctx gocontext.Context) (fs.DirStream, syscall.Errno) {
	var ents []fuse.DirEntry
	e := r.m.do(ctx, func(c *caller) error {
		rf, err := r.ctxRoot(c)
		if err != nil {
			// A context naming a node that is gone: list what the
			// defaults give, as ctl shows the error on read.
			if rf, err = r.m.rootFor(c.uid, context{}); err != nil {
				return err
			}
		}
		ds, err := rf.Readdir(0, 1<<16)
		if err != nil {
			return err
		}
		for _, d := range ds {
			mode := uint32(syscall.S_IFDIR)
			if d.Type != p9.TypeDir {
				mode = syscall.S_IFREG
			}
			ents = append(ents, fuse.DirEntry{Name: d.Name, Ino: d.QID.Path, Mode: mode})
		}
		return nil
	})
	if e != 0 {
		return nil, e
	}
	return fs.NewListDirStream(ents), 0
}

// Getattr implements fs.NodeGetattrer.
func (r *root) Getattr(ctx gocontext.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	return r.m.do(ctx, func(c *caller) error {
		rf, err := r.m.rootFor(c.uid, context{})
		if err != nil {
			return err
		}
		q, _, a, err := rf.GetAttr(allAttrs)
		if err != nil {
			return err
		}
		fillAttr(q, a, &out.Attr)
		out.Ino = inoRoot
		return nil
	})
}

// Statfs implements fs.NodeStatfser: the serving node's.
func (r *root) Statfs(ctx gocontext.Context, out *fuse.StatfsOut) syscall.Errno {
	return r.m.do(ctx, func(c *caller) error {
		rf, err := r.m.rootFor(c.uid, context{})
		if err != nil {
			return err
		}
		st, err := rf.StatFS()
		if err != nil {
			return err
		}
		fillStatfs(st, out)
		return nil
	})
}

func fillStatfs(st p9.FSStat, out *fuse.StatfsOut) {
	out.Blocks, out.Bfree, out.Bavail = st.Blocks, st.BlocksFree, st.BlocksAvailable
	out.Files, out.Ffree = st.Files, st.FilesFree
	out.Bsize, out.Frsize, out.NameLen = st.BlockSize, st.BlockSize, st.NameLength
}

// ctlAttr is the attributes of ctl: anyone reads and writes it, and what
// each sees is their own.
func ctlAttr() fuse.Attr {
	return fuse.Attr{Ino: inoCtl, Mode: syscall.S_IFREG | 0o666, Nlink: 1, Blksize: 4096}
}

// ctlFile is DIR/ctl: a read shows the reader's context, a write of
// "select N" or "home N" sets it for the writing process.
type ctlFile struct {
	fs.Inode
	m *Mount
}

var (
	_ fs.NodeOpener    = (*ctlFile)(nil)
	_ fs.NodeGetattrer = (*ctlFile)(nil)
	_ fs.NodeSetattrer = (*ctlFile)(nil)
)

// Getattr implements fs.NodeGetattrer.
func (f *ctlFile) Getattr(ctx gocontext.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Attr = ctlAttr()
	return 0
}

// Setattr implements fs.NodeSetattrer: a truncate (echo > ctl) is
// accepted and does nothing.
func (f *ctlFile) Setattr(ctx gocontext.Context, _ fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	out.Attr = ctlAttr()
	return 0
}

// Open implements fs.NodeOpener: the text is made at open, for the
// opening process.
func (f *ctlFile) Open(ctx gocontext.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	c, e := f.m.callerOf(ctx)
	if e != 0 {
		return nil, 0, e
	}
	pid := tgid(c.pid)
	cx, from := f.m.ctxs.resolve(pid)
	h := &ctlHandle{m: f.m, pid: pid}
	home, sel := cx.home, cx.selected
	here := f.m.ns.Here()
	if home == 0 {
		home = here
	}
	if sel == 0 {
		sel = home
	}
	src := "default"
	if from != 0 {
		src = "pid " + strconv.Itoa(from)
		if from == pid {
			src = "own"
		}
	}
	h.text = []byte(fmt.Sprintf("here %d home %d selected %d from %s\n", here, home, sel, src))
	return h, fuse.FOPEN_DIRECT_IO, 0
}

// ctlHandle is one open of ctl.
type ctlHandle struct {
	m    *Mount
	pid  int
	text []byte
}

var (
	_ fs.FileReader = (*ctlHandle)(nil)
	_ fs.FileWriter = (*ctlHandle)(nil)
)

// Read implements fs.FileReader.
func (h *ctlHandle) Read(ctx gocontext.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(h.text)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(h.text)))
	return fuse.ReadResultData(h.text[off:end]), 0
}

// Write implements fs.FileWriter: one command per line, for the writing
// process (not the opener: a file descriptor passed on does not carry
// its opener's choice).
func (h *ctlHandle) Write(ctx gocontext.Context, data []byte, off int64) (uint32, syscall.Errno) {
	c, e := h.m.callerOf(ctx)
	if e != 0 {
		return 0, e
	}
	pid := tgid(c.pid)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		err := h.m.ctxs.write(pid, line, func(n int) error {
			_, err := h.m.ns.AttachWith(srv9p.Attach{Name: "selected=" + strconv.Itoa(n), UID: p9.UID(c.uid)})
			return err
		})
		if err != nil {
			h.m.log.Debug("mount: ctl", slog.Int("pid", pid), slog.String("cmd", line), slog.Any("err", err))
			return 0, errnoOf(err)
		}
	}
	return uint32(len(data)), 0
}

// nodesFile is DIR/nodes: the node table, marked for the reader's
// context.
type nodesFile struct {
	fs.Inode
	m *Mount
}

var _ fs.NodeOpener = (*nodesFile)(nil)

// Getattr implements fs.NodeGetattrer.
func (f *nodesFile) Getattr(ctx gocontext.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Attr = ctlAttr()
	out.Ino, out.Mode = inoNodes, syscall.S_IFREG|0o444
	return 0
}

// Open implements fs.NodeOpener: the table is read at open.
func (f *nodesFile) Open(ctx gocontext.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	h := &ctlHandle{m: f.m}
	e := f.m.do(ctx, func(c *caller) error {
		rf, err := (&root{m: f.m}).ctxRoot(c)
		if err != nil {
			return err
		}
		_, nf, err := rf.Walk([]string{nameNodes})
		if err != nil {
			return err
		}
		defer nf.Close()
		if _, _, err := nf.Open(p9.ReadOnly); err != nil {
			return err
		}
		buf := make([]byte, 64<<10)
		for {
			n, err := nf.ReadAt(buf, int64(len(h.text)))
			h.text = append(h.text, buf[:n]...)
			if n == 0 || err != nil {
				return nil
			}
		}
	})
	return h, fuse.FOPEN_DIRECT_IO, e
}
