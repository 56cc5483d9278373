package namespace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Reserved tags and fids for the requests the namespace sends itself on a
// peer connection (see raw.go). The p9 client allocates both from 1 upwards
// and reuses freed values, so it reaches these ranges only with more than
// 61,000 requests in flight at once (tags) or four billion live fids; wire
// refuses a p9 frame that would use a reserved tag rather than misroute it.
const (
	firstRawTag = 0xF000
	lastRawTag  = 0xFFFE // 0xFFFF is NOTAG (Tversion)
	firstRawFid = 0xF0000000
	maxFrame    = 4 << 20 // the p9 server's largest message
	wireHeader  = 7
	wireMaxFill = 64 << 10 // non-final pieces up to this size are coalesced
	wireRBuf    = 4 << 10  // read buffer; larger body reads bypass it
)

var (
	errWireClosed   = errors.New("peer connection closed")
	errFrameOverrun = errors.New("write runs past the end of its 9P frame")
	errReservedTag  = errors.New("p9 client used a tag reserved for injected requests")
	errBadFrame     = errors.New("malformed 9P frame from peer")
	errNoRawTags    = errors.New("no free tag for an injected request")
)

// wire sits between the p9 client and a peer's net.Conn. It lets the
// namespace send 9P requests of its own (raw.go) on the same connection,
// so they can name the client's fids, which the p9 client cannot do for
// xattrs and locks.
//
// Write side: the p9 client writes one message as 2–3 Write calls. wire
// holds wmu from the first byte of a frame to the last, coalesces the small
// leading pieces and sends the whole frame with one writev, so injected
// frames never land inside a client frame.
//
// Read side: whoever needs a reply takes the reader role (rmu, reading)
// and reads the next frame header from the socket itself; there is no
// reader goroutine and no hand-off on the data path. Reads go through a
// small buffer (rbuf, wireRBuf bytes), so a short reply costs one read
// from the socket for header and body together; a body read of at least
// wireRBuf bytes with the buffer empty (the payload of a big Rread) goes
// straight from the socket into the caller's buffer, so of a big payload
// only what arrived with the header (less than wireRBuf bytes) is
// copied. The p9 client, in Read, dispatches replies on reserved tags to
// their waiters and reads its own frames' bodies into its buffers,
// keeping the role until the body is consumed. An injected request
// waiting while the p9 client is not reading takes the role too: a p9
// frame it meets is parked (parked) for the p9 client, which has a
// request waiting for it and will come to read it, taking the role over
// with it.
type wire struct {
	nc net.Conn

	// Write side. wmu is held across the Write calls of one p9 frame;
	// wleft/wfill are only touched by the holder.
	wmu   sync.Mutex
	wleft int
	wfill []byte

	// Read side. rmu guards reading and parked; rcond signals their
	// changes and every dispatched reply. cur is the p9 frame being read,
	// touched only by the p9 client's reading goroutine (the client
	// serializes its reads) while it holds the role. rbuf[rpos:rend] are
	// bytes read from the socket and not yet consumed, touched only by
	// the holder of the role.
	rmu     sync.Mutex
	rcond   *sync.Cond
	reading bool
	parked  *lentFrame
	cur     lentFrame
	rbuf    []byte
	rpos    int
	rend    int

	// Injected requests.
	mu      sync.Mutex
	waiting map[uint16]chan rawReply
	freeTag []uint16
	nextTag uint16
	freeFid []uint32
	nextFid uint32

	dead     chan struct{}
	deadOnce sync.Once
	err      error // set before dead is closed
}

// lentFrame is a p9 frame whose header has been read.
type lentFrame struct {
	active bool // a frame is being read by the client
	hdr    [wireHeader]byte
	hoff   int // header bytes already given to the client
	left   int // body bytes not yet read (in rbuf or the socket)
}

// rawReply is a reply to an injected request.
type rawReply struct {
	typ  uint8
	body []byte
}

