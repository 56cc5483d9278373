package ninep

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// cpAttr is what a copy keeps of a file.
type cpAttr struct {
	mode         uint32 // type and permissions, as Linux spells them (so does p9.FileMode)
	size         int64
	uid, gid     uint32
	atime, mtime unix.Timespec
	dev, ino     uint64 // which file it is (the qid path on 9P)
}

func (a cpAttr) kind() uint32 { return a.mode & unix.S_IFMT }
func (a cpAttr) isDir() bool  { return a.kind() == unix.S_IFDIR }

// sameFile reports whether a and b are one file by two names: the same
// inode (qid path) and, as a qid path alone may not say, size and mtime.
func (a cpAttr) sameFile(b cpAttr) bool {
	return a.ino == b.ino && a.dev == b.dev && a.size == b.size && a.mtime == b.mtime
}

// cpEnt is a directory entry and its attributes.
type cpEnt struct {
	name string
	attr cpAttr
}

// cpFS is one side of a copy: this host, or the session's 9P tree. Paths
// are the side's own; errors carry an errno and no path (the caller's line
// names it).
type cpFS interface {
	lstat(p string) (cpAttr, error)
	stat(p string) (cpAttr, error)    // follows a final symlink where the side can
	list(dir string) ([]cpEnt, error) // without . and ..
	readlink(p string) (string, error)
	open(p string) (cpReader, error)
	create(p string, a cpAttr, preserve bool) (cpWriter, error) // or truncate
	mkdir(p string, a cpAttr, preserve bool) error              // owner-writable until setAttr
	symlink(target, p string, a cpAttr, preserve bool) error
	remove(p string, dir bool) error
	setAttr(p string, a cpAttr, preserve bool) error // mode; owner and times too with preserve
	join(dir, name string) string
	base(p string) string // the last name; "" for a root or "."
	abs(p string) string  // to compare paths of one side
	show(p string) string // for error lines
}

// cpReader reads an open source file.
type cpReader interface {
	io.ReaderAt
	io.Closer
}

// cpWriter writes an open, new or truncated, destination file.
type cpWriter interface {
	io.WriterAt
	truncate(size int64) error
	finish(a cpAttr, preserve bool) error // as setAttr, on the open file
	Close() error
}

// cpErrno returns the errno err carries, from the server or this host.
func cpErrno(err error) (unix.Errno, bool) {
	if e, ok := errnoOf(err); ok {
		return unix.Errno(e), true
	}
	var e unix.Errno
	ok := errors.As(err, &e)
	return e, ok
}

// cpIs reports whether err carries the errno e.
func cpIs(err error, e unix.Errno) bool {
	got, ok := cpErrno(err)
	return ok && got == e
}

// cpChownRefused reports whether a chown failed as cp -p lets it fail:
// not permitted, or an id the receiving side cannot represent.
func cpChownRefused(err error) bool {
	return cpIs(err, unix.EPERM) || cpIs(err, unix.EINVAL)
}

// cpNinep is the session's 9P tree as a side of a copy.
type cpNinep struct {
	s      *session
	prefix string
}

// cpWalkGetAttr walks names from dir and returns the new fid, its qid and its
// attributes, in one round trip where it can (client.File.WalkGetAttr).
func cpWalkGetAttr(dir p9.File, names []string) (p9.File, p9.QID, p9.Attr, error) {
	if len(names) == 0 || len(names) > maxWalk {
		f, err := walkFrom(dir, names)
		if err != nil {
			return nil, p9.QID{}, p9.Attr{}, err
		}
		q, _, a, err := f.GetAttr(p9.AttrMaskAll)
		if err != nil {
			f.Close()
			return nil, p9.QID{}, p9.Attr{}, err
		}
		return f, q, a, nil
	}
	qids, f, _, a, err := dir.WalkGetAttr(names)
	if err != nil {
		return nil, p9.QID{}, p9.Attr{}, err
	}
	if len(qids) < len(names) {
		f.Close()
		return nil, p9.QID{}, p9.Attr{}, linux.ENOENT
	}
	return f, qids[len(qids)-1], a, nil
}

