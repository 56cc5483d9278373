package membership

import (
	"fmt"
	"log/slog"
	"time"
)

// Timings are the serf and memberlist timers membership sets. They decide
// how fast joins, failures and departures reach every node, and how long a
// failed or departed node stays listed before it is reaped.
type Timings struct {
	// ProbeInterval is how often each node probes a random member.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a probe waits for an ack before indirect
	// probes are tried.
	ProbeTimeout time.Duration
	// GossipInterval is how often queued broadcasts are sent.
	GossipInterval time.Duration
	// SuspicionMult scales how long a suspect stays suspect before it is
	// declared failed (SuspicionMult × log10(N) × ProbeInterval).
	SuspicionMult int
	// PushPullInterval is how often a full state exchange is made with a
	// random member (it heals partitions and missed gossip).
	PushPullInterval time.Duration
	// GossipToTheDeadTime is how long dead members still receive gossip.
	GossipToTheDeadTime time.Duration
	// DeadNodeReclaimTime is how long a dead member's number stays bound to
	// its old address before a node at another address may take it.
	DeadNodeReclaimTime time.Duration
	// TCPTimeout bounds memberlist's stream connections (joins, push-pull).
	TCPTimeout time.Duration
	// ReapInterval is how often serf reaps failed and left members.
	ReapInterval time.Duration
	// ReconnectInterval is how often serf tries to reach failed members
	// (how fast a healed network cut is noticed).
	ReconnectInterval time.Duration
	// ReconnectTimeout is how long a failed member is kept (and retried)
	// before it is reaped.
	ReconnectTimeout time.Duration
	// TombstoneTimeout is how long a member that left is kept before it is
	// reaped.
	TombstoneTimeout time.Duration
	// BroadcastTimeout bounds how long Leave waits for its broadcast.
	BroadcastTimeout time.Duration
	// LeavePropagateDelay is how long Leave waits for the leave to spread
	// before the node stops answering.
	LeavePropagateDelay time.Duration
}

// lanTimings are memberlist's LAN defaults with serf's reconnect and reap
// timers shortened from a day to what suits a file system: a failed node
// stays listed (as failed) for an hour, a departed one for ten minutes.
func lanTimings() Timings {
	return Timings{
		ProbeInterval:       time.Second,
		ProbeTimeout:        500 * time.Millisecond,
		GossipInterval:      200 * time.Millisecond,
		SuspicionMult:       4,
		PushPullInterval:    30 * time.Second,
		GossipToTheDeadTime: 30 * time.Second,
		DeadNodeReclaimTime: 30 * time.Second,
		TCPTimeout:          10 * time.Second,
		ReapInterval:        15 * time.Second,
		ReconnectInterval:   10 * time.Second,
		ReconnectTimeout:    time.Hour,
		TombstoneTimeout:    10 * time.Minute,
		BroadcastTimeout:    5 * time.Second,
		LeavePropagateDelay: time.Second,
	}
}

// FastTimings suit a cluster on one machine (loopback, tests, the demo):
// a failure is noticed in about a second and reaped after a minute.
// They are not tight enough to flap on a loaded two-core machine.
func FastTimings() Timings {
	return Timings{
		ProbeInterval:       200 * time.Millisecond,
		ProbeTimeout:        100 * time.Millisecond,
		GossipInterval:      20 * time.Millisecond,
		SuspicionMult:       3,
		PushPullInterval:    3 * time.Second,
		GossipToTheDeadTime: 5 * time.Second,
		DeadNodeReclaimTime: time.Second,
		TCPTimeout:          2 * time.Second,
		ReapInterval:        time.Second,
		ReconnectInterval:   500 * time.Millisecond,
		ReconnectTimeout:    time.Minute,
		TombstoneTimeout:    time.Minute,
		BroadcastTimeout:    2 * time.Second,
		LeavePropagateDelay: 500 * time.Millisecond,
	}
}