func newWire(nc net.Conn) *wire {
	w := &wire{
		nc:      nc,
		waiting: map[uint16]chan rawReply{},
		nextTag: firstRawTag,
		nextFid: firstRawFid,
		dead:    make(chan struct{}),
		rbuf:    make([]byte, wireRBuf),
	}
	w.rcond = sync.NewCond(&w.rmu)
	return w
}

// fail closes the connection once; every pending and later call fails.
func (w *wire) fail(err error) {
	w.deadOnce.Do(func() {
		if err == nil {
			err = errWireClosed
		}
		w.err = err
		close(w.dead)
		w.nc.Close()
		w.rmu.Lock()
		w.rcond.Broadcast()
		w.rmu.Unlock()
	})
}

// Close implements io.Closer for the p9 client.
func (w *wire) Close() error {
	w.fail(errWireClosed)
	return nil
}

// LocalAddr and the rest of net.Conn are delegated, so wire can be given
// to internal/dial.Client.
func (w *wire) LocalAddr() net.Addr                { return w.nc.LocalAddr() }
func (w *wire) RemoteAddr() net.Addr               { return w.nc.RemoteAddr() }
func (w *wire) SetDeadline(t time.Time) error      { return w.nc.SetDeadline(t) }
func (w *wire) SetReadDeadline(t time.Time) error  { return w.nc.SetReadDeadline(t) }
func (w *wire) SetWriteDeadline(t time.Time) error { return w.nc.SetWriteDeadline(t) }

// Write implements io.Writer for the p9 client (and the version exchange
// of internal/dial): p is the next piece of the current frame.
//
// Once the connection has failed, Write drops what it is given and
// reports success: the p9 client learns of the failure from its next read,
// which fails every request pending on it. A failed write must not reach
// the p9 client (v0.4.1): its sendRecv then returns with the request
// still in the client's pending table and puts the request's response
// object back into a process-wide sync.Pool, where the client's reader
// later posts its connection error; another connection's request that
// takes the object from the pool gets that stale error as its answer
// (seen as "version: wait: socket error: namespace closed" when dialling
// an unrelated peer).
func (w *wire) Write(p []byte) (int, error) {
	if w.wleft == 0 {
		if len(p) < wireHeader {
			return 0, fmt.Errorf("write: %d-byte frame start: %w", len(p), errBadFrame)
		}
		size := int(binary.LittleEndian.Uint32(p))
		if tag := binary.LittleEndian.Uint16(p[5:]); tag >= firstRawTag && tag <= lastRawTag {
			return 0, errReservedTag
		}
		if size < wireHeader || size > maxFrame {
			return 0, fmt.Errorf("write: frame size %d: %w", size, errBadFrame)
		}
		w.wmu.Lock()
		w.wleft = size
	}
	if len(p) > w.wleft {
		w.abortFrame(errFrameOverrun)
		return 0, errFrameOverrun
	}
	w.wleft -= len(p)
	if w.isDead() {
		w.dropPiece()
		return len(p), nil
	}
	if w.wleft > 0 && len(w.wfill)+len(p) <= wireMaxFill {
		w.wfill = append(w.wfill, p...)
		return len(p), nil
	}
	var err error
	if len(w.wfill) == 0 {
		_, err = w.nc.Write(p)
	} else {
		bufs := net.Buffers{w.wfill, p}
		_, err = bufs.WriteTo(w.nc)
		w.wfill = w.wfill[:0]
	}
	if err != nil {
		w.fail(err)
		w.dropPiece()
		return len(p), nil
	}
	if w.wleft == 0 {
		w.wmu.Unlock()
	}
	return len(p), nil
}

// dropPiece forgets a piece of a frame written to a dead connection,
// keeping count of the frame so that its end releases wmu.
func (w *wire) dropPiece() {
	w.wfill = w.wfill[:0]
	if w.wleft == 0 {
		w.wmu.Unlock()
	}
}

