package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/membership"
	"mfs/srv9p"
)

// Node is one cluster node as the namespace knows it.
type Node struct {
	// ID is the node number, 1 ≤ ID ≤ MaxNodeID.
	ID int
	// Addr is the address of the node's srv9p export (host:port or
	// unix:/path). The serving node's own Addr is informative only: its
	// files are served in-process.
	Addr string
	// State is what membership last reported.
	State membership.State
}

// MaxNodeID is the largest node number: the number is kept in the top 16
// bits of every QID path (see the package doc).
const MaxNodeID = 1<<nodeBits - 1

// Option configures a Namespace.
type Option func(*config)

type config struct {
	log     *slog.Logger
	timeout time.Duration
	msize   uint32
	dial    func(ctx context.Context, n Node) (net.Conn, error)
	metrics Metrics // nil: none
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithTimeout bounds every operation sent to a peer (default 5 s): one that
// runs out is flushed and fails with ETIMEDOUT; a peer that does not even
// answer the flush in that time is dead (EHOSTDOWN for all its calls).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithMSize sets the msize asked of peers (default DefaultMSize; the peer
// may agree to less).
func WithMSize(m uint32) Option { return func(c *config) { c.msize = m } }

// WithDialer makes the namespace connect to a peer's export with dial
// instead of a plain connection to Node.Addr (TLS between nodes). ctx
// carries the peer timeout. A *tls.Conn returned is handshaken within
// that timeout before any 9P message is sent.
func WithDialer(dial func(ctx context.Context, n Node) (net.Conn, error)) Option {
	return func(c *config) { c.dial = dial }
}

// DefaultMSize is the msize asked of peers: the server's cap, 4 MiB. A
// read or write is split into pieces of msize-24 bytes, so a peer msize
// equal to the msize the kernel mounts with would turn every full-size
// kernel request (msize-24 bytes) into one peer round trip, but any larger
// request of another client into two. The cost is at the peer: its server
// takes a buffer of the request's size per Tread in flight.
const DefaultMSize = 4 << 20

// Errors of the node table, kept together.
var (
	errBadHere = errors.New("node number out of range")
)

// Namespace is the union of every node's export, served as a p9.Attacher.
//
// Concurrency: mu guards nodes (the table) and is never held while talking
// to a peer; each peer has its own lock (see peer).
type Namespace struct {
	here  int
	local p9.Attacher
	cfg   config

	// localRoot is the local export's root, attached once; walks to
	// /here clone or walk from it.
	localRoot p9.File
	started   time.Time
	qids      qidTable

	mu     sync.RWMutex
	nodes  map[int]*peer
	closed bool
}

// New builds the namespace served by node here, whose own export is local
// (used in-process: no socket, no 9P encoding). Node here is in the table
// from the start, alive; SetNode may later give it an address.
func New(here int, local p9.Attacher, opts ...Option) (*Namespace, error) {
	if here < 1 || here > MaxNodeID {
		return nil, fmt.Errorf("namespace: here=%d: %w", here, errBadHere)
	}
	if local == nil {
		return nil, errors.New("namespace: no local export")
	}
	cfg := config{log: slog.New(slog.DiscardHandler), timeout: 5 * time.Second, msize: DefaultMSize}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if cfg.timeout <= 0 {
		return nil, fmt.Errorf("namespace: timeout %v: must be positive", cfg.timeout)
	}
	lr, err := local.Attach()
	if err != nil {
		return nil, fmt.Errorf("namespace: attach local export: %w", err)
	}
	ns := &Namespace{here: here, local: local, cfg: cfg, localRoot: lr, started: time.Now(), nodes: map[int]*peer{}}
	ns.nodes[here] = newPeer(ns, Node{ID: here, State: membership.Alive})
	return ns, nil
}

// Attach implements p9.Attacher: a fresh root with its own context
// (home = selected = here), as an attach with an empty name.
func (ns *Namespace) Attach() (p9.File, error) {
	return ns.AttachWith(srv9p.Attach{UID: p9.NoUID})
}

// AttachWith implements srv9p.Attacher: the attach name's context
// elements (see the package doc) make the attach's context, and the file
// returned is the rest of the name walked from its root. Files made
// through the attach belong to its n_uname.
func (ns *Namespace) AttachWith(a srv9p.Attach) (p9.File, error) {
	if ns.isClosed() {
		return nil, errClosed
	}
	ctx := &attachCtx{home: ns.here, selected: ns.here, uid: a.UID}
	var path []string
	for _, elem := range strings.Split(a.Name, "/") {
		switch {
		case elem == "":
		case path == nil && strings.Contains(elem, "="):
			if err := ns.applyContext(ctx, elem); err != nil {
				return nil, err
			}
		case elem == "." || elem == "..":
			ns.cfg.log.Info("namespace: bad attach name element", slog.String("element", elem))
			return nil, linux.EINVAL
		default:
			path = append(path, elem)
		}
	}
	r := &root{ns: ns, ctx: ctx}
	if len(path) == 0 {
		return r, nil
	}
	_, f, err := r.Walk(path)
	return f, err
}

// SetNode adds a node or updates it. A changed address drops the old peer
// connection (files opened through it keep failing); the next walk dials
// the new address.
func (ns *Namespace) SetNode(n Node) {
	if n.ID < 1 || n.ID > MaxNodeID {
		ns.cfg.log.Error("namespace: node number out of range, ignored", slog.Int("node", n.ID), slog.String("addr", n.Addr))
		return
	}
	ns.mu.Lock()
	p, ok := ns.nodes[n.ID]
	if !ok {
		ns.nodes[n.ID] = newPeer(ns, n)
		ns.mu.Unlock()
		ns.cfg.log.Debug("namespace: node added", slog.Int("node", n.ID), slog.String("addr", n.Addr), slog.String("state", n.State.String()))
		return
	}
	ns.mu.Unlock()
	p.update(n)
}

// RemoveNode forgets a node for good (serf reaped it) and drops its
// connection. The serving node itself cannot be removed.
func (ns *Namespace) RemoveNode(id int) {
	if id == ns.here {
		ns.cfg.log.Warn("namespace: refusing to remove the serving node", slog.Int("node", id))
		return
	}
	ns.mu.Lock()
	p, ok := ns.nodes[id]
	delete(ns.nodes, id)
	ns.mu.Unlock()
	if ok {
		p.drop("removed")
		ns.cfg.log.Debug("namespace: node removed", slog.Int("node", id))
	}
}

// Nodes returns the node table sorted by ID.
func (ns *Namespace) Nodes() []Node {
	ns.mu.RLock()
	out := make([]Node, 0, len(ns.nodes))
	for _, p := range ns.nodes {
		out = append(out, p.node())
	}
	ns.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Close drops every peer connection; later attaches fail.
func (ns *Namespace) Close() error {
	ns.mu.Lock()
	ns.closed = true
	peers := make([]*peer, 0, len(ns.nodes))
	for _, p := range ns.nodes {
		peers = append(peers, p)
	}
	ns.mu.Unlock()
	for _, p := range peers {
		p.drop("namespace closed")
	}
	return nil
}

// isClosed reports whether Close was called.
func (ns *Namespace) isClosed() bool {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.closed
}

// lookup returns the peer of node id, or nil.
func (ns *Namespace) lookup(id int) *peer {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.nodes[id]
}

// alive returns the IDs of alive nodes, sorted. The serving node is
// always alive to itself: its files are in-process.
func (ns *Namespace) alive() []int {
	var ids []int
	for _, n := range ns.Nodes() {
		if n.State == membership.Alive || n.ID == ns.here {
			ids = append(ids, n.ID)
		}
	}
	return ids
}
