package ninep

import (
	"errors"
	"path"
	"strings"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// maxWalk is the most names one Twalk may carry (MAXWELEM in 9P); longer
// paths are walked in steps, for servers such as diod that enforce it.
const maxWalk = 16

// cleanPath makes p absolute and lexically clean: the server rejects "..",
// so "a/../b" must become "/b" here.
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// splitPath returns the names of the cleaned path p ("/" has none).
func splitPath(p string) []string {
	p = strings.TrimPrefix(cleanPath(p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// walkFrom walks names from dir and returns a new fid; with no names it
// clones dir. The caller closes the result.
func walkFrom(dir p9.File, names []string) (p9.File, error) {
	if len(names) <= maxWalk {
		return walkStep(dir, names)
	}
	f, err := walkStep(dir, names[:maxWalk])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return walkFrom(f, names[maxWalk:])
}

// walkStep is one Twalk. A server may answer a walk that fails after the
// first name with fewer qids than names and no error (9P's partial walk,
// diod does): then the new fid does not exist, and the p9 client, which
// does not check, must not be trusted with it.
func walkStep(dir p9.File, names []string) (p9.File, error) {
	qids, f, err := dir.Walk(names)
	if err != nil {
		return nil, err
	}
	if len(qids) < len(names) {
		f.Close() // returns the fid number to the client's pool
		return nil, linux.ENOENT
	}
	return f, nil
}

// walk returns a new fid for the cleaned path p below the attach root.
func (s *session) walk(p string) (p9.File, error) {
	return walkFrom(s.root, splitPath(p))
}

// walkAttr walks to p and returns its fid, qid and attributes.
func (s *session) walkAttr(p string) (p9.File, p9.QID, p9.Attr, error) {
	f, err := s.walk(p)
	if err != nil {
		return nil, p9.QID{}, p9.Attr{}, err
	}
	qid, _, attr, err := f.GetAttr(p9.AttrMaskAll)
	if err != nil {
		f.Close()
		return nil, p9.QID{}, p9.Attr{}, err
	}
	return f, qid, attr, nil
}

// walkParent returns a fid for the directory holding p and p's last name.
// The attach root has no parent here: EBUSY, as rmdir(2) says of "/".
func (s *session) walkParent(p string) (p9.File, string, error) {
	names := splitPath(p)
	if len(names) == 0 {
		return nil, "", linux.EBUSY
	}
	dir, err := walkFrom(s.root, names[:len(names)-1])
	if err != nil {
		return nil, "", err
	}
	return dir, names[len(names)-1], nil
}

// isNotExist reports whether err is the server's "no such file".
func isNotExist(err error) bool {
	e, ok := errnoOf(err)
	return ok && e == linux.ENOENT
}

// errnoOf returns the errno a server answered with, if err carries one.
func errnoOf(err error) (linux.Errno, bool) {
	var e linux.Errno
	ok := errors.As(err, &e)
	return e, ok
}
