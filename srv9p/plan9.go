package srv9p

import (
	"path"
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/cred"
	"mfs/internal/fcall"
)

// 9P2000 and 9P2000.u over p9.File: walks with "..", Topen, Tcreate,
// Tremove and ORCLOSE, made from the same p9.File calls as 9P2000.L, so
// every file system the server serves (the export, the namespace) speaks
// all three dialects alike. Those dialects name files by fid alone, so a
// fid of theirs keeps its attach fid and its path from there (fids.go).
// A Twstat rename moves the paths of the connection's fids below it; a
// path another client made stale is refused (ESTALE) before it can
// rename or remove another file.

// wordError is an error with its own Rerror string; its errno is what
// 9P2000.L and 9P2000.u's errno field carry.
type wordError struct {
	errno linux.Errno
	words string
}

func (e *wordError) Error() string { return e.words }
func (e *wordError) Unwrap() error { return e.errno }

var (
	// errSpecial: in 9P2000 devices, fifos, sockets and symlinks that
	// are not followed are listed but cannot be opened.
	errSpecial = &wordError{linux.EPERM, "no access to special file"}
	// errNoForm: Plan 9's append-only and exclusive-use files.
	errNoForm = &wordError{linux.EINVAL, "append-only and exclusive-use files (DMAPPEND, DMEXCL) have no Linux form"}
	// errConvert: a Twstat mode that turns a file into a directory or back.
	errConvert = &wordError{linux.EPERM, "wstat can't convert between files and directories"}
	errRoot    = &wordError{linux.EBUSY, "cannot remove root"}
	errNoAuth  = &wordError{linux.ENOENT, "authentication not required"}
	errDirMode = &wordError{linux.EISDIR, "is a directory"}
)

// atRemoveDir is the Tunlinkat flag a 9P2000 remove of a directory
// becomes (include/net/9p/9p.h: P9_DOTL_AT_REMOVEDIR).
const atRemoveDir = 0x200

// maxHops bounds the symlinks followed in one walk element (Linux's
// MAXSYMLINKS is 40; a path of Debian's needs one or two).
const maxHops = 40

// errorMsg is the error reply of err in the connection's dialect.
func (c *conn) errorMsg(err error) fcall.Msg {
	e := errnoOf(err)
	if c.dialect != fcall.U && c.dialect != fcall.Plan9 {
		return &fcall.Rlerror{Errno: e}
	}
	if w, ok := err.(*wordError); ok {
		return &fcall.Rerror{Ename: w.words, Errno: e}
	}
	return &fcall.Rerror{Ename: fcall.ErrorString(e), Errno: e}
}

// legacy reports whether the connection speaks 9P2000 or 9P2000.u.
func (c *conn) legacy() bool { return c.dialect == fcall.U || c.dialect == fcall.Plan9 }

// child returns a fid walked from f to file nf at path: same user, same
// attach, one more reference of the attach fid.
func childOf(f *fid, nf p9.File, qid p9.QID, path []string) *fid {
	root := f.tree()
	root.refs.Add(1)
	return &fid{file: nf, qid: qid, uid: f.uid, cred: f.cred, root: root, path: path}
}

// join returns path with name appended, sharing nothing with path.
func join(path []string, names ...string) []string {
	out := make([]string, 0, len(path)+len(names))
	return append(append(out, path...), names...)
}

// walk9 is Twalk in 9P2000 and 9P2000.u: ".." names the parent within the
// attach (the attach root is its own parent, walk(5)); in 9P2000 a
// symlink is followed where it stays inside the attach. When a name past
// the first fails, the qids walked so far are the answer and newfid is
// not made.
// c.walk has checked the fids and names.
func (c *conn) walk9(f *fid, m *fcall.Twalk) (fcall.Msg, error) {
	qids, nf, path, err := c.walkNames(f, m.Names)
	if err != nil {
		c.unwalk(f)
		return nil, err
	}
	if nf == nil {
		c.unwalk(f)
		return &fcall.Rwalk{QIDs: qids}, nil
	}
	qid := f.qid
	if len(qids) > 0 {
		qid = qids[len(qids)-1]
	}
	n := childOf(f, nf, qid, path)
	if f.acct != nil {
		n.charge(f.acct, 1) // walkRoom took it
	}
	if !c.bind(m.Fid, m.NewFid, n) {
		n.release()
		return nil, linux.EBADF
	}
	return &fcall.Rwalk{QIDs: qids}, nil
}

