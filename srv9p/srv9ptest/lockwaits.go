package srv9ptest

import (
	"context"
	"sync/atomic"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p"
)

// LockWaits wraps a so that the blocking locks waiting in its files'
// LockWait can be counted: waiting returns how many wait now. The
// wrapped files keep a's Inline, LockWaiter and GetLocker; they are not
// a's own types (a rename or link between them may be refused).
func LockWaits(a p9.Attacher) (wrapped p9.Attacher, waiting func() int) {
	n := new(atomic.Int32)
	return waitAttacher{a, n}, func() int { return int(n.Load()) }
}

type waitAttacher struct {
	p9.Attacher
	n *atomic.Int32
}

// Attach implements p9.Attacher.Attach.
func (a waitAttacher) Attach() (p9.File, error) {
	f, err := a.Attacher.Attach()
	if err != nil {
		return nil, err
	}
	return &waitFile{f, a.n}, nil
}

// waitFile is a file whose LockWait calls are counted.
type waitFile struct {
	p9.File
	n *atomic.Int32
}

var (
	_ srv9p.Inline     = (*waitFile)(nil)
	_ srv9p.LockWaiter = (*waitFile)(nil)
	_ srv9p.GetLocker  = (*waitFile)(nil)
)

// Walk implements p9.File.Walk.
func (f *waitFile) Walk(names []string) ([]p9.QID, p9.File, error) {
	qids, nf, err := f.File.Walk(names)
	if err != nil {
		return qids, nil, err
	}
	return qids, &waitFile{nf, f.n}, nil
}

// WalkGetAttr implements p9.File.WalkGetAttr.
func (f *waitFile) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	qids, nf, valid, attr, err := f.File.WalkGetAttr(names)
	if err != nil {
		return qids, nil, valid, attr, err
	}
	return qids, &waitFile{nf, f.n}, valid, attr, nil
}

// Inline implements srv9p.Inline as the wrapped file does.
func (f *waitFile) Inline() bool {
	in, ok := f.File.(srv9p.Inline)
	return ok && in.Inline()
}

// LockWait implements srv9p.LockWaiter, counting the call while it runs.
func (f *waitFile) LockWait(ctx context.Context, pid int, typ p9.LockType, flags p9.LockFlags, start, length uint64, client string) (p9.LockStatus, error) {
	f.n.Add(1)
	defer f.n.Add(-1)
	if w, ok := f.File.(srv9p.LockWaiter); ok {
		return w.LockWait(ctx, pid, typ, flags, start, length, client)
	}
	return f.File.Lock(pid, typ, flags, start, length, client)
}

// GetLock implements srv9p.GetLocker as the wrapped file does (ENOSYS
// without it).
func (f *waitFile) GetLock(want srv9p.LockInfo) (srv9p.LockInfo, error) {
	if g, ok := f.File.(srv9p.GetLocker); ok {
		return g.GetLock(want)
	}
	return srv9p.LockInfo{}, linux.ENOSYS
}
