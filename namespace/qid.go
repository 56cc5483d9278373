package namespace

import (
	"sync"

	"github.com/hugelgupf/p9/p9"
)

// QID paths (the kernel's inode numbers) in the union:
//
//	node<<48 | path                      path < 2^47 (the usual case)
//	node<<48 | 1<<47 | n                 any other path: n from a table
//	0<<48 | small constant               root, nodes, ctl, and /N dirs
//
// The node's own qid.path is kept when it fits in 47 bits (srv9p gives
// the inode number there for files on the export root's device), so two
// nodes never share a path and the mapping costs nothing on the common
// path. Larger paths (srv9p puts a device index or a table bit above bit
// 48) are numbered in a per-namespace table, as QEMU's multidevs=remap
// does; the table only grows.
//
// The context directories are entry points to the same files as /N:
// /home/x and /2/x have one QID when home is 2, like a bind mount. /N and
// a context directory naming N share the fixed QID of node N's directory
// (qidNode0+N), so the root is listed without reaching any peer, and no
// directory is ever its own ancestor: find, ls -R and pwd terminate. In
// 9P2000.L ".." is resolved by the kernel (srv9p rejects it as a walk
// name) and leads to the root; in 9P2000 and 9P2000.u srv9p walks it
// within the attach, so /2/.. is the root too.
const (
	nodeBits  = 16
	nodeShift = 64 - nodeBits
	directMax = 1 << (nodeShift - 1)
	remapBit  = 1 << (nodeShift - 1)

	qidRoot  = 1
	qidNodes = 2
	qidCtl   = 3
	qidNode0 = 1 << 32 // + N: the directory /N (and home/here/selected when they are N)
)

// qidTable numbers the paths that do not fit directly.
type qidTable struct {
	mu   sync.Mutex
	m    map[qidKey]uint64
	next map[int]uint64
}

type qidKey struct {
	node int
	path uint64
}

// mapQID moves a node's own QID into the union's QID space.
func (ns *Namespace) mapQID(node int, q p9.QID) p9.QID {
	if q.Path < directMax {
		q.Path |= uint64(node) << nodeShift
		return q
	}
	t := &ns.qids
	t.mu.Lock()
	k := qidKey{node, q.Path}
	n, ok := t.m[k]
	if !ok {
		if t.m == nil {
			t.m = map[qidKey]uint64{}
			t.next = map[int]uint64{}
		}
		t.next[node]++
		n = t.next[node]
		t.m[k] = n
	}
	t.mu.Unlock()
	q.Path = uint64(node)<<nodeShift | remapBit | n&(remapBit-1)
	return q
}

// mapQIDs maps in place and returns qs.
func (ns *Namespace) mapQIDs(node int, qs []p9.QID) []p9.QID {
	for i := range qs {
		qs[i] = ns.mapQID(node, qs[i])
	}
	return qs
}

// fixDirents maps the QIDs of directory entries of node id in place.
func (ns *Namespace) fixDirents(node int, ds p9.Dirents) p9.Dirents {
	for i := range ds {
		ds[i].QID = ns.mapQID(node, ds[i].QID)
	}
	return ds
}

// nodeDirQID is the QID of /N and of a context directory naming node N:
// one fixed, reserved QID per node, so the root can be listed and stat-ed
// without reaching any peer, and no node directory is its own ancestor.
func nodeDirQID(node int) p9.QID {
	return p9.QID{Type: p9.TypeDir, Path: qidNode0 + uint64(node)}
}

// synthQID is the QID of a synthesized file.
func synthQID(path uint64, dir bool) p9.QID {
	if dir {
		return p9.QID{Type: p9.TypeDir, Path: path}
	}
	return p9.QID{Type: p9.TypeRegular, Path: path}
}

// NodeDir reports which node's directory q is the QID of (/N, and home,
// here or selected when they present node N).
func NodeDir(q p9.QID) (int, bool) {
	if q.Path <= qidNode0 || q.Path > qidNode0+MaxNodeID {
		return 0, false
	}
	return int(q.Path - qidNode0), true
}

// Here returns the serving node's number.
func (ns *Namespace) Here() int { return ns.here }