// walkNames walks names from f. It returns the file and path reached when
// every name was walked; when only some were, their qids and a nil file;
// when the first fails, its error.
func (c *conn) walkNames(f *fid, names []string) ([]p9.QID, p9.File, []string, error) {
	base := f.names()
	fast := true
	for _, n := range names {
		fast = fast && n != ".."
	}
	if fast {
		// One Walk for all the names, as 9P2000.L: the common case, and
		// one round trip for a peer's files.
		qids, nf, err := f.file.Walk(names)
		if err == nil && len(qids) == len(names) && (c.dialect != fcall.Plan9 || !anySymlink(qids)) {
			return qids, nf, join(base, names...), nil
		}
		if err == nil {
			nf.Close()
		}
	}
	root := f.tree()
	var qids []p9.QID
	cur, path, own := f.file, base, false
	for i, name := range names {
		next, npath, qid, err := c.step(root, cur, path, name, 0)
		if own {
			cur.Close()
		}
		if err != nil {
			if i == 0 {
				return nil, nil, nil, err
			}
			return qids, nil, nil, nil
		}
		cur, path, own = next, npath, true
		qids = append(qids, qid)
	}
	if !own {
		_, nf, err := f.file.Walk(nil)
		return nil, nf, base, err
	}
	return qids, cur, path, nil
}

func anySymlink(qids []p9.QID) bool {
	for _, q := range qids {
		if q.Type&p9.TypeSymlink != 0 {
			return true
		}
	}
	return false
}

// step walks one name from cur, the file at path: ".." to the parent
// (from the attach root), another name to the entry, following it in
// 9P2000 if it is a symlink that stays inside the attach. hops counts the
// symlinks followed so far.
func (c *conn) step(root *fid, cur p9.File, path []string, name string, hops int) (p9.File, []string, p9.QID, error) {
	if name == ".." {
		up := path[:max(0, len(path)-1)]
		nf, qid, err := walkFrom(root, up)
		return nf, join(up), qid, err
	}
	qids, nf, err := cur.Walk([]string{name})
	if err != nil {
		return nil, nil, p9.QID{}, err
	}
	if len(qids) != 1 {
		nf.Close()
		return nil, nil, p9.QID{}, linux.EIO
	}
	npath := join(path, name)
	if c.dialect != fcall.Plan9 || qids[0].Type&p9.TypeSymlink == 0 {
		return nf, npath, qids[0], nil
	}
	if hops >= maxHops {
		nf.Close()
		return nil, nil, p9.QID{}, linux.ELOOP
	}
	if tf, tpath, tqid, ok := c.follow(root, nf, path, hops+1); ok {
		nf.Close()
		return tf, tpath, tqid, nil
	}
	return nf, npath, qids[0], nil
}

// walkFrom walks the attach fid root to path.
func walkFrom(root *fid, path []string) (p9.File, p9.QID, error) {
	qids, nf, err := root.file.Walk(path)
	if err != nil {
		return nil, p9.QID{}, err
	}
	if len(qids) != len(path) {
		nf.Close()
		return nil, p9.QID{}, linux.EIO
	}
	if len(qids) == 0 {
		return nf, root.qid, nil
	}
	return nf, qids[len(qids)-1], nil
}

