// Package srv9p exports one local directory tree as a 9P file system, and
// serves any p9.Attacher in 9P2000.L, 9P2000.u and 9P2000.
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
// # The server
//
// NewServer (or Serve) answers 9P for any p9.Attacher with the
// project's own server loop on internal/fcall; hugelgupf/p9 provides the
// p9.File and p9.Attacher contract and its types, nothing on the wire.
// Where p9.File cannot say what 9P2000.L needs, the server looks for small
// interfaces (contract.go): Attacher (the whole Tattach: attach name,
// uname, n_uname), GetLocker (Tgetlock), LockWaiter (a blocking Tlock,
// cancelled through a context by Tflush or the connection's end) and
// Inline. Modes pass unmasked, so setuid, setgid and sticky bits reach
// SetAttr, Create and Mkdir; Create, Mkdir, Symlink and Mknod get the
// attach's n_uname as their uid. Errors cross as the errno
// linux.ExtractErrno finds (EIO if none).
//
// Rules it enforces (version(5), walk(5), flush(5), and Linux's
// answers where 9P2000.L leaves them open):
//
//   - Tversion: a client string beginning "9P2000.L" is answered
//     "9P2000.L", one beginning "9P2000.u" "9P2000.u", any other "9P2000"
//     or "9P2000.…" "9P2000", anything else "unknown"; the msize is the smaller of the
//     client's and MaxMsize (4 MiB by default). A second Tversion cancels
//     and waits for every request in flight, clunks every fid and starts
//     afresh. Anything but Tversion before a session is EPROTO.
//   - Framing: a size field below 7 or above the msize closes the
//     connection (logged). A well-sized frame whose body does not parse
//     exactly, trailing bytes included, is EINVAL; an unknown type, or an
//     R-message sent as a request, ENOSYS.
//   - Fids and tags: an unknown fid is EBADF, a newfid in use (other than
//     fid itself) EBADF, a tag in use EINVAL. Twalk takes at most 16 names
//     (EINVAL beyond); a walk with names from a non-directory is ENOTDIR;
//     "", ".", ".." and names with '/' or NUL are EINVAL there and in
//     every request that names a directory entry.
//   - Tflush is always answered. A flush of a running request cancels its
//     context; its reply (if any) goes out first, then the Rflush: the
//     reply leaves the tag table and is written under the write lock, so a
//     flush that finds no tag answers after it. A flush of a queued request
//     drops it unanswered; a flush of its own tag or an unknown one is
//     answered at once.
//   - Txattrwalk reads the value (or the name list) into a fid of its own,
//     leaving the file's fid alone; Txattrcreate collects at most
//     attr_size bytes (at most 64 KiB, XATTR_SIZE_MAX: E2BIG beyond) and
//     sets the attribute at the clunk (an empty one removes it, as QEMU
//     does; a short write is EINVAL there).
//   - Tremove in 9P2000.L clunks the fid and answers EOPNOTSUPP: a
//     p9.File does not know its name, and the Linux client uses
//     Tunlinkat. In 9P2000 and 9P2000.u it removes by the fid's path.
//   - Tauth answers ENOENT: no authentication here, and diod's client
//     tools (diodls, diodcat) read that as "none needed".
//
// 9P2000 and 9P2000.u (plan9.go, stat9.go) are built from the same
// p9.File calls, so the export and the namespace speak them alike. Their
// messages name files by fid alone, so their fids keep the attach fid and
// the path from it: a rename moves the paths of the connection's fids
// below it, and a path another client made stale is ESTALE for Tremove,
// ORCLOSE and a rename, never another file. A walk of ".." goes to the parent within the attach
// (the attach root is its own parent); a walk that fails past its first
// name answers the qids walked (walk(5)). Topen and Tcreate take Plan 9
// modes (OTRUNC, ORCLOSE; OAPPEND in .u); DMAPPEND and DMEXCL have no
// Linux form and are refused. A directory's Tread returns whole stat
// entries at byte offsets that stay good (a read at 0 starts again, at
// another offset handed out continues there, inside an entry is ESPIPE).
// Twstat sets what is not "don't touch": mode, length, times, owner and
// group (names, or .u numbers) and, last, the name within the directory.
// Errors are Rerror strings: Plan 9's words where Linux's client maps them
// back ("file does not exist", "permission denied"…), the C library's
// text otherwise, and the errno next to it in .u. In 9P2000, whose clients
// cannot follow symlinks, the server follows a symlink whose target lands
// inside the attach (relative ones; absolute ones where the attach root is
// a LinkRoot); other symlinks, devices, fifos and sockets are listed but
// cannot be opened ("no access to special file"). 9P2000.u carries
// numeric ids, and symlinks, devices, pipes, sockets and hard links in
// Tcreate's and the stat's extension. The uname of a 9P2000 attach is
// looked up in the node's passwd database, as any claim.
//
// Concurrency, measured (see bench_test.go and the README): one goroutine
// per connection reads every frame. Tversion and Tflush are answered on it,
// and so are metadata requests (walk, getattr, setattr, clunk, open,
// create, mkdir, symlink, mknod, unlink, rename, readlink, statfs,
// xattrwalk) on files that are Inline (an export's files: system calls on
// the host), which saves a goroutine hand-off and a thread wake-up per
// request. Reads, writes, readdir, fsync, locks, and everything on other
// files (the namespace's remote files) run on goroutines of their own, at
// most MaxInflight per connection; beyond that requests wait in a queue of
// the same length, and the reader stops only when that is full too, so a
// Tflush is still read while the limit is reached. Each reply goes out
// whole in one write; file data is read straight into the reply frame.
// Memory per connection is about 2 × MaxInflight × msize at worst.
//
// Identity (identity.go, cred.go): before a connection's first message
// the server finds what its transport proves (Identify: SO_PEERCRED on a
// unix socket, a privileged source port on TCP; Identifier for others,
// such as a cluster certificate; TrustClaims for a listener that believes
// everyone). A Tattach's claim (n_uname, else the uname looked up in the
// node's passwd database) is believed only as far as that goes: a unix
// peer may claim only itself unless it is root, a privileged port, a
// member or a trusted listener may claim anyone, and anything else is the
// anonymous user (Anonymous, default 65534:65534). SquashUsers then maps
// root or everyone to the anonymous user. Every request runs as its fid's
// user: fsuid, fsgid and supplementary groups (from the group database,
// cached 30 s; a uid with no passwd entry gets no groups and the gid of
// its number, unless that is a group of this node: then the anonymous
// gid) are set on the goroutine's locked thread with per-thread system
// calls, effective capabilities are dropped for anyone but root, and all
// of it is put back before the thread is unlocked, so the kernel's own
// permission checks apply. A server not running as root cannot switch and
// refuses other users' attaches with EPERM (logged once). Requests that
// only read what a fid's descriptor already tells (getattr, readlink,
// statfs, a plain clunk) need no permission and skip the switch; a walk
// switches fsuid, fsgid and groups but keeps the capabilities that are not
// the file-system ones (which the fsuid switch drops). Measured
// (BenchmarkIdentity, stats as uid 1000 against root's on one server):
// 0.80–0.95 of root's rate; every credential system call allocates and
// commits a new kernel cred, eight per fully switched request. Keeping a
// user's credentials on a locked reader thread between requests was
// tried: every request then waits for that one thread to wake (0.40).
//
// Limits and lifecycle: MaxConns per listener (more are closed, logged);
// IdleTimeout closes a connection that holds no fid; EMFILE and ENFILE on
// accept pause and retry, never end Serve; a reply write that blocks for
// a minute ends its connection; when Serve's context ends it closes the
// listener and every connection and returns within a few seconds even if
// a request is stuck in the file system.
package srv9p
