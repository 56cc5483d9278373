package export

import (
	"bytes"
	"encoding/binary"
	"sync"
	"unsafe"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// snapshot is the listing of an open directory, taken when it is read from
// offset 0 (or first read at all) and served from for every later offset.
// Entry i carries offset i+1, the offset to continue after it. Entries are
// never changed once taken, so slices of them are handed out without
// copying.
type snapshot struct {
	mu   sync.Mutex // guards ents
	ents []p9.Dirent
}

func (s *snapshot) drop() {
	s.mu.Lock()
	s.ents = nil
	s.mu.Unlock()
}

// getdentsBuf holds getdents64 buffers between snapshots.
var getdentsBuf = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// Readdir implements p9.File.Readdir: at most count entries from offset
// on, as p9.File documents (the server fits them into Treaddir's byte
// budget).
func (d *dir) Readdir(offset uint64, count uint32) (p9.Dirents, error) {
	if d.ofd < 0 {
		return nil, linux.EBADF
	}
	d.snap.mu.Lock()
	defer d.snap.mu.Unlock()
	if offset == 0 || d.snap.ents == nil {
		ents, err := d.list()
		if err != nil {
			return nil, err
		}
		d.snap.ents = ents
	}
	ents := d.snap.ents
	if offset >= uint64(len(ents)) {
		return nil, nil
	}
	ents = ents[offset:]
	return ents[:min(uint64(len(ents)), uint64(count))], nil
}

// arenaChunk is the size of the blocks entry names are copied into.
const arenaChunk = 64 << 10

// list reads the whole directory with getdents64: types and inode numbers
// come from the records, no entry is stat'ed (unless the file system does
// not report a type). "." and ".." get the QIDs of the directory and its
// parent (the root's ".." is the root).
//
// Names are copied into arena chunks and the entries' strings point into
// them (unsafe.String): a chunk is only ever appended to and a full one is
// replaced by a fresh one, never grown, so the bytes under a string are
// never written again. That saves one allocation per entry.
func (d *dir) list() ([]p9.Dirent, error) {
	if _, err := unix.Seek(d.ofd, 0, 0); err != nil {
		return nil, errno(err)
	}
	bp := getdentsBuf.Get().(*[]byte)
	defer getdentsBuf.Put(bp)
	buf := *bp
	// The directory's own statx gives "." and a size hint: directory
	// sizes grow with their entries (ext4: 4 KiB blocks holding dozens of
	// entries; tmpfs: 20 bytes an entry).
	var self unix.Statx_t
	if err := statx(d.fd, &self); err != nil {
		return nil, errno(err)
	}
	ents := make([]p9.Dirent, 0, min(max(self.Size/16, 16), 1<<20))
	var arena []byte
	base, fast := d.e.qids.base(d.key.dev)
	for {
		n, err := ignoringEINTRN(func() (int, error) { return unix.Getdents(d.ofd, buf) })
		if err != nil {
			return nil, errno(err)
		}
		if n == 0 {
			break
		}
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return nil, linux.EIO
			}
			ino, typ, name := binary.NativeEndian.Uint64(b[0:8]), b[18], b[19:reclen]
			b = b[reclen:]
			if k := bytes.IndexByte(name, 0); k >= 0 {
				name = name[:k]
			}
			if len(name) == 0 || len(d.e.exclude) > 0 && d.e.exclude[d.key][string(name)] {
				continue
			}
			if cap(arena)-len(arena) < len(name) {
				arena = make([]byte, 0, max(arenaChunk, len(name)))
			}
			at := len(arena)
			arena = append(arena, name...)
			e := p9.Dirent{Offset: uint64(len(ents) + 1), Name: unsafe.String(&arena[at], len(name))}
			switch e.Name {
			case ".":
				e.QID, e.Type = d.e.qidOf(&self), unix.DT_DIR
			case "..":
				if d.key == d.e.rootKey {
					e.QID, e.Type = d.e.qidOf(&self), unix.DT_DIR
				} else {
					err = d.dotQID(&e, d.ofd, "..")
				}
			default:
				if typ == unix.DT_UNKNOWN {
					var stx unix.Statx_t
					if err := unix.Statx(d.ofd, e.Name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, &stx); err == nil {
						typ = dtype(uint32(stx.Mode))
					}
				}
				e.Type = p9.QIDType(typ)
				e.QID.Type = dtQIDType(typ)
				if fast && ino < 1<<inoBits {
					e.QID.Path = base | ino
				} else {
					e.QID.Path = d.e.qids.path(d.key.dev, ino)
				}
			}
			if err != nil {
				return nil, err
			}
			ents = append(ents, e)
		}
	}
	return ents, nil
}

// dotQID fills the QID and type of "." or ".." from a statx of name below
// fd ("" for fd itself).
func (d *dir) dotQID(e *p9.Dirent, fd int, name string) error {
	var stx unix.Statx_t
	var err error
	if name == "" {
		err = statx(fd, &stx)
	} else {
		err = unix.Statx(fd, name, unix.AT_SYMLINK_NOFOLLOW, statxMask, &stx)
	}
	if err != nil {
		return errno(err)
	}
	e.QID = d.e.qidOf(&stx)
	e.Type = p9.QIDType(dtype(uint32(stx.Mode)))
	return nil
}

// dtype returns the DT_* type of a Linux file mode.
func dtype(mode uint32) uint8 { return uint8((mode & unix.S_IFMT) >> 12) }

// dtQIDType returns the QID type of a DT_* type.
func dtQIDType(t uint8) p9.QIDType {
	switch t {
	case unix.DT_DIR:
		return p9.TypeDir
	case unix.DT_LNK:
		return p9.TypeSymlink
	}
	return p9.TypeRegular
}