// cpAttr9 converts 9P attributes.
func cpAttr9(q p9.QID, a p9.Attr) cpAttr {
	return cpAttr{
		mode:  uint32(a.Mode),
		size:  int64(a.Size),
		uid:   uint32(a.UID),
		gid:   uint32(a.GID),
		atime: unix.Timespec{Sec: int64(a.ATimeSeconds), Nsec: int64(a.ATimeNanoSeconds)},
		mtime: unix.Timespec{Sec: int64(a.MTimeSeconds), Nsec: int64(a.MTimeNanoSeconds)},
		ino:   q.Path,
	}
}

func (n *cpNinep) lstat(p string) (cpAttr, error) {
	f, q, a, err := cpWalkGetAttr(n.s.root, splitPath(p))
	if err != nil {
		return cpAttr{}, err
	}
	f.Close()
	return cpAttr9(q, a), nil
}

func (n *cpNinep) stat(p string) (cpAttr, error) { return n.lstat(p) }

func (n *cpNinep) list(dir string) ([]cpEnt, error) {
	d, err := n.s.walk(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if _, _, err := d.Open(p9.ReadOnly); err != nil {
		return nil, err
	}
	dirents, err := n.s.dirents(d)
	if err != nil {
		return nil, err
	}
	ents := make([]cpEnt, 0, len(dirents))
	for _, de := range dirents {
		ents = append(ents, cpEnt{name: de.Name})
	}
	// One walk and getattr per entry, cpWorkers at once; an entry gone
	// since the Treaddir is left out.
	errs := make([]error, len(ents))
	sem := make(chan struct{}, cpWorkers)
	var wg sync.WaitGroup
	for i := range ents {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f, q, a, err := cpWalkGetAttr(d, []string{ents[i].name})
			if err != nil {
				errs[i] = err
				return
			}
			f.Close()
			ents[i].attr = cpAttr9(q, a)
		})
	}
	wg.Wait()
	kept := ents[:0]
	for i, e := range ents {
		switch {
		case errs[i] == nil:
			kept = append(kept, e)
		case !isNotExist(errs[i]):
			return nil, fmt.Errorf("%s: %w", e.name, errs[i])
		}
	}
	slices.SortFunc(kept, func(a, b cpEnt) int { return strings.Compare(a.name, b.name) })
	return kept, nil
}

