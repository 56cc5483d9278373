package client

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// defaultMSize is the msize asked for when Options.MSize is 0.
const defaultMSize = 1 << 20

// Options configures a connection.
type Options struct {
	// MSize is the largest message size to ask for; 0 means 1 MiB.
	MSize uint32
	// Timeout bounds each call (see the package doc); 0 means none.
	Timeout time.Duration
	// Dialect is the dialect to speak: fcall.L (also the zero value),
	// fcall.U or fcall.Plan9 (see the package doc, "Dialects").
	Dialect fcall.Dialect
	// InOrder says the server answers a request that names a fid only
	// after the request that makes the fid (srv9p's export promises it:
	// see srv9p.Inline). WalkGetAttr then sends its walk and getattr
	// together; to any other server (diod runs a connection's requests
	// in any order) the getattr waits for the walk's reply.
	InOrder bool
}

// Errors a call can fail with besides the server's errnos.
var (
	// ErrDead wraps linux.EHOSTDOWN: the connection is gone.
	ErrDead = fmt.Errorf("9p connection down: %w", linux.EHOSTDOWN)
	// ErrTimeout wraps linux.ETIMEDOUT: the call was flushed after its
	// timeout.
	ErrTimeout = fmt.Errorf("9p call timed out: %w", linux.ETIMEDOUT)
)

// Conn is one client connection. Each call writes its frame whole (see
// send) and waits for the reply with its tag, while one reader goroutine
// reads every reply and hands it to its caller (a Tread's data straight
// into the caller's buffer).
//
// Concurrency: wmu guards the write queue (one caller writes at a time);
// mu guards the call table, the tag and fid allocators and err. Only the
// reader goroutine reads nc.
type Conn struct {
	nc      net.Conn
	rd      *bufio.Reader
	msize   uint32
	timeout time.Duration
	dialect fcall.Dialect
	inOrder bool    // Options.InOrder
	ops     dialect // the messages of File's methods in the dialect

	// Writes: requests wait in queued while a caller is writing (see
	// send); spare is the other buffer; wdone signals the end of a write.
	wmu     sync.Mutex
	wdone   sync.Cond
	writing bool
	queued  []byte
	spare   []byte

	mu       sync.Mutex
	calls    map[uint16]*call
	nextTag  uint16
	nextFid  uint32
	freeFids []uint32
	err      error         // why the connection died; nil while alive
	done     chan struct{} // closed when the reader has ended
}

// call is one request waiting for its reply.
type call struct {
	tag   uint16
	dst   []byte        // a Tread's destination: the data is read into it
	reply fcall.Msg     // the reply, or nil with err
	err   error         // set when the connection died first
	ready chan struct{} // closed by the reader when reply or err is set
}

// New starts a session on nc: a Tversion agreeing on the msize, then the
// reader. The version exchange is bounded by opts.Timeout if it is set,
// else by whatever deadline the caller put on nc. The Conn owns nc from
// now on, also when New fails.
func New(nc net.Conn, opts Options) (*Conn, error) {
	if opts.MSize == 0 {
		opts.MSize = defaultMSize
	}
	switch opts.Dialect {
	case fcall.Unknown:
		opts.Dialect = fcall.L
	case fcall.L, fcall.U, fcall.Plan9:
	default:
		nc.Close()
		return nil, fmt.Errorf("version: no dialect %d", opts.Dialect)
	}
	if opts.Timeout > 0 {
		nc.SetDeadline(time.Now().Add(opts.Timeout))
	}
	rd := bufio.NewReaderSize(nc, 64<<10)
	msize, err := version(nc, rd, opts.MSize, opts.Dialect)
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	c := &Conn{
		nc:      nc,
		rd:      rd,
		msize:   msize,
		timeout: opts.Timeout,
		inOrder: opts.InOrder,
		dialect: opts.Dialect,
		ops:     newDialect(opts.Dialect),
		calls:   make(map[uint16]*call),
		nextFid: 1,
		done:    make(chan struct{}),
	}
	c.wdone.L = &c.wmu
	go c.read()
	return c, nil
}

