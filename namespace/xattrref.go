package namespace

import "sync/atomic"

// xattrRefs works around the p9 server (v0.4.1): Txattrwalk hands the
// xattr fid the very File of the fid it starts from, and clunking the
// xattr fid closes that File, while the original fid still uses it. The
// server calls GetXattr and ListXattrs only in that handler, and creates
// the shared fid only when they succeed; so each success counts one extra
// reference, and Close only closes for real once those are dropped.
type xattrRefs struct{ n atomic.Int32 }

// add counts a reference taken by a Txattrwalk fid.
func (x *xattrRefs) add() { x.n.Add(1) }

// drop reports whether a Close only dropped such a reference.
func (x *xattrRefs) drop() bool {
	for {
		n := x.n.Load()
		if n <= 0 {
			return false
		}
		if x.n.CompareAndSwap(n, n-1) {
			return true
		}
	}
}
