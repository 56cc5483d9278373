package srv9p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// 9P message types the filter looks at.
const (
	msgRlerror      = 7
	msgTlock        = 52
	msgRlock        = 53
	msgTgetlock     = 54
	msgTflush       = 108
	msgRgetlock     = 55
	msgTxattrwalk   = 30
	msgRxattrwalk   = 31
	msgTclunk       = 120
	msgTauth        = 102
	msgTattach      = 104
	msgTwalk        = 110
	msgRwalk        = 111
	msgTwalkgetattr = 126

	errENOENT  = 2
	errENOSYS  = 38
	errENOTDIR = 20
	errEINVAL  = 22
	errENOLCK  = 37

	hdrLen = 7
	// readBuf is the filter's read buffer: small requests are read many
	// to a system call, while little of a large payload is copied through
	// it (the rest goes straight into the server's buffer). Requests the
	// filter rewrites are far smaller.
	readBuf = 8 << 10
	// writeHold is how much of an unfinished reply the filter collects
	// before it writes what it has.
	writeHold = 64 << 10
	// maxClient caps the original client string kept in a disguise so
	// the disguised Tlock stays within any msize.
	maxClient = 256
)

// filterConn sits between a connection and the p9 server. Requests: it
// passes every frame through, reading only its 7-byte header, except
//
//   - a Tgetlock, rewritten into a disguised Tlock on the same fid and tag;
//   - a blocking Tlock, rewritten to carry a wait token (see markBlocking
//     and LockWait); a Tflush of its tag, or the end of the connection,
//     cancels the wait;
//   - a Txattrwalk, preceded by a clone walk and, if it fails, followed by
//     a clunk of the clone (see splitXattrwalk);
//   - a Tattach with n_uname, whose attach name gets the uid element in
//     front (see uid.go), and one whose attach name is reserved, refused;
//   - a Tsetattr that sets setuid/setgid bits, whose unused size field
//     gets a token carrying them (see setid.go), in place;
//   - Twalk/Twalkgetattr and Tauth, which only mark their tag (a walk
//     name that is reserved is made one the server refuses).
//
// Replies: it collects each frame's small leading parts and writes the
// frame with one writev, rewriting the reply to a marked tag: the Rlock of
// a disguised Tgetlock becomes an Rgetlock; the replies to the clone walk
// and clunk are dropped; an EINVAL to a walk of plain names becomes ENOTDIR (the p9
// server says EINVAL when a walk starts from a non-directory); a Tauth's
// ENOSYS becomes ENOENT, the answer diod's own clients expect from a server
// without authentication.
//
// Concurrency: the p9 server reads from one goroutine at a time (its
// recvMu) and writes from one at a time (its sendMu), so the read state and
// the write state each have a single user; the tag marks are shared, under
// mu.
type filterConn struct {
	net.Conn
	rd *bufio.Reader

	// read side
	rem    int    // bytes of the current request still to pass through
	inject []byte // rewritten request still to hand out
	// after is a request to hand out once the reply to the one before it
	// has passed (a Txattrwalk after its clone walk, a clunk of the clone
	// after a failed Txattrwalk), then next; the reply side says on
	// afterOK whether to send it.
	after, next []byte
	afterOK     chan bool

	// write side
	wbuf  []byte // collected, unwritten bytes of the current reply
	wleft int    // bytes of the current reply not yet received; 0 at a boundary
	whold bool   // the current reply is marked: collect it whole
	wtag  uint16
	held  []byte      // the failed Rxattrwalk, sent once its clone is clunked
	wv    net.Buffers // writev vector, reused
	warr  [2][]byte   // backing array of wv

	mu     sync.Mutex
	marks  map[uint16]mark
	nmarks atomic.Int32
}

