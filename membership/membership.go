package membership

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/serf/serf"

	"mfs/internal/dial"
)

// State is a member's state as gossip sees it.
type State int

// Member states.
const (
	// Alive members answer probes.
	Alive State = iota
	// Failed members stopped answering (crash, cut link); serf keeps
	// trying to reach them until Timings.ReconnectTimeout.
	Failed
	// Left members said goodbye (graceful shutdown).
	Left
)

// String returns "alive", "failed" or "left".
func (s State) String() string {
	switch s {
	case Alive:
		return "alive"
	case Failed:
		return "failed"
	case Left:
		return "left"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Member is one node of the cluster.
type Member struct {
	// ID is the node number.
	ID int
	// Addr is the address of the node's 9P export.
	Addr string
	// State is alive, failed or left.
	State State
	// Gossip is the node's gossip address.
	Gossip string
}

// Table receives member changes, in the order serf reports them, from one
// goroutine. Calls must not block for long: serf waits for them.
type Table interface {
	// SetNode adds or updates a member.
	SetNode(Member)
	// RemoveNode forgets a member that was reaped.
	RemoveNode(id int)
}

// Serf tags gossiped by every node.
const (
	tagID     = "id"
	tagExport = "9p"
)

// Errors returned by New and Join.
var (
	// ErrDuplicateID means a live member already has this node number.
	ErrDuplicateID = errors.New("node id already in use")
	// ErrJoin means no join address could be reached.
	ErrJoin = errors.New("no member reachable")
	// ErrKey means join addresses answered but gossip could not be
	// decrypted (another --encrypt key, or none on one side).
	ErrKey = errors.New("gossip encryption mismatch")
	// errStopped means serf stopped on its own (it lost a name conflict).
	errStopped = errors.New("gossip stopped")
	// ErrNoAdvertise means gossip binds every interface (0.0.0.0, ::), no
	// AdvertiseAddr was given, and the host has no non-loopback IPv4
	// address to advertise.
	ErrNoAdvertise = errors.New("no address to advertise: the host has no non-loopback IPv4 address")
)

// Membership is one node's view of the cluster, kept up to date by serf.
//
// Lock order: Membership.mu is a leaf; it is taken from serf's and
// memberlist's delegate callbacks and never held while calling into serf.
type Membership struct {
	cfg    Config
	log    *slog.Logger
	name   string
	serf   *serf.Serf
	events chan serf.Event
	done   chan struct{} // closed when the event loop returns

	attempts atomic.Int64 // join attempts made, for logs and tests
	// stopped quiets serf's and memberlist's lines once gossip is shut
	// down (see newStdLogger).
	stopped atomic.Bool

	mu       sync.Mutex
	members  map[string]Member // by serf node name, as events reported them
	self     string            // our gossip host:port, once serf is created
	joined   bool              // part of a cluster (first node, or joined)
	conflict error             // a duplicate id seen while joining
	leaving  bool              // Leave or Shutdown called
	err      error             // why the loop stopped on its own
}

// nodeName returns the serf node name of node number id.
func nodeName(id int) string { return "node-" + strconv.Itoa(id) }

// New starts gossip for one node: it binds cfg.BindAddr and announces the
// node to itself (the local node enters the Table at once). Call Join to
// reach the others; a node that is the first of its cluster needs no Join.
func New(cfg Config) (*Membership, error) {
	if cfg.ID <= 0 {
		return nil, fmt.Errorf("membership: node id %d: want a positive number", cfg.ID)
	}
	if cfg.Table == nil {
		return nil, errors.New("membership: no table")
	}
	if _, _, err := dial.ParseAddr(cfg.ExportAddr); err != nil {
		return nil, fmt.Errorf("membership: export %w", err)
	}
	if err := cfg.Timings.check(); err != nil {
		return nil, fmt.Errorf("membership: %w", err)
	}
	host, port, err := splitHostPort(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("membership: gossip address %q: %w", cfg.BindAddr, err)
	}
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Membership{
		cfg:     cfg,
		log:     l.With(slog.Int("self", cfg.ID)),
		name:    nodeName(cfg.ID),
		events:  make(chan serf.Event, 256),
		done:    make(chan struct{}),
		members: make(map[string]Member),
	}

	sc := serf.DefaultConfig()
	sc.NodeName = m.name
	sc.Tags = map[string]string{tagID: strconv.Itoa(cfg.ID), tagExport: cfg.ExportAddr}
	sc.EventCh = m.events
	sc.Merge = mergeCheck{m}
	std := newStdLogger(l.With(slog.Int("self", cfg.ID)), &m.stopped)
	sc.Logger = std
	sc.MemberlistConfig.Logger = std
	sc.MemberlistConfig.BindAddr = host
	sc.MemberlistConfig.BindPort = port
	switch {
	case cfg.AdvertiseAddr != "":
		ahost, aport, err := splitHostPort(cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("membership: advertise address %q: %w", cfg.AdvertiseAddr, err)
		}
		sc.MemberlistConfig.AdvertiseAddr = ahost
		sc.MemberlistConfig.AdvertisePort = aport
	case net.ParseIP(host).IsUnspecified():
		// Bound to every interface: advertise the host's first
		// non-loopback IPv4 address (memberlist would pick a "private"
		// one, which may be an IPv6 ULA, or none at all for ::). The
		// port is the bound one (memberlist sets it for port 0).
		ip, err := firstIPv4()
		if err != nil {
			return nil, fmt.Errorf("membership: gossip on %s: %w", cfg.BindAddr, err)
		}
		sc.MemberlistConfig.AdvertiseAddr = ip.String()
		sc.MemberlistConfig.AdvertisePort = port
	}
	if len(cfg.Key) > 0 {
		if n := len(cfg.Key); n != 16 && n != 24 && n != 32 {
			return nil, fmt.Errorf("membership: encrypt key: %d bytes, want 16, 24 or 32", n)
		}
		sc.MemberlistConfig.SecretKey = cfg.Key
	}
	t := cfg.Timings
	mc := sc.MemberlistConfig
	mc.ProbeInterval = t.ProbeInterval
	mc.ProbeTimeout = t.ProbeTimeout
	mc.GossipInterval = t.GossipInterval
	mc.SuspicionMult = t.SuspicionMult
	mc.PushPullInterval = t.PushPullInterval
	mc.GossipToTheDeadTime = t.GossipToTheDeadTime
	mc.DeadNodeReclaimTime = t.DeadNodeReclaimTime
	mc.TCPTimeout = t.TCPTimeout
	sc.ReapInterval = t.ReapInterval
	sc.ReconnectInterval = t.ReconnectInterval
	sc.ReconnectTimeout = t.ReconnectTimeout
	sc.TombstoneTimeout = t.TombstoneTimeout
	sc.BroadcastTimeout = t.BroadcastTimeout
	sc.LeavePropagateDelay = t.LeavePropagateDelay

	// serf queues its first events (our own join) in m.events while it
	// starts; the loop takes them from there.
	s, err := serf.Create(sc)
	if err != nil {
		return nil, fmt.Errorf("membership: gossip on %s: %w", cfg.BindAddr, err)
	}
	m.serf = s
	go m.loop()
	local := s.LocalMember()
	m.mu.Lock()
	m.self = net.JoinHostPort(local.Addr.String(), strconv.Itoa(int(local.Port)))
	m.joined = true // alone, we are a cluster of one until Join
	m.mu.Unlock()

	// Peers cannot dial 0.0.0.0: advertise the gossip host instead. (A
	// unix:/path export is reachable on this machine only: demos.)
	if network, _, _ := dial.ParseAddr(cfg.ExportAddr); network == "tcp" {
		if eh, ep, _ := net.SplitHostPort(cfg.ExportAddr); eh == "" || net.ParseIP(eh).IsUnspecified() {
			tags := maps.Clone(sc.Tags)
			tags[tagExport] = net.JoinHostPort(local.Addr.String(), ep)
			if err := s.SetTags(tags); err != nil {
				m.Shutdown()
				return nil, fmt.Errorf("membership: set tags: %w", err)
			}
		}
	}
	m.log.Debug("gossip started", slog.String("addr", m.self), slog.Bool("encrypted", len(cfg.Key) > 0))
	return m, nil
}

// GossipAddr returns the gossip address others join this node at.
func (m *Membership) GossipAddr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.self
}

// ExportAddr returns the 9P export address this node advertises.
func (m *Membership) ExportAddr() string {
	return m.serf.LocalMember().Tags[tagExport]
}

// Join contacts the given gossip addresses (host:port) and merges with the
// cluster of the first that answers. Until one answers it retries with
// backoff (100 ms doubling to 5 s) until ctx is done. It fails at once,
// without retrying, when this node's id is held by a live member
// (ErrDuplicateID) or gossip keys differ (ErrKey).
func (m *Membership) Join(ctx context.Context, addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	m.mu.Lock()
	m.joined = false
	m.conflict = nil
	m.mu.Unlock()
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		n, err := m.serf.Join(addrs, true)
		m.attempts.Add(1)
		m.mu.Lock()
		conflict := m.conflict
		if n > 0 && conflict == nil {
			m.joined = true
		}
		m.mu.Unlock()
		if conflict != nil {
			return fmt.Errorf("join %s: %w", strings.Join(addrs, ","), conflict)
		}
		if n > 0 {
			m.log.Info("joined", slog.Int("contacted", n), slog.Int("attempt", attempt))
			return nil
		}
		if isKeyError(err) {
			return fmt.Errorf("join %s: %w (every node needs the same --encrypt or --key-file key): %s", strings.Join(addrs, ","), ErrKey, oneLine(err))
		}
		m.log.Warn("join failed, retrying", slog.String("err", oneLine(err)), slog.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return fmt.Errorf("join %s: %w: %s", strings.Join(addrs, ","), ErrJoin, oneLine(err))
		case <-m.done:
			return fmt.Errorf("join %s: %w", strings.Join(addrs, ","), m.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// isKeyError tells a key mismatch from an unreachable address by
// memberlist's error texts ("no installed keys could decrypt the message",
// "remote state is encrypted and encryption is not configured", "encryption
// is configured but remote state is not encrypted").
func isKeyError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "crypt")
}

// oneLine flattens serf's multi-line join errors ("1 error occurred:\n\t*
// failed to join …") into one line.
func oneLine(err error) string {
	if err == nil {
		return "no answer"
	}
	var parts []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "* "); ok {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return strings.TrimSpace(err.Error())
	}
	return strings.Join(parts, "; ")
}

// Members returns the members serf has reported, by id.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	out := make([]Member, 0, len(m.members))
	for _, mem := range m.members {
		out = append(out, mem)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return a.ID - b.ID })
	return out
}

