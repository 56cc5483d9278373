package client

import (
	"fmt"

	"github.com/hugelgupf/p9/linux"

	"mfs/internal/fcall"
)

// ServerError is an Rerror that carries only a string (9P2000, or a
// 9P2000.u server that sent errno 0): Error is the server's own words, and
// errors.As finds Errno, the errno those words stand for
// (fcall.ErrnoOfString: EIO for words nobody maps).
type ServerError struct {
	Ename string
	Errno linux.Errno
}

func (e *ServerError) Error() string { return e.Ename }

// Unwrap returns the errno.
func (e *ServerError) Unwrap() error { return e.Errno }

// rerror is the error of an Rerror: its errno where it has one (9P2000.u),
// as an Rlerror's is, else a ServerError.
func rerror(r *fcall.Rerror) error {
	if r.Errno != 0 {
		return r.Errno
	}
	return &ServerError{Ename: r.Ename, Errno: fcall.ErrnoOfString(r.Ename)}
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

// DialectError is an operation the connection's dialect has no message
// for (statfs, xattrs and locks are 9P2000.L's; symlinks, devices and hard
// links 9P2000.u's and 9P2000.L's). It unwraps to linux.ENOSYS, or, for
// xattrs, linux.EOPNOTSUPP, as a file system without them answers.
type DialectError struct {
	Dialect fcall.Dialect
	What    string // "statfs", "xattrs", "locks", "symlinks", …
	Errno   linux.Errno
}

func (e *DialectError) Error() string {
	return fmt.Sprintf("no %s in %s", e.What, e.Dialect)
}

// Unwrap returns the errno.
func (e *DialectError) Unwrap() error { return e.Errno }

// lacks returns the DialectError of what on c.
func (c *Conn) lacks(what string) error {
	return &DialectError{Dialect: c.dialect, What: what, Errno: linux.ENOSYS}
}

// lacksXattrs is the DialectError of xattrs: EOPNOTSUPP, as a file system
// without them answers.
func (c *Conn) lacksXattrs() error {
	return &DialectError{Dialect: c.dialect, What: "xattrs", Errno: linux.EOPNOTSUPP}
}
