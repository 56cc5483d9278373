package main

import (
	"io"

	"github.com/hugelgupf/p9/linux"
)

// moveAcross moves oldp to newp on another node as mv(1) moves across file
// systems: it copies the tree keeping everything cp -rp keeps, then removes
// the source, and only if every part was copied. As with a rename, newp may
// be a file a file replaces or an empty directory a directory replaces.
func (s *session) moveAcross(oldp, newp string, errw io.Writer) error {
	c := newCopier(s, "mv", "", true, true, errw)
	n := c.remote
	a, err := n.lstat(oldp)
	if err != nil {
		return err
	}
	if t, err := n.lstat(newp); err == nil {
		switch {
		case t.sameFile(a):
			return errCpSameFile // copying would truncate it, removing would lose it
		case t.isDir() && !a.isDir():
			return linux.EISDIR
		case !t.isDir() && a.isDir():
			return linux.ENOTDIR
		case t.isDir():
			ents, err := n.list(newp)
			if err != nil {
				return err
			}
			if len(ents) > 0 {
				return linux.ENOTEMPTY
			}
		}
	}
	c.plan(n, oldp, n, newp, a, -1)
	c.run()
	if err := c.report.err(); err != nil {
		return err
	}
	for i := len(c.items) - 1; i >= 0; i-- {
		it := &c.items[i]
		if err := n.remove(it.src, it.attr.isDir()); err != nil {
			c.report.add(opErr("mv", err, it.src))
		}
	}
	return c.report.err()
}
