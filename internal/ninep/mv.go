package ninep

import (
	"io"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
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

// renameOver is mv's rename onto an existing newp in 9P2000 and 9P2000.u,
// whose Twstat does not replace a file as rename(2) does: newp is removed
// first (a file a file replaces, an empty directory a directory), then the
// rename goes again. Unlike rename(2), there is a moment without newp.
func (s *session) renameOver(odir p9.File, oname string, ndir p9.File, nname, oldp, newp string) error {
	f, _, oattr, err := s.walkAttr(oldp)
	if err != nil {
		return err
	}
	f.Close()
	f, _, nattr, err := s.walkAttr(newp)
	if err != nil {
		return err
	}
	f.Close()
	switch {
	case nattr.Mode.IsDir() && !oattr.Mode.IsDir():
		return linux.EISDIR
	case !nattr.Mode.IsDir() && oattr.Mode.IsDir():
		return linux.ENOTDIR
	}
	if err := s.unlink(newp, nattr.Mode.IsDir()); err != nil {
		return err
	}
	return odir.RenameAt(oname, ndir, nname)
}
