// Package srv9p exports one local directory tree as a 9P2000.L file system.
//
// New returns a p9.Attacher whose files are backed by open file descriptors
// (O_PATH, openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS and the *at system
// calls on a parent directory descriptor plus one name), never by joined path
// strings, so that nothing outside the export root can be reached: not
// through "..", not through symlinks (walk never follows one; it returns the
// link itself), and not through a directory swapped for a symlink while a
// request is in flight. Where Linux has no *at form of an operation on an
// O_PATH descriptor (reopening for I/O, chmod, truncate, xattrs) the server
// goes through /proc/self/fd/N, which names the very inode the descriptor
// holds, so no path is resolved again. A directory that a process on the host
// moves out of the tree stays reachable through the fids that already hold it.
//
// What the caller can rely on:
//
//   - Every p9.File method works on the host; errors are the errno Linux
//     gives, as linux.Errno.
//   - QID paths are unique and stable for the life of the export, also
//     across file systems mounted below the root: the inode number in the low
//     48 bits and a per-device index above it, with a table for the rest.
//     QID versions follow the modification time.
//   - Readdir takes a snapshot of the directory when read from offset 0 and
//     serves later offsets from it, so every entry is returned exactly once
//     even while entries are created and removed. Its count is a byte budget,
//     as on the wire: only entries that fit in count bytes are returned. Entry
//     types are Linux DT_* values, taken from getdents64 without a stat per
//     entry.
//   - Lock uses open file description locks (F_OFD_SETLK) on the fid's own
//     open descriptor, so locks of two fids conflict although one process
//     holds both. A non-blocking request that would block answers
//     p9.LockStatusBlocked at once. A blocking one served by Serve waits
//     for the lock (see below).
//   - Ownership: a file made through an attach whose Tattach carried
//     n_uname (served by Serve, see below) belongs to that uid; otherwise
//     to the server's user. The group is set from the message. Both only
//     where the server may (EPERM is ignored).
//
// Serve answers 9P on a listener. It puts a small filter in front of each
// connection (it reads only the 7-byte header of most frames) to build
// around gaps of github.com/hugelgupf/p9 v0.4.1:
//
//   - The server has no Tgetlock handler. The filter turns a Tgetlock into a
//     disguised Tlock on the same fid and tag (see IsGetLock and
//     AnswerGetLock) and the reply back into an Rgetlock. The Linux client
//     always asks with type UNLCK (v9fs_file_getlock); Lock takes that as
//     "any conflicting lock?" and probes with a write lock.
//   - A blocking Tlock (F_SETLKW) answered BLOCKED makes the Linux client
//     sleep its lock timeout (30 s) before it asks again, so the server
//     must wait; but the p9 server's Tflush waits for the flushed request
//     instead of cancelling it, so a wait must end by other means. The
//     filter marks each blocking Tlock with a token (see LockWait) naming
//     a cancel channel, which it closes when it reads a Tflush of that tag
//     or the connection ends. Lock then retries F_OFD_SETLK with a backoff
//     of 1 to 50 ms (WaitForLock) until the lock is granted, the request is
//     cancelled, or 20 s have passed; the last two answer BLOCKED (the
//     kernel discards the reply to a flushed request, and after the cap
//     retries once its lock timeout has passed, so a lock held for longer
//     than 20 s reaches a waiter up to 30 s after its release, as before).
//     A lock granted in the instant the kernel flushes the
//     request is held by the fid unbeknownst to the kernel, as with any
//     9P server; closing the file releases it.
//   - It answers a walk from a non-directory with EINVAL; the filter turns
//     that EINVAL into ENOTDIR when the walk's names were plain.
//   - Its Txattrwalk gives the attribute fid the very File of the file's
//     fid, so clunking the attribute fid (the Linux client does so right
//     after reading a value) closed the file's fid too. The filter puts a
//     clone walk before each Txattrwalk, so the attribute fid shares only
//     the clone (and clunks the clone again when the Txattrwalk fails,
//     since the server then leaves it bound). Files served this way see
//     Close twice on such a clone and must take that calmly (srv9p's do).
//   - The server gives Attach no arguments and Create, Mkdir, Symlink and
//     Mknod p9.NoUID, so the user of an attach (Tattach's n_uname; the
//     Linux client attaches once per local uid with access=user or
//     access=client) is lost. The filter puts a uid element in front of
//     the attach name of a Tattach with n_uname (see UIDElement and
//     AttachUID); the root's Walk of it returns the root again, carrying
//     the uid, which every file walked from it inherits, and new files
//     are given that owner (fchownat on the new file's descriptor right
//     after making it). The Rattach QID stays the root's, as the server
//     always answers. The element starts with a reserved prefix that the
//     filter refuses in any client's walk or attach name, and carries the
//     process secret, so it cannot be forged.
//   - The server answers every failed GetXattr of a Txattrwalk with
//     EINVAL, so a missing attribute (ENODATA; the Linux client asks for
//     security.capability on every write) looks like a bad request. The
//     filter disguises the attribute name with a registered token (see
//     XattrName); GetXattr takes the name back and records its errno
//     under the token (XattrToken.Fail), and the filter puts that errno
//     into the Rlerror in place of EINVAL. Cost per Txattrwalk: a slightly
//     longer rewritten frame (already copied for the clone walk), a map
//     entry under a mutex for the life of the request, and no copy of
//     the name in GetXattr (it is a substring of the disguise).
//
// It also answers a Tauth with ENOENT instead of the server's ENOSYS: that is
// how diod says "no authentication needed", and diod's client tools (diodls,
// diodcat) give up on anything else.
//
//   - The server's codec masks the mode of Tsetattr with 01777, dropping
//     the setuid and setgid bits of chmod. The filter registers the bits of
//     a Tsetattr that sets them under a token and writes the token, in
//     place, into the message's size field, which the server passes on
//     but which means nothing when valid does not ask for a truncate
//     (SetAttrMode puts the bits back). A chmod combined with a truncate
//     in one Tsetattr still loses them.
//
// Gap left: the codec drops the same bits of Tlcreate and Tmkdir, which
// have no unused field to carry them (a name disguise could, but the
// Linux client applies setgid directories' inheritance and the umask
// itself, and sets setuid bits with a chmod, so nothing needs it).
package srv9p
