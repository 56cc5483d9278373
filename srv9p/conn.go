package srv9p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hugelgupf/p9/linux"

	"mfs/internal/fcall"
)

const (
	// readBufSize is the connection's read buffer: many small requests
	// come in with one system call, while a big payload is read straight
	// into its frame buffer.
	readBufSize = 64 << 10
	// preVersionMsize bounds frames before a Tversion has agreed on an
	// msize: a Tversion is a few dozen bytes.
	preVersionMsize = 8 << 10
	// identifyTimeout bounds the identification of a connection (a TLS
	// handshake, for a cluster listener).
	identifyTimeout = 10 * time.Second
	// writeTimeout bounds one reply write: a client that stops reading its
	// replies loses the connection instead of holding the server's
	// handlers forever.
	writeTimeout = time.Minute
)

// conn is one client connection.
//
// One goroutine (serve) reads every frame. Tversion and Tflush are
// answered on it; so are requests on files that are Inline. Everything
// else runs on a goroutine of its own, at most maxInflight at once; beyond
// that requests wait in a queue of the same length, and only when the
// queue is full does the reader stop reading. A Tflush of a queued request
// takes it out of the queue unanswered.
//
// Lock order: wmu before mu. respond removes a tag from the table and
// writes the reply under wmu, so a Tflush that no longer finds the tag can
// only answer after the reply went out: a flushed request's reply never
// follows its Rflush.
type conn struct {
	srv *Server
	nc  net.Conn
	rd  *bufio.Reader
	log *slog.Logger

	// peer is what the transport proved, found before the first message;
	// priv says it is Privileged. user is the uid the connection counts
	// for (limits.go), nil until known and for a privileged connection;
	// set before the first message, or by the first attach (which runs
	// alone: see attach), and read by handlers after.
	peer Peer
	priv bool
	user *userUse
	// mem is what the connection holds of its limits' buffer budget, and
	// memWaited whether it ever waited for it, xmem what its xattr fids
	// hold (holdXattr); all under limits.memMu.
	mem       int64
	memWaited bool
	xmem      int64
	// counted: the first attach counted the connection (countAttach),
	// under umu.
	umu     sync.Mutex
	counted bool

	// dialect and msize are written by the reader while no handler runs
	// (Tversion waits for them all) and read by handlers.
	dialect fcall.Dialect
	msize   uint32

	fids fidTable

	// base is done when the connection ends or its server stops; ctx,
	// the session's, also at a Tversion. Requests' contexts come from ctx.
	base   context.Context
	stop   context.CancelFunc
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // handler goroutines

	wmu  sync.Mutex
	wbuf []byte // reply encoding buffer, under wmu
	held []byte // replies not yet written (see holds), under wmu

	// holding is set by the reader when it left replies in held; only
	// the reader reads or writes it.
	holding bool

	mu      sync.Mutex
	tags    map[uint16]*request
	running int        // handler goroutines
	queue   []*request // requests waiting for a handler
	room    chan struct{}
}

// request is one request in flight, from the reader to its reply.
type request struct {
	tag     uint16
	msg     fcall.Msg
	frame   []byte // the pooled frame the message aliases
	ctx     context.Context
	cancel  context.CancelFunc
	flushes []uint16 // tags of Tflushes to answer after the reply
	queued  bool
	inline  bool      // runs on the reader
	start   time.Time // when its frame was read, with Metrics only
}

// newConn returns a connection of s on nc whose requests end when ctx,
// the server's, is done.
func newConn(ctx context.Context, s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:   s,
		nc:    nc,
		rd:    bufio.NewReaderSize(nc, readBufSize),
		log:   s.log.With(slog.String("remote", nc.RemoteAddr().String())),
		msize: preVersionMsize,
		fids:  fidTable{fids: make(map[uint32]*fid)},
		tags:  make(map[uint16]*request),
		room:  make(chan struct{}, 1),
	}
	c.base, c.stop = context.WithCancel(ctx)
	c.ctx, c.cancel = context.WithCancel(c.base)
	return c
}

