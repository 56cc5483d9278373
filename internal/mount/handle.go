package mount

import (
	gocontext "context"
	"errors"
	"io"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"

	"mfs/srv9p"
)

// handle is an open file: a namespace file of its own, opened as the
// opener. Reads and writes run on it as the opener did (the kernel
// checked the file descriptor; writeback of mmap'ed pages comes from
// other processes).
type handle struct {
	m    *Mount
	f    p9.File
	uid  uint32 // the opener, counted in m.opens
	ino  uint64
	mode p9.OpenFlags // the access mode it was opened with

	flockMu sync.Mutex
	// flockPid is the process holding a flock lock through the handle,
	// 0 if none (see flushFlock).
	flockPid int
}

var (
	_ fs.FileReader   = (*handle)(nil)
	_ fs.FileWriter   = (*handle)(nil)
	_ fs.FileReleaser = (*handle)(nil)
	_ fs.FileFsyncer  = (*handle)(nil)
	_ fs.FileFlusher  = (*handle)(nil)
	_ fs.FileGetlker  = (*handle)(nil)
	_ fs.FileSetlker  = (*handle)(nil)
	_ fs.FileSetlkwer = (*handle)(nil)
)

// Read implements fs.FileReader.
func (h *handle) Read(ctx gocontext.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.f.ReadAt(dest, off)
	if n == 0 && err != nil && !errors.Is(err, io.EOF) {
		return nil, errnoOf(err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// Write implements fs.FileWriter.
func (h *handle) Write(ctx gocontext.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := h.f.WriteAt(data, off)
	if err != nil && n == 0 {
		return 0, errnoOf(err)
	}
	return uint32(n), 0
}

// Release implements fs.FileReleaser.
func (h *handle) Release(ctx gocontext.Context) syscall.Errno {
	h.m.opens.give(h.uid)
	return errnoOf(h.f.Close())
}

// Flush implements fs.FileFlusher: 9P has nothing to flush at close
// (writes are synchronous); locks go with the handle at release.
func (h *handle) Flush(ctx gocontext.Context) syscall.Errno { return 0 }

// Fsync implements fs.FileFsyncer.
func (h *handle) Fsync(ctx gocontext.Context, flags uint32) syscall.Errno {
	return errnoOf(h.f.FSync())
}

// dirHandle is an open directory, read in batches.
type dirHandle struct {
	n   *node
	f   p9.File
	uid uint32 // the opener, counted in n.m.opens

	mu   sync.Mutex
	off  uint64 // 9P offset of the next batch
	buf  p9.Dirents
	last map[string]srv9p.EntryStat
}

var (
	_ fs.FileReaddirenter = (*dirHandle)(nil)
	_ fs.FileSeekdirer    = (*dirHandle)(nil)
	_ fs.FileReleasedirer = (*dirHandle)(nil)
	_ fs.FileLookuper     = (*dirHandle)(nil)
	_ fs.FileFsyncdirer   = (*dirHandle)(nil)
)

// dirBatch is how many entries one Readdir asks for.
const dirBatch = 256

// Readdirent implements fs.FileReaddirenter.
func (d *dirHandle) Readdirent(ctx gocontext.Context) (*fuse.DirEntry, syscall.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.buf) == 0 {
		var ents p9.Dirents
		e := d.n.m.do(ctx, func(*caller) (err error) {
			ents, err = d.f.Readdir(d.off, dirBatch)
			return err
		})
		if e != 0 {
			return nil, e
		}
		if len(ents) == 0 {
			return nil, 0
		}
		d.buf, d.last = ents, nil
	}
	de := d.buf[0]
	d.buf = d.buf[1:]
	d.off = de.Offset
	return &fuse.DirEntry{Name: de.Name, Ino: de.QID.Path, Mode: direntMode(de.Type), Off: de.Offset}, 0
}

// direntMode converts a dirent type (a QID type, or a d_type) to a mode.
func direntMode(t p9.QIDType) uint32 {
	switch {
	case t&p9.TypeDir != 0:
		return syscall.S_IFDIR
	case t&p9.TypeSymlink != 0:
		return syscall.S_IFLNK
	}
	return syscall.S_IFREG
}

// Seekdir implements fs.FileSeekdirer.
func (d *dirHandle) Seekdir(ctx gocontext.Context, off uint64) syscall.Errno {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.off, d.buf, d.last = off, nil, nil
	return 0
}

// Lookup implements fs.FileLookuper for READDIRPLUS: the attributes of
// the batch being listed come in one call where the directory can give
// them (srv9p.EntryStater), else from a walk.
func (d *dirHandle) Lookup(ctx gocontext.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if name == "." || name == ".." {
		return nil, syscall.ENOENT
	}
	es, ok := d.f.(srv9p.EntryStater)
	if !ok {
		return d.n.Lookup(ctx, name, out)
	}
	d.mu.Lock()
	if d.last == nil {
		var names []string
		names = append(names, name)
		for _, de := range d.buf {
			if de.Name != "." && de.Name != ".." {
				names = append(names, de.Name)
			}
		}
		var stats []srv9p.EntryStat
		d.n.m.do(ctx, func(*caller) error { stats = es.StatEntries(names); return nil })
		d.last = make(map[string]srv9p.EntryStat, len(names))
		for i, s := range stats {
			d.last[names[i]] = s
		}
	}
	st, ok := d.last[name]
	d.mu.Unlock()
	if !ok || st.Err != nil {
		return d.n.Lookup(ctx, name, out)
	}
	fillAttr(st.QID, st.Attr, &out.Attr)
	return d.n.NewInode(ctx, &node{m: d.n.m, owner: d.n.owner}, fs.StableAttr{Mode: uint32(st.Attr.Mode) & syscall.S_IFMT, Ino: st.QID.Path}), 0
}

// Fsyncdir implements fs.FileFsyncdirer.
func (d *dirHandle) Fsyncdir(ctx gocontext.Context, flags uint32) syscall.Errno {
	return errnoOf(d.f.FSync())
}

// Releasedir implements fs.FileReleasedirer.
func (d *dirHandle) Releasedir(ctx gocontext.Context, releaseFlags uint32) {
	d.n.m.opens.give(d.uid)
	d.f.Close()
}

// access checks mask (R_OK 4, W_OK 2, X_OK 1) against a's mode bits for
// c, as the kernel's generic permission check does.
func access(c *caller, a p9.Attr, mask uint32) error {
	mask &= 7
	if mask == 0 {
		return nil
	}
	mode := uint32(a.Mode)
	if c.uid == 0 {
		if mask&1 != 0 && mode&syscall.S_IFMT != syscall.S_IFDIR && mode&0o111 == 0 {
			return syscall.EACCES
		}
		return nil
	}
	var bits uint32
	switch {
	case uint32(a.UID) == c.uid:
		bits = mode >> 6
	case uint32(a.GID) == c.gid || (c.cred != nil && inGroups(c.cred.Groups, uint32(a.GID))):
		bits = mode >> 3
	default:
		bits = mode
	}
	if bits&mask != mask {
		return syscall.EACCES
	}
	return nil
}

func inGroups(gs []int, g uint32) bool {
	for _, x := range gs {
		if uint32(x) == g {
			return true
		}
	}
	return false
}

func unixMajor(dev uint32) uint32 { return unix.Major(uint64(dev)) }
func unixMinor(dev uint32) uint32 { return unix.Minor(uint64(dev)) }
