package namespace

import (
	"time"
)

// Metrics receives the namespace's figures about its peers (WithMetrics).
// It is called on every call to a peer, from many goroutines: an
// implementation must be safe for concurrent use, cheap, and must not
// allocate.
type Metrics interface {
	// PeerRTT reports one call to node answered by it (with success or an
	// errno), d from the request sent to its reply read. Only calls whose
	// time is the round trip are reported: walks, getattrs, opens,
	// creates and other metadata, not reads and writes (whose time is
	// their data's) nor locks (which may wait for another holder).
	PeerRTT(node int, d time.Duration)
}

// WithMetrics makes the namespace report the round trips of its peer
// connections to m (default: none).
func WithMetrics(m Metrics) Option { return func(c *config) { c.metrics = m } }

// Link is one remote node of the table and the state of the namespace's
// connection to it.
type Link struct {
	Node
	// Up is true while the namespace holds a live connection to the
	// node's export (it dials on first use, and again after a failure).
	Up bool
}

// Links returns the remote nodes of the table (every node but the serving
// one) sorted by ID, with the state of their connections.
func (ns *Namespace) Links() []Link {
	var out []Link
	for _, n := range ns.Nodes() {
		if n.ID == ns.here {
			continue
		}
		l := Link{Node: n}
		if p := ns.lookup(n.ID); p != nil {
			p.nmu.Lock()
			l.Up = p.conn != nil && !p.conn.dead()
			p.nmu.Unlock()
		}
		out = append(out, l)
	}
	return out
}

// timedOp reports whether a peer call named op (peerConn.query's op) is
// reported as a round trip (see Metrics.PeerRTT).
func timedOp(op string) bool {
	switch op {
	case "read", "write", "lock", "lockwait":
		return false
	}
	return true
}
