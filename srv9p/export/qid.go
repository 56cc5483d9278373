package export

import (
	"sync"
	"sync/atomic"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// QID paths: the inode number in the low inoBits bits and a per-device index
// above it; inodes too large for that, or devices past the index space, get a
// number from a table, marked by the top bit.
const (
	inoBits  = 48
	maxDevs  = 1 << (63 - inoBits) // indexes below the table bit
	tableBit = 1 << 63
)

// qidMap maps host (device, inode) pairs to QID paths. The device index
// table is copied on write so the common lookup takes no lock; mu guards
// writers and the fallback table.
type qidMap struct {
	devs atomic.Pointer[map[uint64]uint64]

	mu    sync.Mutex
	table map[devIno]uint64
	next  uint64
}

// init gives the root's device index 0.
func (m *qidMap) init(rootDev uint64) {
	d := map[uint64]uint64{rootDev: 0}
	m.devs.Store(&d)
}

// path returns the QID path of (dev, ino).
func (m *qidMap) path(dev, ino uint64) uint64 {
	idx, ok := (*m.devs.Load())[dev]
	if !ok {
		idx = m.addDev(dev)
	}
	if idx < maxDevs && ino < 1<<inoBits {
		return idx<<inoBits | ino
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := devIno{dev, ino}
	if p, ok := m.table[k]; ok {
		return p
	}
	if m.table == nil {
		m.table = make(map[devIno]uint64)
	}
	m.next++
	p := tableBit | m.next
	m.table[k] = p
	return p
}

// base returns the high bits of the QID paths of device dev, for callers
// that map many inodes of one device; ok is false when dev's paths come from
// the table.
func (m *qidMap) base(dev uint64) (uint64, bool) {
	idx, ok := (*m.devs.Load())[dev]
	if !ok {
		idx = m.addDev(dev)
	}
	return idx << inoBits, idx < maxDevs
}

// addDev assigns the next index to dev.
func (m *qidMap) addDev(dev uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.devs.Load()
	if idx, ok := old[dev]; ok {
		return idx
	}
	d := make(map[uint64]uint64, len(old)+1)
	for k, v := range old {
		d[k] = v
	}
	idx := uint64(len(old))
	d[dev] = idx
	m.devs.Store(&d)
	return idx
}

// qidType returns the QID type of a Linux file mode.
func qidType(mode uint32) p9.QIDType {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return p9.TypeDir
	case unix.S_IFLNK:
		return p9.TypeSymlink
	}
	return p9.TypeRegular
}

// qidOf returns the QID of a file from its statx: the version folds the
// modification time in nanoseconds into 32 bits, so it changes whenever the
// file is written.
func (e *export) qidOf(stx *unix.Statx_t) p9.QID {
	ns := uint64(stx.Mtime.Sec)*1e9 + uint64(stx.Mtime.Nsec)
	return p9.QID{
		Type:    qidType(uint32(stx.Mode)),
		Version: uint32(ns) ^ uint32(ns>>32),
		Path:    e.qids.path(unix.Mkdev(stx.Dev_major, stx.Dev_minor), stx.Ino),
	}
}