// mark is what the filter remembers about a request in flight.
type mark struct {
	walk  bool       // a walk of plain names
	token string     // a disguised Tgetlock
	wait  string     // a marked blocking Tlock: its token
	clone chan bool  // the clone walk put before a Txattrwalk
	xattr chan bool  // the Txattrwalk after its clone walk
	xtok  XattrToken // the Txattrwalk's name disguise (see xattrerr.go)
	setid uint64     // a Tsetattr carrying setuid/setgid bits (setid.go)
	clunk bool       // the clunk of the clone after a failed Txattrwalk
	auth  bool       // a Tauth
}

func newFilterConn(c net.Conn) *filterConn {
	return &filterConn{Conn: c, rd: bufio.NewReaderSize(c, readBuf), marks: make(map[uint16]mark)}
}

func (f *filterConn) setMark(tag uint16, m mark) {
	f.mu.Lock()
	if _, ok := f.marks[tag]; !ok {
		f.nmarks.Add(1)
	}
	f.marks[tag] = m
	f.mu.Unlock()
}

func (f *filterConn) takeMark(tag uint16) (mark, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.marks[tag]
	if ok {
		delete(f.marks, tag)
		f.nmarks.Add(-1)
	}
	return m, ok
}

func (f *filterConn) hasMark(tag uint16) bool {
	if f.nmarks.Load() == 0 {
		return false
	}
	f.mu.Lock()
	_, ok := f.marks[tag]
	f.mu.Unlock()
	return ok
}

// Read implements io.Reader for the p9 server.
func (f *filterConn) Read(p []byte) (int, error) {
	if len(f.inject) > 0 {
		n := copy(p, f.inject)
		f.inject = f.inject[n:]
		return n, nil
	}
	if f.after != nil {
		// The server reads on while it handles the clone walk (or the
		// Txattrwalk); hold the next request back until the reply has
		// gone by and says whether it is needed.
		if <-f.afterOK {
			f.inject, f.after, f.next = f.after, f.next, nil
		} else {
			f.after, f.next = nil, nil
		}
		return f.Read(p)
	}
	if f.rem == 0 {
		if err := f.nextRequest(); err != nil {
			f.endWaits()
			return 0, err
		}
		if len(f.inject) > 0 {
			return f.Read(p)
		}
	}
	if len(p) > f.rem {
		p = p[:f.rem]
	}
	n, err := f.rd.Read(p)
	f.rem -= n
	if err != nil {
		f.endWaits()
	}
	return n, err
}

// endWaits ends the waits of this connection's blocking Tlocks: the
// client is gone, and the p9 server waits for every request before it
// closes the connection.
func (f *filterConn) endWaits() {
	if f.nmarks.Load() == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.marks {
		if m.wait != "" {
			cancelWaitLock(m.wait)
		}
	}
}

