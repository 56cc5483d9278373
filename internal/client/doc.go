// Package client is mfs's 9P2000.L client on the project's codec
// (internal/fcall): the namespace's link to its peers and the `mfs 9p`
// command's link to any server.
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
package client
