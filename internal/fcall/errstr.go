package fcall

import (
	"strings"

	"github.com/hugelgupf/p9/linux"
	"golang.org/x/sys/unix"
)

// plan9Words are the Rerror strings of the errnos Plan 9 has words for.
// Each is a string the Linux client's table (net/9p/error.c) maps back to
// the same errno, so a v9fs mount with version=9p2000 reports the right
// error, except "is a directory" (lib9p's words; Linux knows only "Is a
// directory").
var plan9Words = map[linux.Errno]string{
	linux.ENOENT:    "file does not exist",
	linux.EACCES:    "permission denied",
	linux.EEXIST:    "file exists",
	linux.EISDIR:    "is a directory",
	linux.ENOTDIR:   "not a directory",
	linux.ENOTEMPTY: "directory is not empty",
	linux.EBADF:     "fid unknown or out of range",
	linux.EROFS:     "read only file system",
	linux.EFBIG:     "file too big",
	linux.ENOSPC:    "file system is full",
	linux.EPROTO:    "protocol botch",
	linux.ESPIPE:    "bad offset in directory read",
	linux.EIO:       "i/o error",
}

// otherWords are more strings servers send for these errnos (lib9p,
// Plan 9's kernel, fossil, u9fs), read by ErrnoOfString.
var otherWords = map[string]linux.Errno{
	"file not found":            linux.ENOENT,
	"directory entry not found": linux.ENOENT,
	"file is a directory":       linux.EISDIR,
	"directory not empty":       linux.ENOTEMPTY,
	"file already exists":       linux.EEXIST,
	"unknown fid":               linux.EBADF,
	"not owner":                 linux.EPERM,
	"wstat prohibited":          linux.EPERM,
	"create prohibited":         linux.EACCES,
	"remove prohibited":         linux.EACCES,
	"write prohibited":          linux.EACCES,
	"bad offset":                linux.EINVAL,
	"walk in non-directory":     linux.ENOTDIR,
	"create in non-directory":   linux.ENOTDIR,
	"illegal mode":              linux.EINVAL,
	"illegal name":              linux.EINVAL,
	"no access to special file": linux.EPERM,
	"not empty":                 linux.ENOTEMPTY,
	"not open for read":         linux.EBADF,
	"not open for write":        linux.EBADF,
	"duplicate open":            linux.EBADF,
	"clone of open fid":         linux.EBADF,
}

// errnoWords maps every known string, lower-cased, to its errno.
var errnoWords = func() map[string]linux.Errno {
	m := make(map[string]linux.Errno)
	for e := linux.Errno(1); e < 134; e++ {
		m[strings.ToLower(unix.Errno(e).Error())] = e
	}
	for s, e := range otherWords {
		m[s] = e
	}
	for e, s := range plan9Words {
		m[s] = e
	}
	return m
}()

// ErrorString is the Rerror string of errno e: Plan 9's words where it
// has them, else the C library's text ("Operation not permitted"), which
// Linux's client maps back too.
func ErrorString(e linux.Errno) string {
	if s, ok := plan9Words[e]; ok {
		return s
	}
	s := unix.Errno(e).Error()
	if s == "" || strings.HasPrefix(s, "errno ") {
		return "i/o error"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ErrnoOfString is the errno an Rerror string stands for, whatever server
// wrote it; EIO for strings nobody maps.
func ErrnoOfString(s string) linux.Errno {
	if e, ok := errnoWords[strings.ToLower(s)]; ok {
		return e
	}
	return linux.EIO
}
