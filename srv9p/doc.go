// Package srv9p serves any p9.Attacher in 9P2000.L, 9P2000.u and 9P2000,
// with its own server loop on internal/fcall: hugelgupf/p9 provides the
// p9.File and p9.Attacher contract, nothing on the wire. The local export
// is a file system like any other, in srv9p/export.
//
// What a caller may rely on:
//
//   - NewServer(a, options…).Serve(ctx, ln) answers every connection ln
//     accepts until ctx is done; then it closes the listener and every
//     connection and returns within a few seconds, even if a request is
//     stuck in the file system. Running out of descriptors on accept
//     pauses and retries, never ends Serve.
//   - Where p9.File cannot say what 9P2000.L needs, the server looks for
//     the small interfaces of contract.go on the attacher or the file
//     (Attacher, GetLocker, LockWaiter, Inline, LinkRoot, EntryStater); a
//     file system without one gets the plain p9 behaviour.
//   - Modes pass unmasked (setuid, setgid and sticky reach SetAttr,
//     Create and Mkdir); Create, Mkdir, Symlink and Mknod get the
//     attach's uid. Errors cross as the errno linux.ExtractErrno finds,
//     EIO if none; in 9P2000 and 9P2000.u as Plan 9's words where Linux's
//     client maps them back, with the errno beside them in .u.
//   - A panic in a handler or a file method answers that request EIO and
//     is logged with its stack; the connection goes on.
//   - 9P2000 and 9P2000.u are made from the same p9.File calls as
//     9P2000.L, so every file system speaks all three alike (plan9.go,
//     stat9.go). The rules of each message are written beside the code
//     that enforces them (conn.go, handlers.go, plan9.go, stat9.go).
//
// Identity (identity.go): before a connection's first message the server
// finds what its transport proves (Identify: SO_PEERCRED on a unix
// socket, a privileged source port on TCP; Identifier for others, such as
// a cluster certificate; TrustClaims for a listener that believes
// everyone). A Tattach's claim (n_uname, else the uname looked up in the
// node's passwd database) is believed only as far as the proof goes (see
// Proof); anything else is the anonymous user (Anonymous, default
// 65534:65534), and SquashUsers maps root or everyone to it. Every
// request runs as its fid's user through internal/cred, so the kernel's
// own permission checks apply; requests that only read what a fid's
// descriptor already tells skip the switch (msgs.go). A server not
// running as root refuses other users' attaches with EPERM.
//
// Concurrency (conn.go): one goroutine per connection reads every frame.
// Tversion, Tflush and metadata requests on files that are Inline are
// answered on it; everything else runs on goroutines of its own, at most
// MaxInflight per connection, then in a queue of the same length, and
// only then does the reader stop reading. Each reply goes out whole in one
// write. Request frames and read replies are taken from a byte budget
// (Limits) before they are allocated: a connection that reads no replies
// stops being read once it holds its share.
//
// Limits: MaxConns per listener (more are closed, logged); IdleTimeout
// closes a connection that holds no fid; a reply write that blocks for a
// minute ends its connection; fids, connections and memory per user, and
// a reserve of the process's descriptors, are in limits.go (UserLimits).
package srv9p