func (n *cpNinep) readlink(p string) (string, error) {
	f, err := n.s.walk(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return f.Readlink()
}

func (n *cpNinep) open(p string) (cpReader, error) {
	f, err := n.s.walk(p)
	if err != nil {
		return nil, err
	}
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// owner is the owner a new file is made with: the source's with
// preserve, else ours.
func (n *cpNinep) owner(a cpAttr, preserve bool) (p9.UID, p9.GID) {
	if preserve {
		return p9.UID(a.uid), p9.GID(a.gid)
	}
	return p9.UID(os.Getuid()), p9.GID(os.Getgid())
}

// parent walks to the directory p is to be made in; the attach root is
// there already.
func (n *cpNinep) parent(p string) (p9.File, string, error) {
	dir, name, err := n.s.walkParent(p)
	if errors.Is(err, linux.EBUSY) {
		return nil, "", linux.EEXIST
	}
	return dir, name, err
}

func (n *cpNinep) create(p string, a cpAttr, preserve bool) (cpWriter, error) {
	dir, name, err := n.parent(p)
	if isExist(err) {
		return nil, linux.EISDIR
	}
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	uid, gid := n.owner(a, preserve)
	f, _, _, err := dir.Create(name, p9.WriteOnly, p9.FileMode(a.mode&0o777), uid, gid)
	if err == nil {
		return cpNinepWriter{f}, nil
	}
	if !isExist(err) {
		return nil, err
	}
	if f, err = walkFrom(dir, []string{name}); err != nil {
		return nil, err
	}
	_, _, old, err := f.GetAttr(p9.AttrMask{Mode: true, Size: true})
	switch {
	case err != nil:
	case old.Mode.IsDir():
		err = linux.EISDIR
	case old.Mode.IsSymlink():
		err = symlinkError(f)
	default:
		if _, _, err = f.Open(p9.WriteOnly); err == nil && old.Size > 0 {
			err = f.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{})
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return cpNinepWriter{f}, nil
}

func (n *cpNinep) mkdir(p string, a cpAttr, preserve bool) error {
	dir, name, err := n.parent(p)
	if err != nil {
		return err
	}
	defer dir.Close()
	uid, gid := n.owner(a, preserve)
	_, err = dir.Mkdir(name, p9.FileMode(0o700|a.mode&0o777), uid, gid)
	return err
}

func (n *cpNinep) symlink(target, p string, a cpAttr, preserve bool) error {
	dir, name, err := n.parent(p)
	if err != nil {
		return err
	}
	defer dir.Close()
	uid, gid := n.owner(a, preserve)
	_, err = dir.Symlink(target, name, uid, gid)
	return err
}

func (n *cpNinep) remove(p string, isDir bool) error { return n.s.unlink(p, isDir) }

func (n *cpNinep) setAttr(p string, a cpAttr, preserve bool) error {
	f, err := n.s.walk(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return cpSetAttr9(f, a, preserve)
}

func (n *cpNinep) join(dir, name string) string { return path.Join(dir, name) }
func (n *cpNinep) abs(p string) string          { return cleanPath(p) }
func (n *cpNinep) show(p string) string         { return n.prefix + p }

func (n *cpNinep) base(p string) string {
	if b := path.Base(cleanPath(p)); b != "/" {
		return b
	}
	return ""
}

// cpSetAttr9 gives the file f the owner (with preserve), then the mode
// (a chown clears setuid bits), then the times (with preserve) of a. A
// symlink has no mode of its own.
func cpSetAttr9(f p9.File, a cpAttr, preserve bool) error {
	link := a.kind() == unix.S_IFLNK
	if preserve {
		err := f.SetAttr(p9.SetAttrMask{UID: true, GID: true}, p9.SetAttr{UID: p9.UID(a.uid), GID: p9.GID(a.gid)})
		if cpChownRefused(err) {
			err = f.SetAttr(p9.SetAttrMask{GID: true}, p9.SetAttr{GID: p9.GID(a.gid)})
		}
		if err != nil && !cpChownRefused(err) && !(link && unsupported(err)) {
			return err
		}
	}
	var mask p9.SetAttrMask
	var sa p9.SetAttr
	if !link {
		mask.Permissions, sa.Permissions = true, p9.FileMode(a.mode&0o7777)
	}
	if preserve {
		mask.ATime, mask.ATimeNotSystemTime, mask.MTime, mask.MTimeNotSystemTime = true, true, true, true
		sa.ATimeSeconds, sa.ATimeNanoSeconds = uint64(a.atime.Sec), uint64(a.atime.Nsec)
		sa.MTimeSeconds, sa.MTimeNanoSeconds = uint64(a.mtime.Sec), uint64(a.mtime.Nsec)
	}
	if mask == (p9.SetAttrMask{}) {
		return nil
	}
	err := f.SetAttr(mask, sa)
	if link && unsupported(err) {
		return nil // a server that cannot set a symlink's times
	}
	return err
}

// cpNinepWriter is a destination file on 9P.
type cpNinepWriter struct{ p9.File }

func (w cpNinepWriter) truncate(size int64) error {
	return w.SetAttr(p9.SetAttrMask{Size: true}, p9.SetAttr{Size: uint64(size)})
}

func (w cpNinepWriter) finish(a cpAttr, preserve bool) error {
	return cpSetAttr9(w.File, a, preserve)
}
