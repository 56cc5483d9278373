package client

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/hugelgupf/p9/linux"

	"mfs/internal/fcall"
)

// serverError is an Rerror that carries only a string (9P2000, or a
// 9P2000.u server that sent errno 0): Error is the server's own words, and
// it unwraps to Errno, the errno those words stand for
// (fcall.ErrnoOfString: EIO for words nobody maps).
type serverError struct {
	Ename string
	Errno linux.Errno
}

func (e *serverError) Error() string { return e.Ename }

// Unwrap returns the errno.
func (e *serverError) Unwrap() error { return e.Errno }

// rerror is the error of an Rerror: its errno where it has one (9P2000.u),
// as an Rlerror's is, else a serverError.
func rerror(r *fcall.Rerror) error {
	if r.Errno != 0 {
		return r.Errno
	}
	return &serverError{Ename: r.Ename, Errno: fcall.ErrnoOfString(r.Ename)}
}

// VersionError is a Tversion answered with another dialect's version
// string, or with "unknown".
type VersionError struct {
	Want   fcall.Dialect // the dialect asked for
	Answer string        // the server's version string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("server answered version %q: it does not speak %s", e.Answer, e.Want)
}

// dialectError is an operation the connection's dialect has no message
// for (statfs, xattrs and locks are 9P2000.L's; symlinks, devices and hard
// links 9P2000.u's and 9P2000.L's). It unwraps to linux.ENOSYS, or, for
// xattrs, linux.EOPNOTSUPP, as a file system without them answers.
type dialectError struct {
	Dialect fcall.Dialect
	What    string // "statfs", "xattrs", "locks", "symlinks", …
	Errno   linux.Errno
}

func (e *dialectError) Error() string {
	return fmt.Sprintf("no %s in %s", e.What, e.Dialect)
}

// Unwrap returns the errno.
func (e *dialectError) Unwrap() error { return e.Errno }

// lacks returns the dialectError of what in d's dialect.
func (d *dialect9) lacks(what string) error {
	return &dialectError{Dialect: d.dialect, What: what, Errno: linux.ENOSYS}
}

// lacksXattrs is the dialectError of xattrs: EOPNOTSUPP, as a file system
// without them answers.
func (d *dialect9) lacksXattrs() error {
	return &dialectError{Dialect: d.dialect, What: "xattrs", Errno: linux.EOPNOTSUPP}
}

// deadError is a call that failed because the connection is gone: it is
// ErrDead (errors.Is), and keeps why the connection ended (the read error
// that ended it, or a flush nobody answered) for Dropped.
type deadError struct{ why error }

func (e *deadError) Error() string { return fmt.Sprintf("%v (%v)", ErrDead, e.why) }

// Unwrap returns ErrDead: the cause is not in the chain, so that a
// connection ended by io.EOF never reads as the end of a file.
func (e *deadError) Unwrap() error { return ErrDead }

// Dropped reports whether err is a call that failed because the server
// closed the connection (end of file, a reset, a broken pipe), as opposed
// to a server that stopped answering (ErrTimeout, or ErrDead after an
// unanswered flush).
func Dropped(err error) bool {
	var de *deadError
	if !errors.As(err, &de) {
		return false
	}
	return errors.Is(de.why, io.EOF) || errors.Is(de.why, io.ErrUnexpectedEOF) ||
		errors.Is(de.why, syscall.ECONNRESET) || errors.Is(de.why, syscall.EPIPE)
}