// Done is closed when gossip has stopped, by Leave, Shutdown, or on its own
// (see Err).
func (m *Membership) Done() <-chan struct{} { return m.done }

// Err returns why gossip stopped on its own ("gossip stopped: lost a node
// name conflict …"), or nil.
func (m *Membership) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Leave tells the cluster this node is going (the others show it as left at
// once) and stops gossip.
func (m *Membership) Leave() error {
	m.mu.Lock()
	m.leaving = true
	m.mu.Unlock()
	err := m.serf.Leave()
	if serr := m.serf.Shutdown(); err == nil {
		err = serr
	}
	m.stopped.Store(true)
	<-m.done
	if err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	return nil
}

// Shutdown stops gossip without a goodbye: the others detect a failure, as
// after a crash.
func (m *Membership) Shutdown() error {
	m.mu.Lock()
	m.leaving = true
	m.mu.Unlock()
	err := m.serf.Shutdown()
	m.stopped.Store(true)
	<-m.done
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// loop is the one goroutine that reads serf's events and feeds the Table.
func (m *Membership) loop() {
	defer close(m.done)
	stopped := m.serf.ShutdownCh()
	for {
		select {
		case e := <-m.events:
			m.handle(e)
		case <-stopped:
			for { // deliver what serf queued before it stopped
				select {
				case e := <-m.events:
					m.handle(e)
					continue
				default:
				}
				break
			}
			m.mu.Lock()
			if !m.leaving {
				m.err = fmt.Errorf("%w: lost a node name conflict (another node has id %d)", errStopped, m.cfg.ID)
				m.log.Error("gossip stopped", slog.Any("err", m.err))
			}
			m.mu.Unlock()
			return
		}
	}
}

// handle applies one serf event to the Table.
func (m *Membership) handle(e serf.Event) {
	me, ok := e.(serf.MemberEvent)
	if !ok {
		return
	}
	for _, sm := range me.Members {
		id, err := strconv.Atoi(sm.Tags[tagID])
		if err != nil || id <= 0 || sm.Name != nodeName(id) {
			m.log.Warn("ignoring member with bad id tag", slog.String("name", sm.Name), slog.String("id", sm.Tags[tagID]))
			continue
		}
		mem := Member{
			ID:     id,
			Addr:   sm.Tags[tagExport],
			Gossip: net.JoinHostPort(sm.Addr.String(), strconv.Itoa(int(sm.Port))),
		}
		what := ""
		var ev Event
		switch me.Type {
		case serf.EventMemberJoin:
			mem.State, what, ev = Alive, "member joined", EventJoin
		case serf.EventMemberUpdate:
			mem.State, what, ev = Alive, "member updated", EventUpdate
		case serf.EventMemberFailed:
			mem.State, what, ev = Failed, "member failed", EventFail
		case serf.EventMemberLeave:
			mem.State, what, ev = Left, "member left", EventLeave
		case serf.EventMemberReap:
			m.mu.Lock()
			delete(m.members, sm.Name)
			m.mu.Unlock()
			m.log.Info("member reaped", slog.Int("id", id))
			m.cfg.Table.RemoveNode(id)
			m.event(EventReap, id)
			continue
		default:
			continue
		}
		m.mu.Lock()
		m.members[sm.Name] = mem
		m.mu.Unlock()
		// A member this node finds failed is a fault seen from here: warn.
		level := slog.LevelInfo
		if mem.State == Failed {
			level = slog.LevelWarn
		}
		m.log.Log(context.Background(), level, what, slog.Int("id", id), slog.String("export", mem.Addr), slog.String("gossip", mem.Gossip), slog.String("state", mem.State.String()))
		m.cfg.Table.SetNode(mem)
		m.event(ev, id)
	}
}

// event tells Config.OnEvent, if set, of a member change.
func (m *Membership) event(e Event, id int) {
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(e, id)
	}
}

// firstIPv4 returns the first IPv4 address, in interface order, of an
// interface that is up and not loopback: the address a node bound to every
// interface advertises unless told otherwise.
func firstIPv4() (net.IP, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoAdvertise, err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip4 := n.IP.To4(); ip4 != nil && !ip4.IsLoopback() && !ip4.IsLinkLocalUnicast() {
					return ip4, nil
				}
			}
		}
	}
	return nil, ErrNoAdvertise
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, errors.New("want host:port")
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	if net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("host %q: want an IP address", host)
	}
	return host, port, nil
}
