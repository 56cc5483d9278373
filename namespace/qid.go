package namespace

import "github.com/hugelgupf/p9/p9"

// QID paths: the node number in the top nodeBits bits, the node's own
// qid.path in the rest. Node 0 does not exist; its space holds the
// synthesized files and the node directories.
const (
	nodeBits  = 16
	nodeShift = 64 - nodeBits
	pathMask  = 1<<nodeShift - 1

	qidRoot  = 1
	qidNodes = 2
	qidCtl   = 3
	qidNode0 = 1 << 32 // + N: the directory /N (and home/here/selected when they are N)
)

// mapQID moves a node's own QID into the union's QID space. Paths that use
// the top nodeBits bits on the node itself would collide; srv9p's do not.
func mapQID(node int, q p9.QID) p9.QID {
	q.Path = uint64(node)<<nodeShift | q.Path&pathMask
	return q
}

// mapQIDs maps in place and returns qs.
func mapQIDs(node int, qs []p9.QID) []p9.QID {
	for i := range qs {
		qs[i] = mapQID(node, qs[i])
	}
	return qs
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