// version sends Tversion for dialect dl and returns the msize the server
// agreed to. The server must answer with dl's own version string.
func version(w io.Writer, rd *bufio.Reader, msize uint32, dl fcall.Dialect) (uint32, error) {
	if _, err := w.Write(fcall.Append(nil, dl, fcall.NoTag, &fcall.Tversion{Msize: msize, Version: dl.String()})); err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	hdr, err := rd.Peek(fcall.HeaderSize)
	if err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	size, typ, _ := fcall.Header(hdr)
	if size < fcall.HeaderSize || size > 1<<16 {
		if typ != fcall.MsgRversion && typ != fcall.MsgRlerror && typ != fcall.MsgRerror {
			return 0, fmt.Errorf("version: the server does not speak 9P (reply starts %q)", hdr)
		}
		return 0, fmt.Errorf("version: bad reply size %d", size)
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(rd, frame); err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	rdl := dl
	switch {
	case typ == fcall.MsgRerror && dl == fcall.L:
		rdl = fcall.Plan9 // a 9P2000 server's refusal
	case typ == fcall.MsgRlerror:
		rdl = fcall.L // a 9P2000.L server's refusal
	}
	_, m, err := fcall.Decode(rdl, frame)
	if err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	switch m := m.(type) {
	case *fcall.Rversion:
		if fcall.ParseVersion(m.Version) != dl {
			return 0, fmt.Errorf("version: %w", &VersionError{Want: dl, Answer: m.Version})
		}
		if m.Msize > msize || m.Msize < fcall.MinMsize {
			return 0, fmt.Errorf("version: server offers unusable msize %d", m.Msize)
		}
		return m.Msize, nil
	case *fcall.Rlerror:
		return 0, fmt.Errorf("version: %w", m.Errno)
	case *fcall.Rerror:
		return 0, fmt.Errorf("version: %w", rerror(m))
	}
	return 0, fmt.Errorf("version: unexpected reply %s", m)
}

// Dialect returns the dialect the connection speaks.
func (c *Conn) Dialect() fcall.Dialect { return c.dialect }

// MSize returns the msize agreed with the server.
func (c *Conn) MSize() uint32 { return c.msize }

// Close ends the connection; pending and later calls fail with ErrDead.
func (c *Conn) Close() error {
	c.fail(errors.New("closed"))
	<-c.done
	return nil
}

// Done is closed when the connection has died (or was closed).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection died, nil while it is alive.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// fail marks the connection dead and closes the socket; the reader then
// ends and fails every pending call.
func (c *Conn) fail(why error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = why
	}
	c.mu.Unlock()
	c.nc.Close()
}

// read is the reader goroutine: it hands every reply to its call.
func (c *Conn) read() {
	claimed, err := c.readLoop()
	c.fail(err)
	c.mu.Lock()
	calls := c.calls
	c.calls = make(map[uint16]*call)
	why := c.err
	c.mu.Unlock()
	if claimed != nil {
		calls[claimed.tag] = claimed
	}
	for _, cl := range calls {
		cl.err = &deadError{why}
		close(cl.ready)
	}
	close(c.done)
}