// nextRequest looks at the header of the next request and sets up its
// passing through or its rewriting.
func (f *filterConn) nextRequest() error {
	hdr, err := f.rd.Peek(hdrLen)
	if err != nil {
		if len(hdr) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	size := int(binary.LittleEndian.Uint32(hdr))
	typ := hdr[4]
	tag := binary.LittleEndian.Uint16(hdr[5:])
	if size < hdrLen {
		// Let the server see the bad header and drop the connection.
		f.rem = hdrLen
		return nil
	}
	f.rem = size
	if size > readBuf {
		return nil
	}
	switch typ {
	case msgTauth:
		f.setMark(tag, mark{auth: true})
	case msgTattach:
		frame, err := f.rd.Peek(size)
		if err != nil {
			return err
		}
		if at := rewriteAttach(frame); at != nil {
			f.replace(size, at)
		}
	case msgTlock:
		frame, err := f.rd.Peek(size)
		if err != nil {
			return err
		}
		if lock, token := markBlocking(frame); lock != nil {
			f.replace(size, lock)
			f.setMark(tag, mark{wait: token})
		}
	case msgTsetattr:
		if size == setattrLen {
			frame, err := f.rd.Peek(size)
			if err != nil {
				return err
			}
			if t := markSetid(frame); t != 0 {
				f.setMark(tag, mark{setid: t})
			}
		}
	case msgTflush:
		if size == hdrLen+2 && f.nmarks.Load() > 0 {
			frame, err := f.rd.Peek(size)
			if err != nil {
				return err
			}
			old := binary.LittleEndian.Uint16(frame[hdrLen:])
			f.mu.Lock()
			m := f.marks[old]
			f.mu.Unlock()
			if m.wait != "" {
				// The p9 server's Tflush waits for the request; end
				// the wait so that it comes.
				cancelWaitLock(m.wait)
			}
		}
	case msgTgetlock:
		frame, err := f.rd.Peek(size)
		if err != nil {
			return err
		}
		if lock, token := disguise(frame); lock != nil {
			f.replace(size, lock)
			f.setMark(tag, mark{token: token})
		}
	case msgTxattrwalk:
		frame, err := f.rd.Peek(size)
		if err != nil {
			return err
		}
		if walk, xw, clunk, tok := splitXattrwalk(frame); walk != nil {
			f.replace(size, walk)
			f.after, f.next = xw, clunk
			if f.afterOK == nil {
				f.afterOK = make(chan bool, 1)
			}
			f.setMark(tag, mark{clone: f.afterOK, xtok: tok})
		}
	case msgTwalk, msgTwalkgetattr:
		frame, err := f.rd.Peek(size)
		if err != nil {
			return err
		}
		if plainWalk(frame) {
			f.setMark(tag, mark{walk: true})
		}
	}
	return nil
}

// replace drops the request of size bytes that nextRequest peeked at and
// makes frame what the server reads in its place.
func (f *filterConn) replace(size int, frame []byte) {
	f.rd.Discard(size)
	f.rem = 0
	f.inject = frame
}

// disguise rewrites a Tgetlock frame
//
//	size[4] Tgetlock tag[2] fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]
//
// into the Tlock
//
//	size[4] Tlock tag[2] fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s]
//
// with getLockFlag in flags and the disguise in client_id, and returns it
// with the token it registered. It returns nil for a malformed frame, which
// then goes to the server as it is (and gets an error).
func disguise(frame []byte) ([]byte, string) {
	const fixed = hdrLen + 4 + 1 + 8 + 8 + 4
	client, ok := lockClient(frame, fixed)
	if !ok {
		return nil, ""
	}
	token := newGetLockToken()
	c := disguiseClient(token, client)
	out := make([]byte, 0, fixed+4+2+len(c))
	out = binary.LittleEndian.AppendUint32(out, uint32(fixed+4+2+len(c)))
	out = append(out, msgTlock)
	out = append(out, frame[5:7]...)                                 // tag
	out = append(out, frame[7:12]...)                                // fid, type
	out = binary.LittleEndian.AppendUint32(out, uint32(getLockFlag)) // flags
	out = append(out, frame[12:fixed]...)                            // start, length, proc_id
	out = binary.LittleEndian.AppendUint16(out, uint16(len(c)))      // client_id
	out = append(out, c...)
	return out, token
}

// lockClient returns the client_id string that starts at off in a Tlock or
// Tgetlock frame, cut to maxClient bytes; false if the frame is too short.
func lockClient(frame []byte, off int) (string, bool) {
	if len(frame) < off+2 {
		return "", false
	}
	n := int(binary.LittleEndian.Uint16(frame[off:]))
	if len(frame) < off+2+n {
		return "", false
	}
	client := string(frame[off+2 : off+2+n])
	if len(client) > maxClient {
		client = client[:maxClient]
	}
	return client, true
}

// markBlocking rewrites a blocking Tlock frame
//
//	size[4] Tlock tag[2] fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s]
//
// into the same Tlock with waitLockFlag added to flags and the disguise in
// client_id, and returns it with the token it registered (see LockWait).
// It returns nil for a non-blocking Tlock, which passes as it is, and for
// a malformed frame, which the server then refuses.
func markBlocking(frame []byte) ([]byte, string) {
	const fixed = hdrLen + 4 + 1 + 4 + 8 + 8 + 4
	if len(frame) < fixed+2 {
		return nil, ""
	}
	flags := binary.LittleEndian.Uint32(frame[12:])
	if p9.LockFlags(flags)&p9.LockFlagsBlock == 0 {
		return nil, ""
	}
	client, ok := lockClient(frame, fixed)
	if !ok {
		return nil, ""
	}
	token := newWaitLockToken()
	c := waitLockMagic + token + "\x00" + client
	out := make([]byte, 0, fixed+2+len(c))
	out = binary.LittleEndian.AppendUint32(out, uint32(fixed+2+len(c)))
	out = append(out, frame[4:12]...) // type, tag, fid, lock type
	out = binary.LittleEndian.AppendUint32(out, flags|uint32(waitLockFlag))
	out = append(out, frame[16:fixed]...) // start, length, proc_id
	out = binary.LittleEndian.AppendUint16(out, uint16(len(c)))
	out = append(out, c...)
	return out, token
}

// splitXattrwalk works around the p9 server's Txattrwalk, which gives the
// new fid the very File of the old one, so that clunking the attribute fid
// closes the file the old fid still names (the Linux client clunks it right
// after reading the value). The frame
//
//	size[4] Txattrwalk tag[2] fid[4] newfid[4] name[s]
//
// becomes a clone walk, Twalk tag fid newfid nwname=0, and then the
// Txattrwalk tag newfid newfid name: the attribute fid then shares the
// clone's File, which nothing else uses. If the Txattrwalk fails, the
// server leaves newfid bound to the clone, which the client does not know
// of: Tclunk tag newfid, the third frame returned, frees it before the
// client gets its error. All carry the client's tag (it stays in use until
// the client has its one reply); the clone's Rwalk and Rclunk are not
// passed on. A non-empty name is disguised with a registered token, which
// is returned (see xattrerr.go). It returns nils for a malformed frame.
func splitXattrwalk(frame []byte) (walk, xw, clunk []byte, tok XattrToken) {
	if len(frame) < hdrLen+8+2 {
		return nil, nil, nil, 0
	}
	n := int(binary.LittleEndian.Uint16(frame[hdrLen+8:]))
	if len(frame) != hdrLen+8+2+n {
		return nil, nil, nil, 0
	}
	tag, fid, newfid := frame[5:7], frame[7:11], frame[11:15]
	walk = binary.LittleEndian.AppendUint32(make([]byte, 0, hdrLen+10), hdrLen+10)
	walk = append(walk, msgTwalk)
	walk = append(walk, tag...)
	walk = append(walk, fid...)
	walk = append(walk, newfid...)
	walk = append(walk, 0, 0)
	if name := frame[hdrLen+10:]; n > 0 && n <= 0xffff-64 {
		tok = newXattrToken()
		xw = make([]byte, hdrLen+10, len(frame)+64)
		copy(xw, frame[:hdrLen+10])
		xw = appendXattrName(xw, tok, string(name))
		binary.LittleEndian.PutUint16(xw[hdrLen+8:], uint16(len(xw)-hdrLen-10))
		binary.LittleEndian.PutUint32(xw, uint32(len(xw)))
	} else {
		xw = append([]byte(nil), frame...)
	}
	copy(xw[7:11], newfid)
	clunk = binary.LittleEndian.AppendUint32(make([]byte, 0, hdrLen+4), hdrLen+4)
	clunk = append(clunk, msgTclunk)
	clunk = append(clunk, tag...)
	clunk = append(clunk, newfid...)
	return walk, xw, clunk, tok
}

// plainWalk reports whether a Twalk or Twalkgetattr frame
//
//	size[4] Twalk tag[2] fid[4] newfid[4] nwname[2] nwname*(wname[s])
//
// walks at least one name and only names the server accepts (not empty,
// ".", ".." or containing "/"): an EINVAL to it can then only mean that
// the walk started from or passed through a non-directory. A name that
// starts with reservedPrefix (see uid.go) is made one the server refuses,
// in place: its first byte becomes "/".
func plainWalk(frame []byte) bool {
	b := frame[hdrLen:]
	if len(b) < 10 {
		return false
	}
	nw := int(binary.LittleEndian.Uint16(b[8:]))
	b = b[10:]
	plain := nw > 0
	for range nw {
		if len(b) < 2 {
			return false
		}
		n := int(binary.LittleEndian.Uint16(b))
		if len(b) < 2+n {
			return false
		}
		name := b[2 : 2+n]
		b = b[2+n:]
		switch {
		case n == 0 || string(name) == "." || string(name) == "..":
			plain = false
		case name[0] == reservedPrefix[0] && strings.HasPrefix(string(name), reservedPrefix):
			name[0] = '/'
			plain = false
		case plain && bytes.IndexByte(name, '/') >= 0:
			plain = false
		}
	}
	return plain
}

// Write implements io.Writer for the p9 server, which writes each reply as
// its header, its fixed part and its payload in turn.
func (f *filterConn) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if f.wleft == 0 {
			// Collect the header.
			k := min(hdrLen-len(f.wbuf), len(p))
			f.wbuf = append(f.wbuf, p[:k]...)
			p = p[k:]
			if len(f.wbuf) < hdrLen {
				break
			}
			size := int(binary.LittleEndian.Uint32(f.wbuf))
			if size < hdrLen {
				size = hdrLen
			}
			f.wleft = size - hdrLen
			f.wtag = binary.LittleEndian.Uint16(f.wbuf[5:])
			f.whold = f.hasMark(f.wtag)
			if f.wleft == 0 {
				if err := f.endReply(nil); err != nil {
					return 0, err
				}
				continue
			}
		}
		if len(p) >= f.wleft {
			last := p[:f.wleft]
			p = p[f.wleft:]
			f.wleft = 0
			if err := f.endReply(last); err != nil {
				return 0, err
			}
			continue
		}
		if f.whold || len(f.wbuf)+len(p) <= writeHold {
			f.wbuf = append(f.wbuf, p...)
			f.wleft -= len(p)
			break
		}
		// A large piece that does not end the reply: send what we have.
		f.wleft -= len(p)
		if err := f.writev(f.wbuf, p); err != nil {
			return 0, err
		}
		f.wbuf = f.wbuf[:0]
		break
	}
	return total, nil
}

