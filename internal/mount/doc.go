// Package mount mounts a node's namespace with the kernel's FUSE and
// serves it in the node's own process: files of this node through the
// export's code, files of other nodes through the namespace's peer
// connections, with no 9P hop inside the node.
//
// # Context per process
//
// The root lists what the namespace root lists (1 … N, home, here,
// selected, nodes) plus its own ctl. home and selected are resolved per
// calling process, as MOSIX had them: the process's own setting, else
// its nearest ancestor's (the parent chain of /proc/PID/stat), else the
// defaults (home = here, selected = home). A setting is made by writing
// "select N" or "home N" to ctl; it belongs to the whole process (FUSE
// names the calling thread; /proc/TID/status names its process), is
// keyed by pid and start time, so a reused pid inherits nothing, and is
// dropped once the process is gone. Reading ctl gives
// "here H home H selected S from SOURCE", SOURCE being default, own or
// "pid P" (the ancestor the setting comes from). A bad command or a node
// that cannot be used fails the write with the namespace's errno
// (EINVAL, ENOENT, EHOSTDOWN) and changes nothing.
//
// home, here, selected and N are the one inode of node N's directory,
// whichever name reached it; every entry and attribute timeout is 0, so
// the kernel asks again at every use and never answers one process from
// another's lookup, and a change on any node's disk is seen at once.
//
// # Identity
//
// Run as root, the mount allows other users, and each request runs as
// its caller: the request's uid and gid, the caller's groups from /proc,
// switched on the serving thread as srv9p does (internal/cred), and the
// namespace attached as that uid on every peer. Run by another user, it
// serves that user alone. Permission checks are the kernel's on the
// owning node (no default_permissions), so each caller gets the errno a
// local file system would give.
//
// # Files and locks
//
// An inode holds no file of its own: operations use the caller's walked
// file of it, kept (up to MaxFids) until the kernel forgets the inode,
// else walked from the parent's. An open file is a fresh open of the
// caller's file. fcntl locks belong to the process (one lock fid per
// inode and lock owner, released when the owner closes any descriptor of
// the file); flock locks to the open file.
package mount