// abortFrame drops a half-written frame; the stream is unusable after it.
func (w *wire) abortFrame(err error) {
	w.wleft = 0
	w.wfill = w.wfill[:0]
	w.wmu.Unlock()
	w.fail(err)
}

// Read implements io.Reader for the p9 client: it returns bytes of one
// p9 frame at a time, never crossing into the next frame.
func (w *wire) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c := &w.cur
	if !c.active {
		f, err := w.nextP9Frame()
		if err != nil {
			return 0, err
		}
		*c = f
	}
	if c.hoff < wireHeader {
		n := copy(p, c.hdr[c.hoff:])
		c.hoff += n
		if c.hoff == wireHeader && c.left == 0 {
			w.endFrame()
		}
		return n, nil
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := w.readBody(p)
	c.left -= n
	if err != nil {
		return n, err
	}
	if c.left == 0 {
		w.endFrame()
	}
	return n, nil
}

// endFrame gives up the reader role after a p9 frame.
func (w *wire) endFrame() {
	w.cur.active = false
	w.rmu.Lock()
	w.reading = false
	w.rcond.Broadcast()
	w.rmu.Unlock()
}

// nextP9Frame takes the reader role and returns the next p9 frame
// (parked by a waiter, or read here), dispatching reserved replies met on
// the way. The caller keeps the role until the frame's body is read.
func (w *wire) nextP9Frame() (lentFrame, error) {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	for {
		if w.isDead() {
			return lentFrame{}, w.err
		}
		if w.parked != nil {
			// The waiter that parked it kept the role for us.
			f := *w.parked
			w.parked = nil
			return f, nil
		}
		if w.reading {
			w.rcond.Wait()
			continue
		}
		w.reading = true
		w.rmu.Unlock()
		f, mine, err := w.readFrame()
		w.rmu.Lock()
		if err != nil {
			w.reading = false
			w.rcond.Broadcast()
			return lentFrame{}, err
		}
		if mine {
			return f, nil
		}
		w.reading = false
		w.rcond.Broadcast()
	}
}

// readBody reads up to len(p) bytes of a frame body the caller has the
// reader role for: what rbuf holds, else (len(p) ≥ wireRBuf) straight from
// the socket, else through rbuf with one read of whatever has arrived.
func (w *wire) readBody(p []byte) (int, error) {
	if w.rpos == w.rend {
		if len(p) >= len(w.rbuf) {
			n, err := w.nc.Read(p)
			if err != nil {
				w.fail(err)
			}
			return n, err
		}
		if err := w.fill(1); err != nil {
			return 0, err
		}
	}
	n := copy(p, w.rbuf[w.rpos:w.rend])
	w.rpos += n
	return n, nil
}

// fill reads from the socket until rbuf holds at least n (≤ wireRBuf)
// unconsumed bytes, taking whatever else has arrived too.
func (w *wire) fill(n int) error {
	if w.rpos == w.rend {
		w.rpos, w.rend = 0, 0
	} else if w.rpos+n > len(w.rbuf) {
		w.rend = copy(w.rbuf, w.rbuf[w.rpos:w.rend])
		w.rpos = 0
	}
	for w.rend-w.rpos < n {
		m, err := w.nc.Read(w.rbuf[w.rend:])
		w.rend += m
		if err != nil {
			if err == io.EOF && w.rend-w.rpos > 0 {
				err = io.ErrUnexpectedEOF
			}
			w.fail(err)
			return err
		}
	}
	return nil
}

