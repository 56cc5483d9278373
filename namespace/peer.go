package namespace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
)

var errTimeout = errors.New("peer operation timed out")

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
	if n.Addr != old.Addr || n.State != Alive {
		c, p.conn = p.conn, nil
	}
	p.nmu.Unlock()
	if old != n {
		p.ns.cfg.log.Info("namespace: node updated", slog.Int("node", n.ID), slog.String("addr", n.Addr), slog.String("state", n.State.String()))
	}
	if c != nil {
		c.w.fail(fmt.Errorf("node %d: %s", n.ID, "table changed"))
	}
}

// drop closes the connection, if any.
func (p *peer) drop(why string) {
	p.nmu.Lock()
	c := p.conn
	p.conn = nil
	p.nmu.Unlock()
	if c != nil {
		c.w.fail(errors.New(why))
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
	c, err := p.ns.dialPeer(n)
	if err != nil {
		p.failed = time.Now()
		p.ns.cfg.log.Warn("namespace: cannot reach node", slog.Int("node", n.ID), slog.String("addr", n.Addr), slog.String("error", err.Error()))
		return nil, linux.EHOSTDOWN
	}
	p.nmu.Lock()
	if p.n.Addr != n.Addr || p.n.State != Alive {
		p.nmu.Unlock()
		c.w.fail(errors.New("table changed while dialling"))
		return nil, linux.EHOSTUNREACH
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
	if p.n.State != Alive {
		return nil, linux.EHOSTUNREACH
	}
	if p.n.Addr == "" {
		return nil, linux.EHOSTUNREACH
	}
	if p.conn != nil && !p.conn.dead() {
		return p.conn, nil
	}
	return nil, nil
}

// peerConn is one connection to a peer's export. Files walked through it
// keep pointing at it: once it is dead they fail, and are never moved to
// a newer connection (their fids died with it).
type peerConn struct {
	ns      *Namespace
	node    int
	w       *wire
	c       *dial.Conn
	root    p9.File
	msize   uint32
	timeout time.Duration
	log     *slog.Logger
}

// dialPeer connects to n and attaches to its export root, all within one
// timeout: connect, version exchange and attach share one deadline.
func (ns *Namespace) dialPeer(n Node) (*peerConn, error) {
	network, address, err := dial.ParseAddr(n.Addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(ns.cfg.timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	w := newWire(nc)
	// The rest of the bound is enforced by closing the wire.
	stop := context.AfterFunc(ctx, func() { w.fail(errTimeout) })
	defer stop()
	c, err := dial.Client(w, dial.Options{MSize: ns.cfg.msize, Timeout: time.Until(deadline)})
	if err != nil {
		w.fail(err)
		return nil, err
	}
	root, err := c.Attach("")
	if err != nil {
		w.fail(err)
		return nil, fmt.Errorf("attach: %w", err)
	}
	if !stop() {
		return nil, errTimeout
	}
	return &peerConn{ns: ns, node: n.ID, w: w, c: c, root: root, msize: c.MSize, timeout: ns.cfg.timeout, log: ns.cfg.log}, nil
}

// dead reports whether the connection has failed.
func (c *peerConn) dead() bool {
	select {
	case <-c.w.dead:
		return true
	default:
		return false
	}
}

// call runs fn, one operation on the peer, bounded by the timeout: when
// it expires the connection is closed, which fails the operation and any
// other pending on it. Answers of the peer (linux.Errno, io.EOF) are
// returned as they are; any other failure kills the connection and
// becomes EHOSTDOWN.
func (c *peerConn) call(op string, fn func() error) error {
	if c.dead() {
		return linux.EHOSTDOWN
	}
	t := time.AfterFunc(c.timeout, func() {
		c.log.Warn("namespace: peer operation timed out, closing connection", slog.Int("node", c.node), slog.String("op", op), slog.Duration("timeout", c.timeout))
		c.w.fail(errTimeout)
	})
	err := fn()
	t.Stop()
	if err == nil || err == io.EOF {
		return err
	}
	var errno linux.Errno
	if errors.As(err, &errno) && !c.dead() {
		return errno
	}
	if !c.dead() {
		c.log.Warn("namespace: peer connection failed", slog.Int("node", c.node), slog.String("op", op), slog.String("error", err.Error()))
	}
	c.w.fail(err)
	return linux.EHOSTDOWN
}
