// Package export exports one local directory tree as a p9.Attacher, for
// srv9p (or any 9P server) to serve: export.New(root, export.ReadOnly(),
// export.Exclude(paths...), export.WithLogger(log)).
//
// Files are backed by open file descriptors (O_PATH, openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS and the *at system calls on a parent
// directory descriptor plus one name), never by joined path strings, so
// nothing outside the root can be reached: not through "..", not through
// symlinks (a walk never follows one; it returns the link itself), and not
// through a directory swapped for a symlink while a request is in flight.
// Where Linux has no *at form of an operation on an O_PATH descriptor
// (reopening for I/O, chmod, truncate, xattrs) the export goes through
// /proc/self/fd/N, which names the very inode the descriptor holds. A
// directory that a process on the host moves out of the tree stays
// reachable through the files that already hold it.
//
// What a caller may rely on:
//
//   - Every p9.File method works on the host; errors are the errno Linux
//     gives, as linux.Errno.
//   - QID paths are unique and stable for the life of the export, also
//     across file systems mounted below the root; QID versions follow the
//     modification time.
//   - Readdir takes a snapshot of the directory when read from offset 0
//     and serves later offsets from it, so every entry is returned exactly
//     once even while entries are created and removed. Entry types are
//     Linux DT_* values, from getdents64 without a stat per entry.
//   - Lock uses open file description locks on the file's own open
//     descriptor, so locks of two fids conflict although one process
//     holds both. A request that would block answers
//     p9.LockStatusBlocked at once; LockWait (srv9p.LockWaiter) waits for
//     the lock until its context is done or 20 s have passed.
//   - A new file belongs to the uid and group the server passes (where the
//     process may set them: EPERM is ignored) and has exactly the
//     permissions asked for (no umask).
//   - The files implement srv9p's Inline (every method is a system call on
//     the host), GetLocker, LockWaiter, LinkRoot and EntryStater.
package export
