package main

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
		_, f, err := dir.Walk(names)
		return f, err
	}
	_, f, err := dir.Walk(names[:maxWalk])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return walkFrom(f, names[maxWalk:])
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