// readLoop reads replies until the connection fails. A reply that breaks
// the protocol (a bad size, a tag no call has, an Rread longer than asked
// for, a body that does not decode) kills the connection, as the Linux
// client does; one of the wrong type only fails its call (see expect).
// A reply's call leaves
// the table when its header is read: from then on only the reader touches
// it (flush relies on that). The call whose reply was being read when the
// connection failed is returned, to be failed with the others.
func (c *Conn) readLoop() (*call, error) {
	for {
		hdr, err := c.rd.Peek(fcall.HeaderSize)
		if err != nil {
			return nil, err
		}
		size, typ, tag := fcall.Header(hdr)
		if size < fcall.HeaderSize || size > c.msize {
			return nil, fmt.Errorf("reply size %d outside 7..%d", size, c.msize)
		}
		c.mu.Lock()
		cl := c.calls[tag]
		delete(c.calls, tag)
		c.mu.Unlock()
		if cl == nil {
			// Every tag a reply may carry is in the table until its
			// reply (or the Rflush that ends it) has come.
			return nil, fmt.Errorf("reply %s with tag %d, which no call has", fcall.Name(typ), tag)
		}
		if cl.dst != nil && typ == fcall.MsgRread {
			// The data goes straight into the caller's buffer.
			if size < fcall.RreadHeaderSize {
				return cl, fmt.Errorf("Rread of %d bytes", size)
			}
			hdr, err := c.rd.Peek(fcall.RreadHeaderSize)
			if err != nil {
				return cl, err
			}
			n := int(size) - fcall.RreadHeaderSize
			if n > len(cl.dst) || uint32(n) != binary.LittleEndian.Uint32(hdr[fcall.HeaderSize:]) {
				return cl, fmt.Errorf("bad Rread of %d bytes for a read of %d", n, len(cl.dst))
			}
			c.rd.Discard(fcall.RreadHeaderSize)
			if _, err := io.ReadFull(c.rd, cl.dst[:n]); err != nil {
				return cl, err
			}
			cl.reply = &fcall.Rread{Data: cl.dst[:n]}
			close(cl.ready)
			continue
		}
		frame := make([]byte, size)
		if _, err := io.ReadFull(c.rd, frame); err != nil {
			return cl, err
		}
		_, m, err := fcall.Decode(c.dialect, frame)
		if err != nil {
			return cl, fmt.Errorf("bad reply: %w", err)
		}
		cl.reply = m
		close(cl.ready)
	}
}

// start registers a call and sends its request.
func (c *Conn) start(m fcall.Msg, dst []byte) (*call, error) {
	cl := &call{dst: dst, ready: make(chan struct{})}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, &deadError{err}
	}
	for {
		c.nextTag++
		if c.nextTag == fcall.NoTag {
			c.nextTag = 0
		}
		if _, busy := c.calls[c.nextTag]; !busy {
			break
		}
	}
	cl.tag = c.nextTag
	c.calls[cl.tag] = cl
	c.mu.Unlock()
	c.send(cl.tag, m)
	return cl, nil
}

