package namespace

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/client"
	"mfs/internal/dial"
	"mfs/membership"
)

// peer is one node of the table and, for remote nodes, its connection.
//
// Lock order: dmu before nmu. nmu guards n and conn and is held only
// briefly; dmu serializes dialling, which may take up to the timeout, so
// that concurrent walks share one new connection.
type peer struct {
	ns *Namespace

	dmu    sync.Mutex
	failed time.Time // end of the last failed dial; guarded by dmu

	nmu  sync.Mutex
	n    Node
	conn *peerConn
}

func newPeer(ns *Namespace, n Node) *peer { return &peer{ns: ns, n: n} }

// node returns the table entry.
func (p *peer) node() Node {
	p.nmu.Lock()
	defer p.nmu.Unlock()
	return p.n
}

// update takes a new table entry; a new address or a node that is no
// longer alive drops the connection.
func (p *peer) update(n Node) {
	p.nmu.Lock()
	old := p.n
	p.n = n
	var c *peerConn
	if n.Addr != old.Addr || n.State != membership.Alive {
		c, p.conn = p.conn, nil
	}
	p.nmu.Unlock()
	if old != n {
		p.ns.cfg.log.Debug("namespace: node updated", slog.Int("node", n.ID), slog.String("addr", n.Addr), slog.String("state", n.State.String()))
	}
	if c != nil {
		c.close()
	}
}

// drop closes the connection, if any.
func (p *peer) drop(why string) {
	p.nmu.Lock()
	c := p.conn
	p.conn = nil
	p.nmu.Unlock()
	if c != nil {
		p.ns.cfg.log.Debug("namespace: dropping peer connection", slog.Int("node", c.node), slog.String("why", why))
		c.close()
	}
}

// get returns a live connection, dialling if there is none.
func (p *peer) get() (*peerConn, error) {
	if c, err := p.live(); c != nil || err != nil {
		return c, err
	}
	asked := time.Now()
	p.dmu.Lock()
	defer p.dmu.Unlock()
	if c, err := p.live(); c != nil || err != nil {
		return c, err
	}
	if p.failed.After(asked) {
		// A dial that failed while we waited answers for us too:
		// callers queued behind a dead node must not wait one
		// timeout each.
		return nil, linux.EHOSTDOWN
	}
	n := p.node()
	// Dial on a goroutine of its own: the caller may run on a thread with
	// a user's credentials (srv9p's server switches them around each
	// request), which may not bind the privileged port a dial as root
	// uses.
	type dialed struct {
		c   *peerConn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		c, err := p.ns.dialPeer(n)
		ch <- dialed{c, err}
	}()
	d := <-ch
	c, err := d.c, d.err
	if err != nil {
		p.failed = time.Now()
		p.ns.cfg.log.Warn("namespace: cannot reach node", slog.Int("node", n.ID), slog.String("addr", n.Addr), slog.String("error", err.Error()))
		return nil, linux.EHOSTDOWN
	}
	p.nmu.Lock()
	if errno := stateErrno(p.n.State); errno != 0 || p.n.Addr != n.Addr {
		p.nmu.Unlock()
		c.close()
		if errno == 0 {
			errno = linux.EHOSTDOWN // moved while we dialled
		}
		return nil, errno
	}
	p.conn = c
	p.nmu.Unlock()
	p.ns.cfg.log.Info("namespace: connected to node", slog.Int("node", n.ID), slog.String("addr", n.Addr), slog.Uint64("msize", uint64(c.msize)))
	return c, nil
}

// live returns the current connection if it works; an error if the node
// cannot be used at all; (nil, nil) if a dial is needed.
func (p *peer) live() (*peerConn, error) {
	if p.ns.isClosed() {
		return nil, linux.EHOSTDOWN
	}
	p.nmu.Lock()
	defer p.nmu.Unlock()
	if errno := stateErrno(p.n.State); errno != 0 {
		return nil, errno
	}
	if p.n.Addr == "" {
		return nil, linux.EHOSTDOWN
	}
	if p.conn != nil && !p.conn.dead() {
		return p.conn, nil
	}
	return nil, nil
}