// follow resolves the symlink link, in the directory at dir, for 9P2000,
// whose clients cannot: a relative target is walked from the link's
// directory, an absolute one from where the attach root's LinkRoot puts
// "/". It reports false for a target that leaves the attach (an absolute
// one outside its LinkRoot, one whose ".." climbs above the attach root),
// dangles, or loops; such a link is listed as itself and cannot be
// opened.
func (c *conn) follow(root *fid, link p9.File, dir []string, hops int) (p9.File, []string, p9.QID, bool) {
	target, err := link.Readlink()
	if err != nil || target == "" {
		return nil, nil, p9.QID{}, false
	}
	if strings.HasPrefix(target, "/") {
		lr, ok := root.file.(LinkRoot)
		if !ok {
			return nil, nil, p9.QID{}, false
		}
		depth, host, ok := lr.LinkRoot(dir)
		if !ok || depth > len(dir) {
			return nil, nil, p9.QID{}, false
		}
		rel, inside := below(path.Clean(target), path.Clean(host))
		if !inside {
			return nil, nil, p9.QID{}, false
		}
		dir, target = dir[:depth], rel
	}
	cur, qid, err := walkFrom(root, dir)
	if err != nil {
		return nil, nil, p9.QID{}, false
	}
	path := join(dir)
	for _, e := range strings.Split(target, "/") {
		if e == "" || e == "." {
			continue
		}
		if e == ".." && len(path) == 0 {
			cur.Close()
			return nil, nil, p9.QID{}, false
		}
		next, npath, nqid, err := c.step(root, cur, path, e, hops)
		cur.Close()
		if err != nil {
			return nil, nil, p9.QID{}, false
		}
		cur, path, qid = next, npath, nqid
	}
	if qid.Type&p9.TypeSymlink != 0 {
		// A link inside the target that could not be followed.
		cur.Close()
		return nil, nil, p9.QID{}, false
	}
	return cur, path, qid, true
}

// below returns target relative to dir if it is dir or below it (both
// clean and absolute).
func below(target, dir string) (string, bool) {
	switch {
	case dir == "/":
		return target[1:], true
	case target == dir:
		return "", true
	case strings.HasPrefix(target, dir+"/"):
		return target[len(dir)+1:], true
	}
	return "", false
}

// openFlags converts a Topen or Tcreate mode to Linux open flags.
func (c *conn) openFlags(mode uint8) p9.OpenFlags {
	var fl p9.OpenFlags
	switch mode & 3 {
	case fcall.OREAD, fcall.OEXEC:
		fl = p9.ReadOnly
	case fcall.OWRITE:
		fl = p9.WriteOnly
	case fcall.ORDWR:
		fl = p9.ReadWrite
	}
	if mode&fcall.OTRUNC != 0 {
		fl |= fcall.LTrunc
	}
	if c.dialect == fcall.U && mode&fcall.OAPPEND != 0 {
		fl |= fcall.LAppend
	}
	return fl
}

// openable refuses to open what 9P2000 and 9P2000.u cannot: anything but
// regular files and directories (a directory only for reading).
func openable(qid p9.QID, fl p9.OpenFlags) error {
	switch {
	case qid.Type&p9.TypeDir != 0:
		if fl.Mode() != p9.ReadOnly || fl&fcall.LTrunc != 0 {
			return errDirMode
		}
	case qid.Type&(p9.TypeSymlink|p9.TypeLink) != 0:
		return errSpecial
	}
	return nil
}