// serve reads and dispatches frames until the connection ends, then
// cancels what is in flight, waits for it, clunks every fid and closes
// the connection.
func (c *conn) serve() {
	c.log.Debug("9p: connection")
	c.nc.SetDeadline(time.Now().Add(identifyTimeout))
	peer, err := c.srv.identify(c.nc)
	c.nc.SetDeadline(time.Time{})
	if err != nil {
		c.log.Warn("9p: connection refused before its first message", slog.String("error", err.Error()))
		c.nc.Close()
		c.stop()
		return
	}
	c.peer = peer
	if !c.admit() {
		c.nc.Close()
		c.stop()
		return
	}
	defer c.leave()
	err = c.readLoop()
	c.release() // the replies to what came before a bad frame
	c.nc.Close()
	c.stop()
	c.dropQueue()
	c.wg.Wait()
	c.dropFids()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Info("9p: connection closed", slog.String("reason", err.Error()))
	} else {
		c.log.Debug("9p: connection closed")
	}
}

// errIdle ends a connection that kept no fid for the idle timeout.
var errIdle = errors.New("no fid for the idle timeout")

func (c *conn) readLoop() error {
	idleArmed := false
	for {
		idle := c.fids.count() == 0 && c.inflight() == 0
		if idle != idleArmed {
			if idle {
				c.nc.SetReadDeadline(time.Now().Add(c.srv.idleTimeout))
			} else {
				c.nc.SetReadDeadline(time.Time{})
			}
			idleArmed = idle
		}
		if c.rd.Buffered() < fcall.HeaderSize {
			c.release()
		}
		hdr, err := c.rd.Peek(fcall.HeaderSize)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if c.fids.count() == 0 && c.inflight() == 0 {
					return errIdle
				}
				c.nc.SetReadDeadline(time.Time{})
				idleArmed = false
				continue
			}
			return err
		}
		size, _, _ := fcall.Header(hdr)
		if size < fcall.HeaderSize || size > c.msize {
			return fmt.Errorf("frame size %d outside 7..%d", size, c.msize)
		}
		if c.rd.Buffered() < int(size) {
			c.release()
		}
		frame := c.getFrame(c.base, int(size), c.release)
		if frame == nil {
			return net.ErrClosed
		}
		if _, err := io.ReadFull(c.rd, frame); err != nil {
			c.putFrame(frame)
			return err
		}
		c.dispatch(frame)
	}
}

// inflight returns the number of requests running or queued.
func (c *conn) inflight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tags)
}

// dispatch decodes one frame and answers or starts it. Anything but
// Tversion before a session is EPROTO. A well-sized frame whose body does
// not parse exactly, trailing bytes included, is EINVAL; an unknown type,
// or an R-message sent as a request, ENOSYS; a tag in use (or NOTAG)
// EINVAL. (A size field below 7 or above the msize has already closed the
// connection, in readLoop.)
func (c *conn) dispatch(frame []byte) {
	_, typ, tag := fcall.Header(frame)
	var start time.Time
	if c.srv.metrics != nil {
		start = time.Now()
	}
	switch {
	case typ == fcall.MsgTversion:
		c.version(frame, start)
		c.putFrame(frame)
		return
	case c.dialect == fcall.Unknown:
		// Nothing but Tversion before a session exists.
		c.putFrame(frame)
		c.count(typ, true, start)
		c.respondErr(tag, linux.EPROTO)
		return
	case typ == fcall.MsgTflush:
		c.flush(frame, start)
		c.putFrame(frame)
		return
	}
	tag, m, err := fcall.Decode(c.dialect, frame)
	if err != nil {
		c.putFrame(frame)
		e := linux.EINVAL
		if errors.Is(err, fcall.ErrUnknownType) || !isRequest(typ) {
			e = linux.ENOSYS
		}
		c.log.Debug("9p: bad message", slog.String("error", err.Error()))
		c.count(typ, true, start)
		c.respondErr(tag, e)
		return
	}
	if !isRequest(typ) {
		c.putFrame(frame)
		c.count(typ, true, start)
		c.respondErr(tag, linux.ENOSYS)
		return
	}
	// Looked up before taking mu: it may drop the last reference of a
	// fid clunked meanwhile, and so close a file.
	inline := c.inlineOK(m)
	r := &request{tag: tag, msg: m, frame: frame, start: start}
	r.ctx, r.cancel = context.WithCancel(c.ctx)
	c.mu.Lock()
	if _, busy := c.tags[tag]; busy || tag == fcall.NoTag {
		c.mu.Unlock()
		r.cancel()
		c.putFrame(frame)
		c.count(typ, true, start)
		c.respondErr(tag, linux.EINVAL)
		return
	}
	c.tags[tag] = r
	if inline {
		c.mu.Unlock()
		r.inline = true
		c.handle(r)
		return
	}
	for c.running >= c.srv.maxInflight && len(c.queue) >= c.srv.maxInflight {
		// Both full: stop reading until a handler takes from the queue.
		c.mu.Unlock()
		c.release()
		select {
		case <-c.room:
		case <-c.ctx.Done():
		}
		c.mu.Lock()
		if c.ctx.Err() != nil {
			delete(c.tags, tag)
			c.mu.Unlock()
			r.cancel()
			c.putFrame(frame)
			return
		}
	}
	if c.running >= c.srv.maxInflight {
		r.queued = true
		c.queue = append(c.queue, r)
		c.mu.Unlock()
		return
	}
	c.running++
	c.mu.Unlock()
	c.wg.Add(1)
	go c.run(r)
}