// send writes one request, or leaves it for the caller that is writing:
// requests sent during a write go out together in the next one, so a
// burst of pipelined requests costs a few syscalls, not one each. A big
// Twrite's data is not copied: its caller waits its turn and writes it
// with what is queued in one writev. A failed write kills the connection
// (the calls then fail through the reader).
func (c *Conn) send(tag uint16, m fcall.Msg) {
	w, big := m.(*fcall.Twrite)
	big = big && len(w.Data) > 4096
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !big {
		c.queued = fcall.Append(c.queued, c.dialect, tag, m)
		if c.writing {
			return
		}
	}
	for c.writing {
		c.wdone.Wait()
	}
	var data []byte
	if big {
		at := len(c.queued)
		c.queued = fcall.Append(c.queued, c.dialect, tag, &fcall.Twrite{Fid: w.Fid, Offset: w.Offset})
		hdr := c.queued[at:]
		n := len(w.Data)
		size := len(hdr) + n
		hdr[0], hdr[1], hdr[2], hdr[3] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
		cnt := hdr[len(hdr)-4:]
		cnt[0], cnt[1], cnt[2], cnt[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
		data = w.Data
	}
	c.writing = true
	for len(c.queued) > 0 {
		out := c.queued
		c.queued = c.spare[:0]
		c.wmu.Unlock()
		err := c.write(out, data)
		c.wmu.Lock()
		data = nil
		if cap(out) > 64<<10 {
			out = nil
		}
		c.spare = out[:0]
		if err != nil {
			c.queued = c.queued[:0]
			c.fail(fmt.Errorf("write: %w", err))
			break
		}
	}
	c.writing = false
	c.wdone.Broadcast()
}

// write sends frames, then data (the rest of the last frame) if any.
func (c *Conn) write(frames, data []byte) error {
	if c.timeout > 0 {
		// A peer that takes nothing in for two timeouts is dead, as one
		// that answers nothing is; a caller waiting to write its Twrite
		// must not wait for it forever.
		c.nc.SetWriteDeadline(time.Now().Add(2 * c.timeout))
	}
	if data == nil {
		_, err := c.nc.Write(frames)
		return err
	}
	bufs := net.Buffers{frames, data}
	_, err := bufs.WriteTo(c.nc)
	return err
}

// rpc sends m and waits for its reply, within the connection's timeout.
func (c *Conn) rpc(m fcall.Msg) (fcall.Msg, error) {
	return c.rpcInto(context.Background(), m, nil, c.timeout)
}

// rpcInto sends m and waits for its reply; a Tread's data lands in dst.
// When ctx is done or the timeout passes, the request is flushed.
func (c *Conn) rpcInto(ctx context.Context, m fcall.Msg, dst []byte, timeout time.Duration) (fcall.Msg, error) {
	cl, err := c.start(m, dst)
	if err != nil {
		return nil, err
	}
	return c.wait(ctx, cl, timeout)
}

// wait waits for the reply of a started call; when ctx is done or the
// timeout passes, the request is flushed.
func (c *Conn) wait(ctx context.Context, cl *call, timeout time.Duration) (fcall.Msg, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-cl.ready:
		return result(cl)
	case <-ctx.Done():
		return c.flush(cl, ctx.Err())
	case <-expired:
		return c.flush(cl, ErrTimeout)
	}
}

// flush gives up on cl: a Tflush, then whichever comes first: cl's reply
// (honoured), the Rflush (cl fails with why), or another timeout. A
// server answers a Tflush only once the request is done, and a request
// can be stuck in the server's file system; so, with a timeout, a probe
// goes out with the Tflush: a Tflush of no request, which a live server
// answers at once. If the probe was answered by the end of probeWait (or
// the timeout, if shorter), the peer is alive and cl is abandoned (it
// fails with why, and its tag stays taken until the server's last word on
// it); otherwise the peer is dead and every call fails with ErrDead.
func (c *Conn) flush(cl *call, why error) (fcall.Msg, error) {
	fl, err := c.start(&fcall.Tflush{OldTag: cl.tag}, nil)
	if err != nil {
		<-cl.ready
		return result(cl)
	}
	var expired <-chan time.Time
	var probe *call
	if c.timeout > 0 {
		t := time.NewTimer(min(c.timeout, probeWait))
		defer t.Stop()
		expired = t.C
		probe, _ = c.start(&fcall.Tflush{OldTag: fcall.NoTag}, nil)
	}
	select {
	case <-cl.ready:
		return result(cl)
	case <-fl.ready:
	case <-expired:
		if !answered(probe) {
			c.fail(errors.New("no answer to a flush"))
			<-cl.ready
			return result(cl)
		}
		return c.abandon(cl, fl, why)
	}
	// The Rflush came; a reply sent before it was read before it.
	select {
	case <-cl.ready:
		return result(cl)
	default:
	}
	if fl.err != nil {
		<-cl.ready
		return result(cl)
	}
	if _, ok := fl.reply.(*fcall.Rflush); !ok {
		// The server refused the flush: the request may still answer.
		return c.abandon(cl, fl, why)
	}
	c.mu.Lock()
	if c.calls[cl.tag] == cl {
		delete(c.calls, cl.tag)
	}
	c.mu.Unlock()
	return nil, why
}

