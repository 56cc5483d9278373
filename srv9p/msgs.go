package srv9p

import (
	"log/slog"
	"runtime/debug"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/cred"
	"mfs/internal/fcall"
)

// msgInfo is what the server knows about one request type.
type msgInfo struct {
	// fid returns the fid the request acts on (the directory for
	// requests that name an entry); nil for requests on no fid.
	fid func(fcall.Msg) uint32
	// inline: the request may run on the reader when its file is Inline
	// (contract.go): metadata requests that only call the file system.
	inline bool
	// fromRoot: in 9P2000 and 9P2000.u the request may walk from the
	// attach root ("..", symlinks, ORCLOSE), which must be Inline too.
	fromRoot bool
	// cred says whose credentials the request runs with.
	cred credUse
	// handle answers the request (writes its reply).
	handle func(c *conn, r *request)
}

// credUse says whose credentials a request runs with.
type credUse uint8

const (
	// credFid: the fid's user, fully switched.
	credFid credUse = iota
	// credNone: the server's own. The request only reads what the fid's
	// descriptor already tells (fstat, fstatfs, readlinkat of the
	// descriptor itself): the kernel checks no permission for those, so
	// they skip the switch.
	credNone
	// credLookup: a walk switches fsuid, fsgid and groups but keeps the
	// capabilities (cred.ForLookup): a lookup consults only the
	// file-system ones, which the switch of fsuid drops by itself.
	credLookup
	// credClunk: the server's own, unless the clunk sets an attribute (a
	// Txattrcreate fid) or removes a file (ORCLOSE): then the fid's user.
	credClunk
)

// msgs holds, by message type, what the server knows about each request
// it answers. A type without a handler is answered ENOSYS. Reads, writes,
// readdir, fsync, locks, and the requests that reach two files (Tlink,
// Trename) or build on several calls (Tcreate, Twstat, Tremove,
// Txattrcreate's value) never run on the reader.
var msgs = [256]msgInfo{
	fcall.MsgTauth:   {handle: answer((*conn).auth)},
	fcall.MsgTattach: {handle: answer((*conn).attach)},

	fcall.MsgTwalk:     {fid: fidOf(func(m *fcall.Twalk) uint32 { return m.Fid }), inline: true, fromRoot: true, cred: credLookup, handle: answer((*conn).walk)},
	fcall.MsgTclunk:    {fid: fidOf(func(m *fcall.Tclunk) uint32 { return m.Fid }), inline: true, fromRoot: true, cred: credClunk, handle: answer((*conn).clunkMsg)},
	fcall.MsgTremove:   {fid: fidOf(func(m *fcall.Tremove) uint32 { return m.Fid }), handle: answer((*conn).remove)},
	fcall.MsgTgetattr:  {fid: fidOf(func(m *fcall.Tgetattr) uint32 { return m.Fid }), inline: true, cred: credNone, handle: answer((*conn).getattr)},
	fcall.MsgTsetattr:  {fid: fidOf(func(m *fcall.Tsetattr) uint32 { return m.Fid }), inline: true, handle: answer((*conn).setattr)},
	fcall.MsgTlopen:    {fid: fidOf(func(m *fcall.Tlopen) uint32 { return m.Fid }), inline: true, handle: answer((*conn).open)},
	fcall.MsgTlcreate:  {fid: fidOf(func(m *fcall.Tlcreate) uint32 { return m.Fid }), inline: true, handle: answer((*conn).create)},
	fcall.MsgTmkdir:    {fid: fidOf(func(m *fcall.Tmkdir) uint32 { return m.Dfid }), inline: true, handle: answer((*conn).mkdir)},
	fcall.MsgTsymlink:  {fid: fidOf(func(m *fcall.Tsymlink) uint32 { return m.Fid }), inline: true, handle: answer((*conn).symlink)},
	fcall.MsgTmknod:    {fid: fidOf(func(m *fcall.Tmknod) uint32 { return m.Dfid }), inline: true, handle: answer((*conn).mknod)},
	fcall.MsgTunlinkat: {fid: fidOf(func(m *fcall.Tunlinkat) uint32 { return m.Dfid }), inline: true, handle: answer((*conn).unlinkat)},
	fcall.MsgTrenameat: {fid: fidOf(func(m *fcall.Trenameat) uint32 { return m.OldDfid }), inline: true, handle: answer((*conn).renameat)},
	fcall.MsgTrename:   {fid: fidOf(func(m *fcall.Trename) uint32 { return m.Fid }), handle: answer((*conn).rename)},
	fcall.MsgTlink:     {fid: fidOf(func(m *fcall.Tlink) uint32 { return m.Dfid }), handle: answer((*conn).link)},
	fcall.MsgTreadlink: {fid: fidOf(func(m *fcall.Treadlink) uint32 { return m.Fid }), inline: true, cred: credNone, handle: answer((*conn).readlink)},
	fcall.MsgTstatfs:   {fid: fidOf(func(m *fcall.Tstatfs) uint32 { return m.Fid }), inline: true, cred: credNone, handle: answer((*conn).statfs)},

	fcall.MsgTxattrwalk:   {fid: fidOf(func(m *fcall.Txattrwalk) uint32 { return m.Fid }), inline: true, handle: answer((*conn).xattrWalk)},
	fcall.MsgTxattrcreate: {fid: fidOf(func(m *fcall.Txattrcreate) uint32 { return m.Fid }), handle: answer((*conn).xattrCreate)},

	fcall.MsgTread:    {fid: fidOf(func(m *fcall.Tread) uint32 { return m.Fid }), handle: answerSelf((*conn).read)},
	fcall.MsgTwrite:   {fid: fidOf(func(m *fcall.Twrite) uint32 { return m.Fid }), handle: answer((*conn).writeFile)},
	fcall.MsgTreaddir: {fid: fidOf(func(m *fcall.Treaddir) uint32 { return m.Fid }), handle: answerSelf((*conn).readdir)},
	fcall.MsgTfsync:   {fid: fidOf(func(m *fcall.Tfsync) uint32 { return m.Fid }), handle: answer((*conn).fsync)},
	fcall.MsgTlock:    {fid: fidOf(func(m *fcall.Tlock) uint32 { return m.Fid }), handle: answerSelf((*conn).lock)},
	fcall.MsgTgetlock: {fid: fidOf(func(m *fcall.Tgetlock) uint32 { return m.Fid }), handle: answer((*conn).getlock)},

	// 9P2000 and 9P2000.u (plan9.go, stat9.go).
	fcall.MsgTopen:   {fid: fidOf(func(m *fcall.Topen) uint32 { return m.Fid }), inline: true, handle: answer((*conn).open9)},
	fcall.MsgTcreate: {fid: fidOf(func(m *fcall.Tcreate) uint32 { return m.Fid }), handle: answer((*conn).create9)},
	fcall.MsgTstat:   {fid: fidOf(func(m *fcall.Tstat) uint32 { return m.Fid }), inline: true, cred: credNone, handle: answer((*conn).stat9)},
	fcall.MsgTwstat:  {fid: fidOf(func(m *fcall.Twstat) uint32 { return m.Fid }), handle: answer((*conn).wstat9)},
}