// endReply writes the collected reply and its last piece, rewritten if its
// tag is marked.
func (f *filterConn) endReply(last []byte) error {
	out := f.wbuf
	if f.whold {
		out = append(out, last...)
		f.wbuf, last = out, nil
		if m, ok := f.takeMark(f.wtag); ok {
			out = f.rewriteReply(out, m)
		}
	}
	var err error
	if len(out) > 0 || len(last) > 0 {
		err = f.writev(out, last)
	}
	f.wbuf = f.wbuf[:0]
	f.whold = false
	if cap(f.wbuf) > writeHold {
		f.wbuf = nil
	}
	return err
}

// rewriteReply returns the reply to send for a marked request (empty: send
// nothing).
func (f *filterConn) rewriteReply(r []byte, m mark) []byte {
	typ := r[4]
	tag := binary.LittleEndian.Uint16(r[5:])
	switch {
	case m.clone != nil:
		// The clone walk before a Txattrwalk: swallow its Rwalk and let
		// the Txattrwalk go; an error is the client's answer.
		if typ != msgRwalk {
			if m.xtok != 0 {
				takeXattrErr(m.xtok)
			}
			m.clone <- false
			return r
		}
		f.setMark(tag, mark{xattr: m.clone, xtok: m.xtok})
		m.clone <- true
		return r[:0]
	case m.xattr != nil:
		// The Txattrwalk: on success, done; on failure, hold the error
		// until the clone is clunked, with the errno GetXattr recorded
		// in place of the server's EINVAL.
		var e linux.Errno
		if m.xtok != 0 {
			e = takeXattrErr(m.xtok)
		}
		if typ == msgRxattrwalk {
			m.xattr <- false
			return r
		}
		if e != 0 && typ == msgRlerror && len(r) >= hdrLen+4 && binary.LittleEndian.Uint32(r[hdrLen:]) == errEINVAL {
			binary.LittleEndian.PutUint32(r[hdrLen:], uint32(e))
		}
		f.held = append(f.held[:0], r...)
		f.setMark(tag, mark{clunk: true})
		m.xattr <- true
		return r[:0]
	case m.clunk:
		// The clone is gone: now the client gets its error.
		return f.held
	case m.auth:
		// The p9 server does no authentication and says ENOSYS; diod
		// says ENOENT, which diod's client library (diodls, diodcat)
		// takes as "no authentication needed" and ENOSYS as failure.
		if typ == msgRlerror && len(r) >= hdrLen+4 && binary.LittleEndian.Uint32(r[hdrLen:]) == errENOSYS {
			binary.LittleEndian.PutUint32(r[hdrLen:], errENOENT)
		}
		return r
	case m.walk:
		if typ == msgRlerror && len(r) >= hdrLen+4 && binary.LittleEndian.Uint32(r[hdrLen:]) == errEINVAL {
			binary.LittleEndian.PutUint32(r[hdrLen:], errENOTDIR)
		}
		return r
	case m.wait != "":
		takeWaitLock(m.wait)
		return r
	case m.setid != 0:
		takeSetid(m.setid)
		return r
	case m.token != "":
		info, answered := takeGetLock(m.token)
		if typ != msgRlock {
			return r // an Rlerror: the error is the answer
		}
		tag := r[5:7]
		if !answered {
			// The file did not understand the disguise: refuse rather
			// than make up an answer.
			out := binary.LittleEndian.AppendUint32(r[:0], hdrLen+4)
			out = append(out, msgRlerror)
			out = append(out, tag...)
			return binary.LittleEndian.AppendUint32(out, errENOLCK)
		}
		if len(info.Client) > 0xffff {
			info.Client = info.Client[:0xffff]
		}
		out := make([]byte, 0, hdrLen+1+8+8+4+2+len(info.Client))
		out = binary.LittleEndian.AppendUint32(out, uint32(cap(out)))
		out = append(out, msgRgetlock)
		out = append(out, tag...)
		out = append(out, byte(info.Type))
		out = binary.LittleEndian.AppendUint64(out, info.Start)
		out = binary.LittleEndian.AppendUint64(out, info.Length)
		out = binary.LittleEndian.AppendUint32(out, uint32(info.PID))
		out = binary.LittleEndian.AppendUint16(out, uint16(len(info.Client)))
		return append(out, info.Client...)
	}
	return r
}

// writev writes a and b with one system call where the connection allows.
func (f *filterConn) writev(a, b []byte) error {
	f.wv = f.warr[:0]
	if len(a) > 0 {
		f.wv = append(f.wv, a)
	}
	if len(b) > 0 {
		f.wv = append(f.wv, b)
	}
	_, err := f.wv.WriteTo(f.Conn)
	f.warr = [2][]byte{} // do not keep the server's buffers alive
	return err
}

// Close implements io.Closer; the p9 server closes both directions, after
// its last request is done. Tgetlocks that never got their reply leave the
// process-wide table here.
func (f *filterConn) Close() error {
	f.mu.Lock()
	for tag, m := range f.marks {
		if m.token != "" {
			takeGetLock(m.token)
		}
		if m.wait != "" {
			takeWaitLock(m.wait)
		}
		if m.xtok != 0 {
			takeXattrErr(m.xtok)
		}
		if m.setid != 0 {
			takeSetid(m.setid)
		}
		delete(f.marks, tag)
	}
	f.mu.Unlock()
	return f.Conn.Close()
}

var _ io.ReadWriteCloser = (*filterConn)(nil)
