// Package client is mfs's 9P client on the project's codec
// (internal/fcall): the namespace's link to its peers (in 9P2000.L) and the
// `mfs 9p` command's link to any server (in any dialect).
//
// A Conn carries any number of calls at once: each call writes its frame
// whole and waits for the reply with its tag, while one reader goroutine
// per connection reads every reply and hands it to its caller (a Tread's
// data straight into the caller's buffer). Nothing is injected and
// nothing is smuggled: xattrs, Tlock with the file's own fid, Tgetlock,
// Tsetattr with the whole mode (setuid, setgid, sticky) and Tflush are
// plain messages.
//
// Time: every call is bounded by Options.Timeout. When it passes, the
// call sends a Tflush for its request and fails with ETIMEDOUT once the
// Rflush comes (or with the reply, if that comes first); only that call
// fails, and other files of the connection keep working. A server answers
// a Tflush only once the request is done, and a request can be stuck in
// the server's file system, so a probe goes out with the Tflush (a Tflush
// of no request, answered at once): if the probe is answered but the
// Rflush has not come within a second (or the timeout, if shorter), the
// call fails with ETIMEDOUT anyway, and its tag stays taken until the
// server's last word on it. A peer that answers nothing at all, not even
// the probe, in that second is dead (so a dead peer is known within the
// timeout plus a second), and so is one that takes in no request bytes
// for two timeouts: every pending call fails with EHOSTDOWN and so does
// every later one (the caller dials again). A blocking lock (File.LockWait) has
// no timeout: it waits as the lock does, until its context is done (then
// it is flushed) or the connection ends.
//
// A reply that breaks the protocol (a bad size, a tag no call has, an
// Rread longer than asked for, a body that does not decode) kills the
// connection, as the Linux client does; a reply of the wrong type fails
// its call with EPROTO.
//
// File implements p9.File (and srv9p.GetLocker and srv9p.LockWaiter's
// methods), so a remote file can be served or used like a local one.
//
// # Dialects
//
// A Conn speaks 9P2000.L unless Options.Dialect says 9P2000.u or 9P2000;
// the server must answer the Tversion with that dialect's own version
// string (else New fails with a VersionError). In 9P2000 and 9P2000.u,
// File's methods map onto the messages 9P2000.L replaced, as Linux's v9fs
// does:
//
//   - GetAttr is Tstat: DM bits make the mode and file type (9P2000.u's
//     symlinks, devices "b|c major minor", pipes, sockets, setuid, setgid
//     and sticky bits in that dialect only); uid and gid are 9P2000.u's
//     numbers, else the names as this host's passwd and group databases
//     know them, else the names read as numbers, else p9.NoUID and
//     p9.NoGID. Times have whole seconds. WalkGetAttr sends the Twalk and
//     the Tstat back to back.
//   - SetAttr is one Twstat (a directory's mode keeps DMDIR; owner and
//     group as numbers in 9P2000.u, names in 9P2000; "now" is this
//     host's); FSync is a Twstat that changes nothing.
//   - Open is Topen (the access mode, O_TRUNC as OTRUNC, in 9P2000.u
//     O_APPEND as OAPPEND); Create and Mkdir are Tcreate on a clone of the
//     directory; Symlink, Mknod and Link are 9P2000.u's Tcreate with
//     DMSYMLINK, DMNAMEDPIPE, DMSOCKET, DMDEVICE or DMLINK and the
//     extension. An open directory keeps an unopened clone for walks from
//     it, which 9P2000 allows only from fids not open.
//   - Readdir is a Tread of the open directory at a byte offset; each
//     Dirent's Offset is the byte offset after it. Entries beyond count
//     are kept for the next call, since a server reads a directory on
//     only from where the last Tread ended.
//   - UnlinkAt is a walk and Tremove; RenameAt within one directory is a
//     Twstat of the name, across directories EXDEV (as is Rename, whose
//     fid's directory is unknown).
//   - Readlink is the Tstat's extension (9P2000.u).
//   - What the dialect has no message for (StatFS, xattrs, locks; in
//     9P2000 symlinks, special files and hard links) fails with a
//     DialectError, which unwraps to ENOSYS (EOPNOTSUPP for xattrs).
//   - An Rerror is its 9P2000.u errno when it has one, like an Rlerror's;
//     else a ServerError, whose text is the server's and which unwraps to
//     the errno fcall.ErrnoOfString reads in it.
//
// In 9P2000.L nothing of this is in the way: a File method tests one
// boolean of its Conn and goes on as it always did.
package client