// run handles r and then whatever waits in the queue.
func (c *conn) run(r *request) {
	defer c.wg.Done()
	for r != nil {
		c.handle(r)
		c.mu.Lock()
		r = nil
		if len(c.queue) > 0 && c.ctx.Err() == nil {
			r = c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			r.queued = false
			select {
			case c.room <- struct{}{}:
			default:
			}
		} else {
			c.running--
		}
		c.mu.Unlock()
	}
}

// dropQueue forgets the queued requests of an ended connection.
func (c *conn) dropQueue() {
	c.mu.Lock()
	q := c.queue
	c.queue = nil
	for _, r := range q {
		delete(c.tags, r.tag)
	}
	c.mu.Unlock()
	for _, r := range q {
		r.cancel()
		c.putFrame(r.frame)
	}
}

// isRequest reports whether typ is a T-message (of any dialect: Decode
// has refused the types the connection's dialect lacks).
func isRequest(typ uint8) bool { return typ%2 == 0 && typ != fcall.MsgRlerror-1 }

// version answers a Tversion (version(5)): a client string beginning
// "9P2000.L" is answered "9P2000.L", one beginning "9P2000.u" "9P2000.u",
// any other "9P2000" or "9P2000.…" "9P2000", anything else "unknown"; the
// msize is the smaller of the client's and the server's (4 MiB), and
// below fcall.MinMsize the version is "unknown". Every request in flight
// is cancelled and waited for, every fid clunked, and a new session
// starts with the dialect and msize agreed. start is when its frame was
// read (with Metrics).
func (c *conn) version(frame []byte, start time.Time) {
	tag, m, err := fcall.Decode(fcall.L, frame)
	if err != nil {
		c.count(fcall.MsgTversion, true, start)
		c.respondErr(tag, linux.EINVAL)
		return
	}
	tv := m.(*fcall.Tversion)
	c.cancelAll()
	c.dropFids()
	c.ctx, c.cancel = context.WithCancel(c.base)
	d := fcall.ParseVersion(tv.Version)
	msize := min(tv.Msize, c.srv.maxMsize)
	if msize < fcall.MinMsize {
		d = fcall.Unknown
	}
	c.dialect = d
	c.count(fcall.MsgTversion, false, start)
	if d == fcall.Unknown {
		c.msize = preVersionMsize
		c.respondMsg(tag, &fcall.Rversion{Msize: msize, Version: d.String()})
		return
	}
	c.msize = msize
	c.respondMsg(tag, &fcall.Rversion{Msize: msize, Version: d.String()})
}

// cancelAll ends the session's requests: queued ones are dropped, running
// ones cancelled and waited for.
func (c *conn) cancelAll() {
	c.cancel()
	c.dropQueue()
	c.wg.Wait()
}