// check reports the first timer that is not positive: serf and memberlist
// would spin or panic on it.
func (t Timings) check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ProbeInterval", t.ProbeInterval}, {"ProbeTimeout", t.ProbeTimeout},
		{"GossipInterval", t.GossipInterval}, {"PushPullInterval", t.PushPullInterval},
		{"GossipToTheDeadTime", t.GossipToTheDeadTime}, {"DeadNodeReclaimTime", t.DeadNodeReclaimTime},
		{"TCPTimeout", t.TCPTimeout}, {"ReapInterval", t.ReapInterval},
		{"ReconnectInterval", t.ReconnectInterval}, {"ReconnectTimeout", t.ReconnectTimeout},
		{"TombstoneTimeout", t.TombstoneTimeout}, {"BroadcastTimeout", t.BroadcastTimeout},
		{"LeavePropagateDelay", t.LeavePropagateDelay},
	} {
		if d.v <= 0 {
			return fmt.Errorf("timing %s = %v: must be positive", d.name, d.v)
		}
	}
	if t.SuspicionMult < 1 {
		return fmt.Errorf("timing SuspicionMult = %d: must be at least 1", t.SuspicionMult)
	}
	return nil
}

// profiles names the timing profiles ParseProfile knows.
var profiles = []string{"lan", "fast"}

// ParseProfile returns the timings of a named profile: "lan" or "fast".
func ParseProfile(name string) (Timings, error) {
	switch name {
	case "lan", "":
		return lanTimings(), nil
	case "fast":
		return FastTimings(), nil
	}
	return Timings{}, fmt.Errorf("gossip profile %q: want lan or fast", name)
}

// ParseKey decodes a gossip encryption key: base64 of 16, 24 or 32 bytes
// (AES-128, -192 or -256), as `openssl rand -base64 32` prints.
func ParseKey(s string) ([]byte, error) {
	key, err := decodeKey(s)
	if err != nil {
		return nil, fmt.Errorf("encrypt key: %w", err)
	}
	return key, nil
}

// Config configures a Membership. Start from DefaultConfig and set ID,
// ExportAddr, BindAddr and Table.
type Config struct {
	// ID is this node's number (1, 2, …).
	ID int
	// ExportAddr is the address peers reach this node's 9P export at. An
	// unspecified host (0.0.0.0, ::) is replaced by the gossip address's.
	ExportAddr string
	// BindAddr is the gossip address (host:port; UDP and TCP). Port 0
	// picks a free one.
	BindAddr string
	// AdvertiseAddr, if set, is the gossip address told to others (behind
	// NAT, or when BindAddr is 0.0.0.0 and the guess is wrong). Unset, it
	// is BindAddr, or for a BindAddr on every interface (0.0.0.0, ::)
	// the host's first non-loopback IPv4 address (firstIPv4) and the
	// bound port.
	AdvertiseAddr string
	// Key, if set, encrypts gossip (see ParseKey).
	Key []byte
	// Timings are the gossip timers (lanTimings, FastTimings).
	Timings Timings
	// Table receives member changes. Required.
	Table Table
	// Logger receives membership's and serf's logs. Nil discards them.
	Logger *slog.Logger
	// OnEvent, if set, is told of every member change as it is applied
	// to the Table, from the same goroutine (it must not block): a
	// metrics counter, say.
	OnEvent func(e Event, id int)
}

// Event is a kind of member change, for Config.OnEvent.
type Event string

// Member changes.
const (
	EventJoin   Event = "join"   // a member joined (or came back)
	EventUpdate Event = "update" // a member's tags changed
	EventFail   Event = "fail"   // a member stopped answering
	EventLeave  Event = "leave"  // a member left gracefully
	EventReap   Event = "reap"   // a failed or departed member was forgotten
)

// DefaultConfig returns a configuration with LAN timings, gossip on
// 0.0.0.0:7946 and no encryption.
func DefaultConfig() *Config {
	return &Config{
		BindAddr: "0.0.0.0:7946",
		Timings:  lanTimings(),
	}
}
