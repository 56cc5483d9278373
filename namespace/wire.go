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
// Read side: one goroutine (readLoop) reads each frame header. Replies on
// reserved tags are read whole and handed to their waiter; any other frame
// is lent to the p9 client: its Read calls read the body straight from the
// socket into the client's own buffers (no copy), and readLoop waits until
// the body is consumed before it reads the next header.
type wire struct {
	nc net.Conn

	// Write side. wmu is held across the Write calls of one p9 frame;
	// wleft/wfill are only touched by the holder.
	wmu   sync.Mutex
	wleft int
	wfill []byte

	// Read side, p9 client half: touched only by the goroutine in Read,
	// which the p9 client serializes.
	cur      lentFrame
	lend     chan lentFrame
	returned chan struct{}

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

// lentFrame is a p9 frame whose header readLoop has read.
type lentFrame struct {
	active bool // a frame is being read by the client
	hdr    [wireHeader]byte
	hoff   int // header bytes already given to the client
	left   int // body bytes still in the socket
}

// rawReply is a reply to an injected request.
type rawReply struct {
	typ  uint8
	body []byte
}

func newWire(nc net.Conn) *wire {
	w := &wire{
		nc:       nc,
		lend:     make(chan lentFrame),
		returned: make(chan struct{}, 1),
		waiting:  map[uint16]chan rawReply{},
		nextTag:  firstRawTag,
		nextFid:  firstRawFid,
		dead:     make(chan struct{}),
	}
	go w.readLoop()
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
		w.abortFrame()
		return 0, errFrameOverrun
	}
	w.wleft -= len(p)
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
		w.abortFrame()
		w.fail(err)
		return 0, err
	}
	if w.wleft == 0 {
		w.wmu.Unlock()
	}
	return len(p), nil
}

// abortFrame drops a half-written frame; the stream is unusable after it.
func (w *wire) abortFrame() {
	w.wleft = 0
	w.wfill = w.wfill[:0]
	w.wmu.Unlock()
	w.fail(errFrameOverrun)
}

// Read implements io.Reader for the p9 client: it returns bytes of the
// frame readLoop lent it, never crossing into the next frame.
func (w *wire) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c := &w.cur
	if !c.active {
		select {
		case f := <-w.lend:
			*c = f
			c.active = true
		case <-w.dead:
			return 0, w.err
		}
	}
	if c.hoff < wireHeader {
		n := copy(p, c.hdr[c.hoff:])
		c.hoff += n
		if c.hoff == wireHeader && c.left == 0 {
			c.active = false
			w.returned <- struct{}{}
		}
		return n, nil
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := w.nc.Read(p)
	c.left -= n
	if err != nil {
		w.fail(err)
		return n, err
	}
	if c.left == 0 {
		c.active = false
		w.returned <- struct{}{}
	}
	return n, nil
}

// readLoop reads frame headers and routes frames until the connection
// fails.
func (w *wire) readLoop() {
	for {
		var hdr [wireHeader]byte
		if _, err := io.ReadFull(w.nc, hdr[:]); err != nil {
			w.fail(err)
			return
		}
		size := int(binary.LittleEndian.Uint32(hdr[:]))
		tag := binary.LittleEndian.Uint16(hdr[5:])
		if size < wireHeader || size > maxFrame {
			w.fail(fmt.Errorf("read: frame size %d: %w", size, errBadFrame))
			return
		}
		if tag >= firstRawTag && tag <= lastRawTag {
			body := make([]byte, size-wireHeader)
			if _, err := io.ReadFull(w.nc, body); err != nil {
				w.fail(err)
				return
			}
			w.mu.Lock()
			ch := w.waiting[tag]
			delete(w.waiting, tag)
			w.mu.Unlock()
			if ch != nil {
				ch <- rawReply{typ: hdr[4], body: body}
			}
			continue
		}
		select {
		case w.lend <- lentFrame{hdr: hdr, left: size - wireHeader}:
		case <-w.dead:
			return
		}
		select {
		case <-w.returned:
		case <-w.dead:
			return
		}
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
	select {
	case r := <-ch:
		release()
		return r, nil
	case <-w.dead:
		// The tag is not reused: the connection is gone.
		return rawReply{}, w.err
	}
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