// flush answers a Tflush (see conn); start is when its frame was read
// (with Metrics).
func (c *conn) flush(frame []byte, start time.Time) {
	tag, m, err := fcall.Decode(c.dialect, frame)
	if err != nil {
		c.count(fcall.MsgTflush, true, start)
		c.respondErr(tag, linux.EINVAL)
		return
	}
	old := m.(*fcall.Tflush).OldTag
	c.mu.Lock()
	if _, busy := c.tags[tag]; busy && old != tag {
		c.mu.Unlock()
		c.count(fcall.MsgTflush, true, start)
		c.respondErr(tag, linux.EINVAL)
		return
	}
	r := c.tags[old]
	switch {
	case old == tag || r == nil:
		c.mu.Unlock()
	case r.queued:
		delete(c.tags, old)
		for i, q := range c.queue {
			if q == r {
				c.queue = append(c.queue[:i], c.queue[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		r.cancel()
		c.putFrame(r.frame)
	default:
		r.flushes = append(r.flushes, tag)
		c.mu.Unlock()
		r.cancel()
		return
	}
	c.count(fcall.MsgTflush, false, start)
	c.respondMsg(tag, &fcall.Rflush{})
}

// finish ends r with its encoded reply frame: see send.
func (c *conn) finish(r *request, frame []byte) { c.send(r, frame, nil) }

// reply ends r with message m, or with the errno of err if err is not nil.
func (c *conn) reply(r *request, m fcall.Msg, err error) {
	if err != nil {
		m = c.errorMsg(err)
	}
	c.send(r, nil, m)
}

// send ends r: its tag leaves the table and its reply is written (frame,
// or m encoded when frame is nil), then the Rflush of every Tflush that
// waited for it, all under wmu.
func (c *conn) send(r *request, frame []byte, m fcall.Msg) {
	hold := c.holds(r)
	c.wmu.Lock()
	c.mu.Lock()
	delete(c.tags, r.tag)
	flushes := r.flushes
	c.mu.Unlock()
	if frame == nil {
		c.wbuf = fcall.Append(c.wbuf[:0], c.dialect, r.tag, m)
		frame = c.wbuf
	}
	if c.srv.metrics != nil {
		// Counted before the write, so that a client that has its
		// reply finds it counted.
		c.countRequest(r, frame, len(flushes))
	}
	c.write(frame, hold)
	for _, t := range flushes {
		c.wbuf = fcall.Append(c.wbuf[:0], c.dialect, t, &fcall.Rflush{})
		c.write(c.wbuf, hold)
	}
	c.shrinkWbuf()
	c.wmu.Unlock()
	r.cancel()
	c.putFrame(r.frame)
	r.frame = nil
}

// respondMsg writes a reply that belongs to no request in the table.
func (c *conn) respondMsg(tag uint16, m fcall.Msg) {
	c.wmu.Lock()
	c.wbuf = fcall.Append(c.wbuf[:0], c.dialect, tag, m)
	c.write(c.wbuf, false)
	c.wmu.Unlock()
}

// respondErr writes an error reply that belongs to no request in the
// table.
func (c *conn) respondErr(tag uint16, e linux.Errno) {
	c.respondMsg(tag, c.errorMsg(e))
}

// shrinkWbuf drops an encoding buffer that a big reply (a long link
// target, an xattr read) grew, so one such reply does not stay resident.
func (c *conn) shrinkWbuf() {
	if cap(c.wbuf) > 64<<10 {
		c.wbuf = nil
	}
}

// heldMax is how many bytes of replies held may gather before they go.
const heldMax = 64 << 10

// holds reports whether r's reply may wait in held instead of going out
// at once: r ran on the reader, and more of the client's requests are
// already read in, so their replies can go out in the same write (a
// pipelining client, as the namespace's peer connections, gets a burst of
// replies in one segment, and the server saves a syscall per reply). The
// reader writes what is held before it waits for input (release); any
// other write sends held first, so replies leave in the order made.
func (c *conn) holds(r *request) bool {
	if r.inline && c.rd.Buffered() > 0 {
		c.holding = true
		return true
	}
	return false
}

// release writes the replies the reader held back. Called by the reader.
func (c *conn) release() {
	if !c.holding {
		return
	}
	c.holding = false
	c.wmu.Lock()
	if len(c.held) > 0 {
		c.write(nil, false)
	}
	c.wmu.Unlock()
}

// write sends one whole frame, after the held ones; with hold it joins
// them instead, until heldMax. A failure ends the connection: it is
// closed and its requests cancelled (the reader then fails too). Called
// under wmu.
func (c *conn) write(frame []byte, hold bool) {
	if hold {
		c.held = append(c.held, frame...)
		if len(c.held) < heldMax {
			return
		}
		frame = nil
	}
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	var err error
	if len(c.held) > 0 {
		bufs := net.Buffers{c.held, frame}
		_, err = bufs.WriteTo(c.nc)
		c.held = c.held[:0]
		if cap(c.held) > 2*heldMax {
			c.held = nil // a big reply was held: do not keep its room
		}
	} else {
		_, err = c.nc.Write(frame)
	}
	if err != nil {
		c.log.Debug("9p: write failed", slog.String("error", err.Error()))
		c.nc.Close()
		c.stop() // requests waiting (for budget, for room) give up at once
	}
}

// errnoOf is the Linux errno an error crosses the wire as.
func errnoOf(err error) linux.Errno {
	if e := linux.ExtractErrno(err); e != 0 {
		return e
	}
	return linux.EIO
}