// peerConn is one connection to a remote node, with its root fid. The
// client bounds every call (a call that times out is flushed and fails
// alone) and declares the connection dead when the peer answers nothing.
//
// One connection per node, opened on first use with a large msize, reused,
// and dialled anew after it dies. Concurrent kernel requests stay
// concurrent: the server runs them on goroutines and the client pipelines
// them on the one connection. A peer that answers nothing at all, not even
// the Rflush, within the timeout is dead: every call pending on it fails
// with EHOSTDOWN, and the next walk to the node dials again. Files of a
// dead connection keep failing: their fids died with it and are never
// moved to a new connection. A blocking Tlock has no timeout: it waits on
// the peer as the lock does, and a Tflush from the kernel flushes it on
// the peer.
//
// Identity: a remote node's files are walked from its root attached as
// the attach's user on this connection (one attach per user), and the
// peer's server runs them as that user, believing the uid because the
// connection is a cluster member's (TLS) or root's (a privileged port).
type peerConn struct {
	ns    *Namespace
	node  int
	c     *client.Conn
	msize uint32
	log   *slog.Logger

	// roots are the peer's export root attached once per user: every
	// operation on the peer runs as the user of the attach it came
	// through (the peer believes the uid because the connection proves
	// it is a cluster member or root's).
	mu    sync.Mutex
	roots map[p9.UID]*client.File

	// gen moves on around every call that may change attributes on the
	// peer (see walkAttr).
	gen atomic.Uint64
}

// root returns the peer's root attached as uid, attaching on first use.
func (c *peerConn) root(uid p9.UID) (*client.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.roots[uid]; r != nil {
		return r, nil
	}
	uname := ""
	if uid.Ok() {
		uname = strconv.FormatUint(uint64(uid), 10)
	}
	r, err := c.c.Attach("", uname, uid)
	if err != nil {
		return nil, err
	}
	c.roots[uid] = r
	return r, nil
}

// dialPeer connects to node n (with the WithDialer function, if any)
// and attaches to its export root; the connect with any TLS handshake,
// the version exchange and the attach are each bounded by the timeout.
func (ns *Namespace) dialPeer(n Node) (*peerConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ns.cfg.timeout)
	defer cancel()
	var nc net.Conn
	var err error
	if ns.cfg.dial != nil {
		nc, err = ns.cfg.dial(ctx, n)
	} else {
		nc, err = dial.Connect(ctx, n.Addr, ns.cfg.timeout)
	}
	if err != nil {
		return nil, err
	}
	raw := nc
	if tc, ok := nc.(*tls.Conn); ok {
		if err := tc.HandshakeContext(ctx); err != nil {
			tc.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		raw = tc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c, err := client.New(nc, client.Options{MSize: ns.cfg.msize, Timeout: ns.cfg.timeout, InOrder: true})
	if err != nil {
		return nil, err
	}
	pc := &peerConn{ns: ns, node: n.ID, c: c, msize: c.MSize(), log: ns.cfg.log, roots: make(map[p9.UID]*client.File)}
	if _, err := pc.root(p9.NoUID); err != nil {
		c.Close()
		return nil, fmt.Errorf("attach: %w", err)
	}
	return pc, nil
}

// dead reports whether the connection is gone.
func (c *peerConn) dead() bool { return c.c.Err() != nil }

// close ends the connection: files opened through it fail from now on.
func (c *peerConn) close() { c.c.Close() }

// call runs fn, one operation on the peer that may change what a getattr
// there reports (anything but the lookups query runs), and says what its
// failure means to the kernel: the peer's errno as it is, ETIMEDOUT for a
// call the client flushed after the timeout (the connection lives on),
// and EHOSTDOWN once the connection is dead. It moves gen on before and
// after, so attributes learnt meanwhile are not taken for current.
func (c *peerConn) call(op string, fn func() error) error {
	c.gen.Add(1)
	defer c.gen.Add(1)
	return c.query(op, fn)
}

// query is call for an operation that changes nothing a getattr reports.
func (c *peerConn) query(op string, fn func() error) error {
	if c.dead() {
		return linux.EHOSTDOWN
	}
	var start time.Time
	m := c.ns.cfg.metrics
	if m != nil && timedOp(op) {
		start = time.Now()
	}
	err := fn()
	if !start.IsZero() && !errors.Is(err, client.ErrDead) && !errors.Is(err, client.ErrTimeout) && !c.dead() {
		m.PeerRTT(c.node, time.Since(start))
	}
	switch {
	case err == nil || err == io.EOF:
		return err
	case errors.Is(err, client.ErrDead) || c.dead():
		c.log.Warn("namespace: peer connection failed", slog.Int("node", c.node), slog.String("op", op), slog.String("error", err.Error()))
		return linux.EHOSTDOWN
	case errors.Is(err, client.ErrTimeout):
		c.log.Warn("namespace: peer operation timed out", slog.Int("node", c.node), slog.String("op", op))
		return linux.ETIMEDOUT
	}
	var errno linux.Errno
	if errors.As(err, &errno) {
		return errno
	}
	c.log.Warn("namespace: peer operation failed", slog.Int("node", c.node), slog.String("op", op), slog.String("error", err.Error()))
	return linux.EIO
}