// probeWait bounds the wait for the probe's answer (and the Rflush) after
// a call's timeout: a live server answers a Tflush of no request at once,
// so a dead peer is known within the timeout plus this.
const probeWait = time.Second

// answered reports whether probe has had its answer.
func answered(probe *call) bool {
	if probe == nil {
		return false
	}
	select {
	case <-probe.ready:
		return probe.err == nil
	default:
		return false
	}
}

// abandon fails cl with why although the server still has its request. A
// stand-in keeps cl's tag taken until the server's last word on it (cl's
// reply, or the Rflush of fl) has come, so a late reply finds its tag and
// is dropped, and the tag is not reused while the server still knows it.
func (c *Conn) abandon(cl, fl *call, why error) (fcall.Msg, error) {
	c.mu.Lock()
	if c.calls[cl.tag] != cl {
		// The reader has taken cl's reply and is delivering it.
		c.mu.Unlock()
		<-cl.ready
		return result(cl)
	}
	stand := &call{tag: cl.tag, ready: make(chan struct{})}
	c.calls[cl.tag] = stand
	c.mu.Unlock()
	go func() {
		select {
		case <-stand.ready:
			return // the late reply, taken by the reader
		case <-fl.ready:
		}
		if _, ok := fl.reply.(*fcall.Rflush); !ok {
			<-stand.ready // a refused flush: wait for the reply (or the end)
			return
		}
		c.mu.Lock()
		if c.calls[stand.tag] == stand {
			delete(c.calls, stand.tag)
		}
		c.mu.Unlock()
	}()
	return nil, why
}

// result turns a finished call into its reply or error: an Rlerror comes
// back as its linux.Errno, an Rerror as rerror says.
func result(cl *call) (fcall.Msg, error) {
	if cl.err != nil {
		return nil, cl.err
	}
	switch e := cl.reply.(type) {
	case *fcall.Rlerror:
		return nil, e.Errno
	case *fcall.Rerror:
		return nil, rerror(e)
	}
	return cl.reply, nil
}

// expect checks that a reply has the type of the answer to the request:
// one of another type fails the call with EPROTO, and the connection goes
// on.
func expect[R fcall.Msg](rep fcall.Msg, err error) (R, error) {
	var zero R
	if err != nil {
		return zero, err
	}
	r, ok := rep.(R)
	if !ok {
		return zero, fmt.Errorf("unexpected reply %s: %w", rep, linux.EPROTO)
	}
	return r, nil
}

// newFid allocates a fid number.
func (c *Conn) newFid() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.freeFids); n > 0 {
		f := c.freeFids[n-1]
		c.freeFids = c.freeFids[:n-1]
		return f
	}
	f := c.nextFid
	c.nextFid++
	return f
}

// putFid returns a fid number the server no longer knows.
func (c *Conn) putFid(f uint32) {
	c.mu.Lock()
	c.freeFids = append(c.freeFids, f)
	c.mu.Unlock()
}

// releaseFid returns fid's number after a call that would have made the
// server forget it (or never know it) ended with err; not after a timeout,
// though (the server may still act on an abandoned request), nor on a dead
// connection.
func (c *Conn) releaseFid(fid uint32, err error) {
	if errors.Is(err, ErrTimeout) || c.Err() != nil {
		return
	}
	c.putFid(fid)
}

// Attach attaches a new fid to the attach name aname as user uname with
// n_uname uid (p9.NoUID for none).
func (c *Conn) Attach(aname, uname string, uid p9.UID) (*File, error) {
	fid := c.newFid()
	r, err := expect[*fcall.Rattach](c.rpc(&fcall.Tattach{Fid: fid, Afid: fcall.NoFid, Uname: uname, Aname: aname, NUname: uid}))
	if err != nil {
		c.releaseFid(fid, err)
		return nil, err
	}
	return &File{c: c, fid: fid, qid: r.QID}, nil
}
