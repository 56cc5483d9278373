package mount

import (
	"sync"

	"github.com/hugelgupf/p9/p9"
)

// fidKey names a walked file of the namespace for one user: the inode
// (its QID path) and the uid it was walked as. Remote files are attached
// on the peer as their user, so one user's fid is never another's.
type fidKey struct {
	ino uint64
	uid uint32
}

// fidRef is a walked (never opened) namespace file that operations on
// its inode use, counted so that one dropped from the cache is closed
// only when the last operation using it is done.
type fidRef struct {
	f       p9.File
	refs    int
	dropped bool
}

// fids caches walked files by inode and user, so an operation on an
// inode the kernel knows need not walk from the root again. An entry
// lives until the kernel forgets the inode (forget), a newer walk to the
// same inode replaces it, or the cache is full (then new walks are used
// once and closed).
//
// Concurrency: mu guards everything; files are closed outside it.
type fids struct {
	mu    sync.Mutex
	max   int
	m     map[fidKey]*fidRef
	byIno map[uint64][]uint32
}

func newFids(max int) *fids {
	return &fids{max: max, m: map[fidKey]*fidRef{}, byIno: map[uint64][]uint32{}}
}

// get returns the cached file of k, held, or nil.
func (c *fids) get(k fidKey) *fidRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[k]
	if r != nil {
		r.refs++
	}
	return r
}

// put caches f for k (replacing an older one) and returns it held. A
// full cache does not keep it: it is closed at its release.
func (c *fids) put(k fidKey, f p9.File) *fidRef {
	r := &fidRef{f: f, refs: 1}
	var old *fidRef
	c.mu.Lock()
	if prev, ok := c.m[k]; ok {
		old = c.dropLocked(k, prev)
		c.m[k] = r
		c.byIno[k.ino] = append(c.byIno[k.ino], k.uid)
	} else if len(c.m) < c.max {
		c.m[k] = r
		c.byIno[k.ino] = append(c.byIno[k.ino], k.uid)
	} else {
		r.dropped = true
	}
	c.mu.Unlock()
	if old != nil {
		old.f.Close()
	}
	return r
}

// release lets go of r, closing it if it was dropped and unused.
func (c *fids) release(r *fidRef) {
	c.mu.Lock()
	r.refs--
	done := r.dropped && r.refs == 0
	c.mu.Unlock()
	if done {
		r.f.Close()
	}
}

// forget drops every user's file of ino.
func (c *fids) forget(ino uint64) {
	var closing []*fidRef
	c.mu.Lock()
	for _, uid := range append([]uint32(nil), c.byIno[ino]...) {
		k := fidKey{ino, uid}
		if r, ok := c.m[k]; ok {
			if x := c.dropLocked(k, r); x != nil {
				closing = append(closing, x)
			}
		}
	}
	delete(c.byIno, ino)
	c.mu.Unlock()
	for _, r := range closing {
		r.f.Close()
	}
}

// dropLocked removes r from the cache and returns it if it is to be
// closed now (nobody holds it).
func (c *fids) dropLocked(k fidKey, r *fidRef) *fidRef {
	delete(c.m, k)
	uids := c.byIno[k.ino]
	for i, u := range uids {
		if u == k.uid {
			uids = append(uids[:i], uids[i+1:]...)
			break
		}
	}
	if len(uids) == 0 {
		delete(c.byIno, k.ino)
	} else {
		c.byIno[k.ino] = uids
	}
	r.dropped = true
	if r.refs == 0 {
		return r
	}
	return nil
}

// closeAll drops every file (unmount).
func (c *fids) closeAll() {
	c.mu.Lock()
	var inos []uint64
	for ino := range c.byIno {
		inos = append(inos, ino)
	}
	c.mu.Unlock()
	for _, ino := range inos {
		c.forget(ino)
	}
}