// open9 is Topen, with Plan 9 modes (OTRUNC, ORCLOSE; OAPPEND in .u). In
// 9P2000, whose clients cannot follow symlinks, walk9 has followed a link
// whose target stays inside the attach; other symlinks, devices, fifos
// and sockets are listed but cannot be opened ("no access to special
// file").
func (c *conn) open9(m *fcall.Topen) (fcall.Msg, error) {
	f, err := c.file(m.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	fl := c.openFlags(m.Mode)
	if err := openable(f.qid, fl); err != nil {
		return nil, err
	}
	if !f.isDir() && !isRegular(f.file) {
		// A device, fifo or socket: its qid says "file" like a regular
		// one's, and opening it must not reach the device.
		return nil, errSpecial
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opened || f.xattr != nil {
		return nil, linux.EBADF
	}
	if m.Mode&fcall.ORCLOSE != 0 && len(f.path) == 0 {
		return nil, errRoot
	}
	if err := c.fdRoom(uint32(f.uid), 1); err != nil {
		return nil, err
	}
	qid, iounit, err := f.file.Open(fl)
	if err != nil {
		return nil, err
	}
	f.opens()
	f.opened, f.flags, f.rclose = true, fl, m.Mode&fcall.ORCLOSE != 0
	return &fcall.Ropen{QID: qid, IOUnit: c.iounit(iounit)}, nil
}

// isRegular reports whether f is a regular file, asking its mode.
func isRegular(f p9.File) bool {
	_, _, a, err := f.GetAttr(p9.AttrMask{Mode: true})
	return err == nil && a.Mode.FileType() == p9.ModeRegular
}

// create9 is Tcreate: the fid, a directory, becomes the new file, open.
// DMAPPEND and DMEXCL have no Linux form and are refused; 9P2000.u makes
// symlinks, devices, pipes, sockets and hard links from the extension.
func (c *conn) create9(m *fcall.Tcreate) (fcall.Msg, error) {
	f, err := c.dir(m.Fid, m.Name)
	if err != nil {
		return nil, err
	}
	defer f.release()
	if opened, _, x := f.state(); opened || x != nil {
		return nil, linux.EBADF
	}
	if m.Perm&(fcall.DMAPPEND|fcall.DMEXCL) != 0 {
		return nil, errNoForm
	}
	perm, err := c.createPerm(f, m.Perm)
	if err != nil {
		return nil, err
	}
	fl := c.openFlags(m.Mode)
	path := join(f.names(), m.Name)
	var nf p9.File
	var qid p9.QID
	var iounit uint32
	special := m.Perm&(fcall.DMSYMLINK|fcall.DMLINK|fcall.DMDEVICE|fcall.DMNAMEDPIPE|fcall.DMSOCKET) != 0
	if err := c.fdRoom(uint32(f.uid), 2); err != nil {
		return nil, err
	}
	switch {
	case m.Perm&fcall.DMDIR != 0:
		if fl.Mode() != p9.ReadOnly || fl&fcall.LTrunc != 0 {
			return nil, errDirMode
		}
		if _, err := f.file.Mkdir(m.Name, perm, f.uid, p9.NoGID); err != nil {
			return nil, err
		}
		nf, qid, err = walkOpen(f.file, m.Name, p9.ReadOnly)
	case special && c.dialect == fcall.U:
		if err := c.makeSpecial(f, m, perm); err != nil {
			return nil, err
		}
		var qids []p9.QID
		qids, nf, err = f.file.Walk([]string{m.Name})
		if err == nil {
			qid = qids[0]
		}
	case special:
		return nil, &wordError{linux.EINVAL, "illegal mode"}
	default:
		nf, qid, iounit, err = f.file.Create(m.Name, fl, perm, f.uid, p9.NoGID)
	}
	if err != nil {
		return nil, err
	}
	n := c.replacing(f, childOf(f, nf, qid, path), 2)
	n.opened, n.flags, n.rclose = true, fl, m.Mode&fcall.ORCLOSE != 0
	c.fids.replace(m.Fid, n)
	return &fcall.Rcreate{QID: qid, IOUnit: c.iounit(iounit)}, nil
}

// walkOpen walks dir to name and opens it.
func walkOpen(dir p9.File, name string, fl p9.OpenFlags) (p9.File, p9.QID, error) {
	_, nf, err := dir.Walk([]string{name})
	if err != nil {
		return nil, p9.QID{}, err
	}
	qid, _, err := nf.Open(fl)
	if err != nil {
		nf.Close()
		return nil, p9.QID{}, err
	}
	return nf, qid, nil
}

// createPerm is the Linux mode of a Tcreate's perm. 9P2000 applies the
// rule of open(5): a new file gets at most the directory's rw bits for
// group and others (rwx for a directory), as Plan 9's servers do; 9P2000.u
// clients apply their umask themselves and get the bits they ask for,
// setuid, setgid and sticky included.
func (c *conn) createPerm(d *fid, perm uint32) (p9.FileMode, error) {
	mode := p9.FileMode(perm & 0o777)
	if c.dialect == fcall.U {
		return mode | p9.FileMode(fcall.UnixSpecial(perm)), nil
	}
	_, _, a, err := d.file.GetAttr(p9.AttrMask{Mode: true})
	if err != nil {
		return 0, err
	}
	keep := p9.FileMode(0o666)
	if perm&fcall.DMDIR != 0 {
		keep = 0o777
	}
	return mode & (^keep | a.Mode.Permissions()&keep), nil
}

// remove9 is Tremove: the fid is clunked whether or not the file can be
// removed (remove(5)).
func (c *conn) remove9(n uint32) error {
	f := c.fids.get(n)
	if f == nil {
		return linux.EBADF
	}
	defer f.release()
	if f.file == nil {
		c.clunk(n)
		return linux.EBADF
	}
	err := c.unlink(f)
	if cerr := c.clunk(n); err == nil {
		err = cerr
	}
	return err
}

// unlink removes the file of fid f by its path.
func (c *conn) unlink(f *fid) error {
	dir, name, err := c.parentOf(f)
	if err != nil {
		return err
	}
	defer dir.Close()
	var flags uint32
	if f.isDir() {
		flags = atRemoveDir
	}
	return dir.UnlinkAt(name, flags)
}

// errStale: the fid's path now names another file (or none), because
// something above it was renamed or removed outside this connection.
var errStale = &wordError{linux.ESTALE, "file has been moved or removed"}

// parentOf walks to the directory that holds fid f's file by the fid's
// path and returns it with the file's name there, after checking that the
// name still is f's file (same qid path), so that a stale path never
// removes or renames another file.
func (c *conn) parentOf(f *fid) (p9.File, string, error) {
	path := f.names()
	if len(path) == 0 {
		return nil, "", errRoot
	}
	dir, _, err := walkFrom(f.tree(), path[:len(path)-1])
	if err != nil {
		return nil, "", errStale
	}
	name := path[len(path)-1]
	qids, nf, err := dir.Walk([]string{name})
	if err == nil {
		nf.Close()
	}
	if err != nil || len(qids) != 1 || qids[0].Path != f.qid.Path {
		dir.Close()
		return nil, "", errStale
	}
	return dir, name, nil
}

// renamed moves the paths of the connection's fids at or below from (of
// the attach root f's tree stands at) to to: the fids of a directory's
// entries follow it when a Twstat renames it.
func (c *conn) renamed(f *fid, from, to []string) {
	rootPath := f.tree().qid.Path
	c.fids.each(func(o *fid) {
		if o.file == nil || o.tree().qid.Path != rootPath {
			return
		}
		o.mu.Lock()
		if len(o.path) >= len(from) && equalNames(o.path[:len(from)], from) {
			o.path = join(to, o.path[len(from):]...)
		}
		o.mu.Unlock()
	})
}

func equalNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// takeRclose reports whether f was opened ORCLOSE, once.
func (f *fid) takeRclose() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rclose
	f.rclose = false
	return r
}

// clunk9 is Tclunk in 9P2000 and 9P2000.u: an ORCLOSE file goes (the
// request runs as the fid's user, see credOf).
func (c *conn) clunk9(n uint32) error {
	if f := c.fids.get(n); f != nil {
		if f.takeRclose() {
			c.unlink(f)
		}
		f.release()
	}
	return c.clunk(n)
}

// dropFids clunks every fid of the session, removing ORCLOSE files as
// their users.
func (c *conn) dropFids() {
	if c.legacy() {
		c.fids.each(func(f *fid) {
			if !f.takeRclose() {
				return
			}
			if err := cred.RunAs(f.cred, func() { c.unlink(f) }); err != nil {
				c.log.Error("9p: switching credentials failed", "error", err.Error())
			}
		})
	}
	c.fids.clear()
}