// fidOf makes the fid function of a table row from a field of M.
func fidOf[M fcall.Msg](f func(M) uint32) func(fcall.Msg) uint32 {
	return func(m fcall.Msg) uint32 { return f(m.(M)) }
}

// answer makes the handler of a table row from a method that returns the
// reply (or an error to answer).
func answer[M fcall.Msg](h func(*conn, M) (fcall.Msg, error)) func(*conn, *request) {
	return func(c *conn, r *request) {
		rep, err := h(c, r.msg.(M))
		c.reply(r, rep, err)
	}
}

// answerSelf makes the handler of a table row from a method that writes
// its reply itself.
func answerSelf[M fcall.Msg](h func(*conn, *request, M)) func(*conn, *request) {
	return func(c *conn, r *request) { h(c, r, r.msg.(M)) }
}

// inlineOK reports whether m may run on the reader: a metadata request on
// a file that is Inline (see contract.go).
func (c *conn) inlineOK(m fcall.Msg) bool {
	info := &msgs[m.Type()]
	if !info.inline || info.fid == nil {
		return false
	}
	f := c.fids.get(info.fid(m))
	if f == nil {
		return true // answered at once: EBADF
	}
	defer f.release()
	if !isInline(f.file) {
		return false
	}
	if info.fromRoot && c.legacy() && f.root != nil {
		return isInline(f.root.file)
	}
	return true
}

// isInline reports whether f is Inline and keeps its promise.
func isInline(f p9.File) bool {
	in, ok := f.(Inline)
	return ok && in.Inline()
}

// credOf returns the credentials a request runs with (see credUse).
func (c *conn) credOf(m fcall.Msg) *cred.Cred {
	info := &msgs[m.Type()]
	if info.fid == nil || info.cred == credNone {
		return nil
	}
	f := c.fids.get(info.fid(m))
	if f == nil {
		return nil
	}
	defer f.release()
	switch info.cred {
	case credClunk:
		f.mu.Lock()
		x, rclose := f.xattr, f.rclose
		f.mu.Unlock()
		if (x == nil || !x.create) && !rclose {
			return nil
		}
	case credLookup:
		return f.cred.ForLookup()
	}
	return f.cred
}

// handle runs one request as the user of its fid and writes its reply. A
// panic in the handler or the file system answers the request EIO and is
// logged with its stack; the connection goes on (cred.RunAs has put the
// server's credentials back on the thread by then).
func (c *conn) handle(r *request) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("9p: request panicked", slog.String("request", r.msg.String()), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			if r.frame != nil {
				c.reply(r, nil, linux.EIO)
			}
		}
	}()
	h := msgs[r.msg.Type()].handle
	if h == nil {
		c.reply(r, nil, linux.ENOSYS)
		return
	}
	if err := c.overLimit(r.msg); err != nil {
		// Refused before the credentials are switched: a flood past a
		// limit costs little.
		c.reply(r, nil, err)
		return
	}
	if err := cred.RunAs(c.credOf(r.msg), func() { h(c, r) }); err != nil {
		c.log.Error("9p: switching credentials failed", slog.String("error", err.Error()))
		if r.frame != nil {
			c.reply(r, nil, linux.EPERM)
		}
	}
}
