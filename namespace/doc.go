// Package namespace is the mfs union server: every cluster node's export as
// one 9P file system, MOSIX MFS style. A Namespace is a p9.Attacher and an
// srv9p.Attacher (it sees the whole Tattach); serve it with srv9p.Serve,
// which speaks 9P2000.L, 9P2000.u and 9P2000 to clients (peers are always
// reached in 9P2000.L).
//
// # The root
//
// The root directory lists, at the moment of each call (walk, stat,
// readdir):
//
//	1 2 …      one directory per alive node (decimal, no leading zeros)
//	home       the attach's home node
//	here       the serving node
//	selected   the attach's selected node
//	nodes      the node table: "ID ADDR STATE MARKS" per line, MARKS a
//	           comma-separated subset of here,home,selected or "-"
//	ctl        reads "here 1 home 2 selected 3\n"; "select N" changes
//	           selected for this attach
//
// home, here, selected and N are directories (not symlinks, as in MOSIX)
// presenting the root of their node. Failed and left nodes stay in nodes
// but not in the listing; walking to one fails as the errors table says.
//
// # Errors
//
// A node that cannot be used fails the same way wherever it is named: as
// /N, through a context directory (home, selected), in an attach name
// (home=N, selected=N, or N as the path) and in a ctl "select N":
//
//	the node is                          errno       strerror
//	listed as failed (no answer to       EHOSTDOWN   host is down
//	  probes: a crash, a cut link)
//	gone: it left, was reaped, or was    ENOENT      no such file or directory
//	  never a member
//	the serving node, in any state       —           (always usable: in-process)
//
// A failed node may come back (it is probed until reaped); a node that
// left is gone until it joins again. Once a node is usable, files on it
// fail with its own errnos; a peer that stops answering gives EHOSTDOWN
// and a single call past the timeout ETIMEDOUT (see Direct access). A
// malformed attach-name element or ctl command is EINVAL.
//
// # Attach context
//
// The attach name is a sequence of "/"-separated key=value elements,
// optionally followed by a path to attach at: "home=2/selected=3",
// "home=2/here/var/log". Keys: home, selected. Defaults: here = the serving
// node, home = here, selected = home (selected follows home until set
// explicitly). An unknown key or a malformed number is EINVAL, a node that
// cannot be used fails as the errors table says; each is logged naming the
// element. No commas are needed, so the name works as mount -o aname=….
//
// AttachWith parses the attach name once: the context elements first,
// then the path walked from the new root. A key=value name anywhere else
// is an ordinary (and at the root, missing) name. All fids walked from one
// attach share its context by pointer: "select N" written to ctl changes
// selected for every one of them from then on (as a MOSIX selection is
// inherited by a process' children). A directory already walked through
// selected stays on the node it reached, like a current directory.
// Context is never global. Files made through an attach belong to its
// n_uname, on every node (see below).
//
// # QIDs
//
// The kernel uses qid.path as the inode number, so no two files of the
// union share one. A node's file keeps its own path with the node number
// in the top 16 bits (node<<48 | path) when the path fits in 47 bits;
// larger paths (srv9p's device index or table bit) are numbered in a
// per-namespace table (node<<48 | 1<<47 | n). Node 0's space holds the
// root (1), nodes (2), ctl (3) and the node directories (1<<32 + N). The
// context directories are entry points to the same files as /N: /home/x
// and /2/x have one QID when home is 2, like a bind mount. /N and a
// context directory naming N share the fixed QID of node N's directory, so
// the root is listed without reaching any peer, and no directory is ever
// its own ancestor: find, ls -R and pwd terminate. In 9P2000.L ".." is
// resolved by the kernel (srv9p's server rejects it as a walk name) and
// leads to the root; in 9P2000 and 9P2000.u srv9p walks it within the
// attach, so /2/.. is the root too. For 9P2000 the root is an
// srv9p.LinkRoot: below /N an absolute symlink target is a path of node
// N's tree.
//
// # Direct access
//
// Files of the serving node are the local export's files, called
// in-process (localFile): no socket, no encoding, one extra method call on
// the read/write path. Files of node M go straight to M over one
// connection of mfs's client (internal/client) per node (remoteFile),
// opened on first use with a large msize, reused, and dialled anew after
// the connection dies. Concurrent kernel requests stay concurrent: the
// server runs them on goroutines and the client pipelines them on the one
// connection. Xattrs, locks (Tlock on the file's own fid), Tgetlock and a
// chmod's whole mode are plain messages to the peer.
//
// Time: every proxied call is bounded by the timeout (WithTimeout, default
// 5 s). A call that runs out is flushed on the peer and fails alone with
// ETIMEDOUT; other files of the node keep working on the same connection.
// A peer that answers nothing at all, not even the Rflush, within the
// timeout is dead: every call pending on it fails with EHOSTDOWN, the rest
// of the union keeps working, and the next walk to the node dials again.
// Files of a dead connection keep failing: their fids died with it and are
// never moved to a new connection. A blocking Tlock has no timeout: it
// waits on the peer as the lock does, and a Tflush from the kernel (the
// request's context) flushes it on the peer.
//
// Across nodes: rename and link between two nodes (or onto the union
// root) are EXDEV, so mv falls back to copying. statfs, fsync, locks and
// xattrs go to the node that owns the file.
//
// Identity: every operation runs as the attach's user (srv9p's server
// resolves the claim and switches credentials around each request). Local
// files are the export's, called on that very thread, so the kernel checks
// them; a remote node's files are walked from its root attached as that
// user on the one connection to the node (one attach per user), and the
// peer's server runs them as the user, believing the uid because the
// connection is a cluster member's (TLS) or root's (a privileged port).
//
// The kernel clones a fid for every getxattr; a remote fid that was never
// opened is clunked in the background, since it holds nothing (an opened
// one may hold locks, so its clunk is waited for).
package namespace
