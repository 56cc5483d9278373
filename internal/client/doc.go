// Package client is mfs's 9P client on the project's codec
// (internal/fcall): the namespace's link to its peers (in 9P2000.L) and the
// `mfs 9p` command's link to any server (in any dialect).
//
// New starts a session on a net.Conn; Conn.Attach gives the root File.
// File implements p9.File (and srv9p.GetLocker's and srv9p.LockWaiter's
// methods), so a remote file can be served or used like a local one. Any
// number of goroutines may call a Conn's Files at once: each call is one
// or a few round trips, and calls in flight share the connection.
//
// Time: every call is bounded by Options.Timeout (0: none). A call whose
// reply has not come by then is flushed and fails with ErrTimeout
// (ETIMEDOUT), unless the reply comes first; only that call fails, and
// the connection's other calls go on. A peer that answers nothing at all
// within a second more (or the timeout, if shorter), or takes in no
// request for two timeouts, is dead. File.LockWait has no timeout: it
// waits as the lock does, until its context is done (then it is flushed)
// or the connection ends.
//
// A dead connection (closed, a dead peer, or a reply that breaks the
// protocol) fails every pending and later call with ErrDead (EHOSTDOWN);
// Done and Err say so, and the caller dials again. A reply of the wrong
// type fails its call with EPROTO.
//
// Errors are errnos: an Rlerror is its linux.Errno, as is an Rerror with
// 9P2000.u's errno; an Rerror with words only is an error whose text is
// the server's words and which unwraps to the errno fcall.ErrnoOfString
// reads in them.
//
// # Dialects
//
// A Conn speaks 9P2000.L unless Options.Dialect says 9P2000.u or 9P2000;
// the server must answer the Tversion with that dialect's own version
// string, else New fails with a VersionError. In 9P2000 and 9P2000.u,
// File's methods map onto the messages 9P2000.L replaced, as Linux's v9fs
// does (file9.go says how). What a caller sees of that:
//
//   - Attributes are those a stat has: times in whole seconds; uid and gid
//     9P2000.u's numbers, else the names as this host's passwd and group
//     databases know them, else p9.NoUID and p9.NoGID.
//   - Readdir offsets are byte offsets into the directory: pass back the
//     Offset of the last entry returned.
//   - RenameAt works within one directory; across directories, and Rename
//     always, fail with EXDEV.
//   - What the dialect has no message for (StatFS, xattrs, locks; in 9P2000
//     symlinks, special files and hard links) fails with an error that
//     unwraps to ENOSYS (EOPNOTSUPP for xattrs) and sends nothing.
package client