// readFrame reads one frame header (the caller has the reader role). A
// reply on a reserved tag is read whole and dispatched (mine = false); a
// p9 frame is returned with its body still unread (mine = true).
func (w *wire) readFrame() (f lentFrame, mine bool, err error) {
	if err := w.fill(wireHeader); err != nil {
		return f, false, err
	}
	w.rpos += copy(f.hdr[:], w.rbuf[w.rpos:w.rend])
	size := int(binary.LittleEndian.Uint32(f.hdr[:]))
	tag := binary.LittleEndian.Uint16(f.hdr[5:])
	if size < wireHeader || size > maxFrame {
		err := fmt.Errorf("read: frame size %d: %w", size, errBadFrame)
		w.fail(err)
		return f, false, err
	}
	if tag < firstRawTag || tag > lastRawTag {
		f.active, f.left = true, size-wireHeader
		return f, true, nil
	}
	body := make([]byte, size-wireHeader)
	for got := 0; got < len(body); {
		n, err := w.readBody(body[got:])
		got += n
		if err != nil {
			return f, false, err
		}
	}
	w.mu.Lock()
	ch := w.waiting[tag]
	delete(w.waiting, tag)
	w.mu.Unlock()
	if ch != nil {
		ch <- rawReply{typ: f.hdr[4], body: body}
	}
	return f, false, nil
}

// isDead reports whether the wire has failed.
func (w *wire) isDead() bool {
	select {
	case <-w.dead:
		return true
	default:
		return false
	}
}

// await waits for the reply on ch, reading frames itself while nobody
// else does.
func (w *wire) await(ch chan rawReply) (rawReply, error) {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	for {
		select {
		case r := <-ch:
			return r, nil
		default:
		}
		if w.isDead() {
			return rawReply{}, w.err
		}
		if w.reading || w.parked != nil {
			w.rcond.Wait()
			continue
		}
		w.reading = true
		w.rmu.Unlock()
		f, mine, err := w.readFrame()
		w.rmu.Lock()
		if err != nil {
			w.reading = false
			w.rcond.Broadcast()
			return rawReply{}, err
		}
		if mine {
			// A p9 reply: park it; the role passes to the p9 client.
			w.parked = &f
		} else {
			w.reading = false
		}
		w.rcond.Broadcast()
	}
}

// rpc sends one injected request and waits for its reply. It does not
// bound the wait: callers run under the peer's per-call timeout, which
// fails the wire.
func (w *wire) rpc(typ uint8, body []byte) (rawReply, error) {
	ch := make(chan rawReply, 1)
	w.mu.Lock()
	var tag uint16
	switch {
	case len(w.freeTag) > 0:
		tag = w.freeTag[len(w.freeTag)-1]
		w.freeTag = w.freeTag[:len(w.freeTag)-1]
	case w.nextTag <= lastRawTag:
		tag = w.nextTag
		w.nextTag++
	default:
		w.mu.Unlock()
		return rawReply{}, errNoRawTags
	}
	w.waiting[tag] = ch
	w.mu.Unlock()
	release := func() {
		w.mu.Lock()
		delete(w.waiting, tag)
		w.freeTag = append(w.freeTag, tag)
		w.mu.Unlock()
	}

	frame := make([]byte, wireHeader, wireHeader+len(body))
	binary.LittleEndian.PutUint32(frame, uint32(wireHeader+len(body)))
	frame[4] = typ
	binary.LittleEndian.PutUint16(frame[5:], tag)
	frame = append(frame, body...)
	w.wmu.Lock()
	_, err := w.nc.Write(frame)
	w.wmu.Unlock()
	if err != nil {
		w.fail(err)
		release()
		return rawReply{}, err
	}
	r, err := w.await(ch)
	if err != nil {
		// The tag is not reused: the connection is gone.
		return rawReply{}, err
	}
	release()
	return r, nil
}

// allocFid returns a fid from the reserved range.
func (w *wire) allocFid() uint32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.freeFid); n > 0 {
		f := w.freeFid[n-1]
		w.freeFid = w.freeFid[:n-1]
		return f
	}
	f := w.nextFid
	w.nextFid++
	return f
}

// putFid returns a clunked fid to the reserved range.
func (w *wire) putFid(f uint32) {
	w.mu.Lock()
	w.freeFid = append(w.freeFid, f)
	w.mu.Unlock()
}
