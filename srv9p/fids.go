package srv9p

import (
	"sync"
	"sync/atomic"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/cred"
)

// fid is the server's state of one client fid. The File is closed when the
// fid has been clunked (or replaced) and the last request using it is
// done: refs counts the table's reference plus one per request in flight.
//
// Concurrency: file, qid and uid never change once the fid is in the
// table; mu guards the open state and the xattr state, which a Tlopen or
// Txattrcreate sets while other requests may read them.
type fid struct {
	refs atomic.Int32
	file p9.File // nil for an xattr fid made by Txattrwalk
	qid  p9.QID
	// uid is the user of the attach the fid was walked from, and cred
	// its credentials: every request on the fid runs as that user, and
	// what is made through it belongs to that uid.
	uid  p9.UID
	cred *cred.Cred
	// root is the attach fid this fid was walked from, for 9P2000 and
	// 9P2000.u, whose ".." and Tremove need a way back from the top (nil
	// for the attach fid itself and in 9P2000.L). The fid holds one
	// reference of it.
	root *fid
	// acct is the user the fid counts for, and fds the descriptors it
	// holds (limits.go); both are given back with the last reference.
	acct *userUse
	fds  int32
	// xconn is the connection whose share the xattr value holds, xmem
	// bytes (holdXattr), given back with the last reference.
	xconn *conn
	xmem  int64

	mu     sync.Mutex
	opened bool
	flags  p9.OpenFlags
	xattr  *xattrState
	// 9P2000 and 9P2000.u: the names from the attach root (a Twstat
	// rename changes the last), whether the file goes at its clunk
	// (ORCLOSE), and the reading of an open directory.
	path   []string
	rclose bool
	dirs   *dirReader
}

// xattrState is an xattr fid: the value (or name list) a Txattrwalk read,
// or the value a Txattrcreate collects until the clunk sets it.
type xattrState struct {
	create bool   // made by Txattrcreate
	name   string // attribute to set
	flags  p9.XattrFlags
	size   uint64 // the size announced by Txattrcreate
	data   []byte // read: the whole value; create: what was written
}

// isDir reports whether the fid is a directory.
func (f *fid) isDir() bool { return f.qid.Type&p9.TypeDir != 0 }

// state returns the open state.
func (f *fid) state() (opened bool, flags p9.OpenFlags, x *xattrState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened, f.flags, f.xattr
}

// release drops one reference; the last one closes the file.
func (f *fid) release() {
	if f.refs.Add(-1) != 0 {
		return
	}
	if f.file != nil {
		f.file.Close()
	}
	f.uncharge()
	f.dropXattr()
	if f.root != nil {
		f.root.release()
	}
}

// tree returns the attach fid f was walked from (f itself for an attach
// fid).
func (f *fid) tree() *fid {
	if f.root != nil {
		return f.root
	}
	return f
}

// names returns the fid's path from its attach root.
func (f *fid) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.path
}

// fidTable maps fid numbers to fids for one connection.
type fidTable struct {
	mu   sync.Mutex
	fids map[uint32]*fid
}

// get returns the fid with a reference the caller must release, or nil.
func (t *fidTable) get(n uint32) *fid {
	t.mu.Lock()
	f := t.fids[n]
	if f != nil {
		f.refs.Add(1)
	}
	t.mu.Unlock()
	return f
}

// has reports whether fid n is in use.
func (t *fidTable) has(n uint32) bool {
	t.mu.Lock()
	_, ok := t.fids[n]
	t.mu.Unlock()
	return ok
}

// add puts f in the table as n unless n is in use; it reports success.
// The table takes one reference of f.
func (t *fidTable) add(n uint32, f *fid) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.fids[n]; ok {
		return false
	}
	f.refs.Add(1)
	t.fids[n] = f
	return true
}

// replace puts f in the table as n in place of whatever was there, whose
// table reference is dropped.
func (t *fidTable) replace(n uint32, f *fid) {
	f.refs.Add(1)
	t.mu.Lock()
	old := t.fids[n]
	t.fids[n] = f
	t.mu.Unlock()
	if old != nil {
		old.release()
	}
}

// remove takes fid n out of the table and returns it with the table's
// reference, which the caller must release; nil if n is not in use.
func (t *fidTable) remove(n uint32) *fid {
	t.mu.Lock()
	f := t.fids[n]
	delete(t.fids, n)
	t.mu.Unlock()
	return f
}

// count returns the number of fids in use.
func (t *fidTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.fids)
}

// clear removes every fid (Tversion, end of connection).
func (t *fidTable) clear() {
	t.mu.Lock()
	old := t.fids
	t.fids = make(map[uint32]*fid)
	t.mu.Unlock()
	for _, f := range old {
		f.release()
	}
}

// each calls fn for every fid in the table, outside the table's lock.
func (t *fidTable) each(fn func(*fid)) {
	t.mu.Lock()
	all := make([]*fid, 0, len(t.fids))
	for _, f := range t.fids {
		f.refs.Add(1)
		all = append(all, f)
	}
	t.mu.Unlock()
	for _, f := range all {
		fn(f)
		f.release()
	}
}
