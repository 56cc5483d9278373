package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// recTable is a Table that records every call.
type recTable struct {
	mu      sync.Mutex
	nodes   map[int]Member
	history []Member // every SetNode, in order
	removed []int
}

func newRecTable() *recTable { return &recTable{nodes: make(map[int]Member)} }

func (r *recTable) SetNode(m Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nodes[m.ID] = m
	r.history = append(r.history, m)
}

func (r *recTable) RemoveNode(id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.nodes, id)
	r.removed = append(r.removed, id)
}

// state returns node id's state, and whether the table has it.
func (r *recTable) state(id int) (State, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.nodes[id]
	return m.State, ok
}

func (r *recTable) get(id int) Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nodes[id]
}

// testLogger tags logs with the test name; set MFS_TEST_LOG=1 to see them.
func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelError + 1
	if os.Getenv("MFS_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With(slog.String("test", t.Name()))
}

// node is one in-process member with its table.
type node struct {
	id    int
	m     *Membership
	table *recTable
}

// startNode starts node id gossiping on bind (127.0.0.1:0 for a free port).
func startNode(t testing.TB, id int, bind string, key []byte, edit func(*Config)) (*node, error) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ID = id
	cfg.BindAddr = bind
	cfg.ExportAddr = fmt.Sprintf("127.0.0.1:%d", 5000+id)
	cfg.Timings = FastTimings()
	cfg.Key = key
	cfg.Logger = testLogger(t)
	tab := newRecTable()
	cfg.Table = tab
	if edit != nil {
		edit(cfg)
	}
	m, err := New(*cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { m.Shutdown() })
	return &node{id: id, m: m, table: tab}, nil
}

func mustStart(t testing.TB, id int, bind string, key []byte, edit func(*Config)) *node {
	t.Helper()
	n, err := startNode(t, id, bind, key, edit)
	if err != nil {
		t.Fatalf("start node %d: %v", id, err)
	}
	return n
}

func join(t testing.TB, n *node, to ...*node) error {
	t.Helper()
	var addrs []string
	for _, o := range to {
		addrs = append(addrs, o.m.GossipAddr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return n.m.Join(ctx, addrs)
}

// allSee waits until every node in nodes has id in state want.
func allSee(t testing.TB, nodes []*node, id int, want State) {
	t.Helper()
	for _, n := range nodes {
		clusterutil.Eventually(t, 15*time.Second, fmt.Sprintf("node %d sees node %d %v", n.id, id, want), func() bool {
			s, ok := n.table.state(id)
			return ok && s == want
		})
	}
}

func TestLifecycle(t *testing.T) {
	short := func(c *Config) {
		c.Timings.ReconnectTimeout = 3 * time.Second
		c.Timings.TombstoneTimeout = 3 * time.Second
	}
	n1 := mustStart(t, 1, "127.0.0.1:0", nil, short)
	n2 := mustStart(t, 2, "127.0.0.1:0", nil, short)
	n3 := mustStart(t, 3, "127.0.0.1:0", nil, short)
	if err := join(t, n2, n1); err != nil {
		t.Fatal(err)
	}
	if err := join(t, n3, n2); err != nil {
		t.Fatal(err)
	}
	all := []*node{n1, n2, n3}
	for _, n := range all {
		allSee(t, all, n.id, Alive)
	}
	for _, n := range all {
		for _, o := range all {
			got := n.table.get(o.id)
			if want := fmt.Sprintf("127.0.0.1:%d", 5000+o.id); got.Addr != want || got.Gossip != o.m.GossipAddr() {
				t.Errorf("node %d's record of %d: %+v, want export %s gossip %s", n.id, o.id, got, want, o.m.GossipAddr())
			}
		}
	}

	// A crash: the others notice the failure.
	gossip3 := n3.m.GossipAddr()
	n3.m.Shutdown()
	allSee(t, []*node{n1, n2}, 3, Failed)

	// The same id restarted at the same address comes back.
	n3 = mustStart(t, 3, gossip3, nil, short)
	if err := join(t, n3, n1); err != nil {
		t.Fatalf("rejoin: %v", err)
	}
	all = []*node{n1, n2, n3}
	for _, n := range all {
		allSee(t, all, n.id, Alive)
	}

	// A node that left comes back when restarted (its tombstone is
	// refuted), then leaves again and is reaped.
	gossip2 := n2.m.GossipAddr()
	if err := n2.m.Leave(); err != nil {
		t.Fatal(err)
	}
	allSee(t, []*node{n1, n3}, 2, Left)
	n2 = mustStart(t, 2, gossip2, nil, short)
	if err := join(t, n2, n3); err != nil {
		t.Fatalf("rejoin after leave: %v", err)
	}
	allSee(t, []*node{n1, n2, n3}, 2, Alive)
	if err := n2.m.Leave(); err != nil {
		t.Fatal(err)
	}
	allSee(t, []*node{n1, n3}, 2, Left)
	for _, n := range []*node{n1, n3} {
		clusterutil.Eventually(t, 15*time.Second, fmt.Sprintf("node %d reaps node 2", n.id), func() bool {
			_, ok := n.table.state(2)
			return !ok
		})
	}
	if s, ok := n1.table.state(1); !ok || s != Alive {
		t.Errorf("node 1 lost itself: %v %v", s, ok)
	}
}

func TestRestartElsewhere(t *testing.T) {
	n1 := mustStart(t, 1, "127.0.0.1:0", nil, nil)
	n2 := mustStart(t, 2, "127.0.0.1:0", nil, nil)
	if err := join(t, n2, n1); err != nil {
		t.Fatal(err)
	}
	allSee(t, []*node{n1}, 2, Alive)
	old := n2.m.GossipAddr()
	n2.m.Shutdown()
	allSee(t, []*node{n1}, 2, Failed)
	// Restarted on another port: the dead record is reclaimed.
	n2 = mustStart(t, 2, "127.0.0.1:0", nil, nil)
	if err := join(t, n2, n1); err != nil {
		t.Fatalf("rejoin from another port: %v", err)
	}
	clusterutil.Eventually(t, 15*time.Second, "node 1 sees node 2 alive at its new address", func() bool {
		m := n1.table.get(2)
		return m.State == Alive && m.Gossip == n2.m.GossipAddr() && m.Gossip != old
	})
}

func TestDuplicateID(t *testing.T) {
	n1 := mustStart(t, 1, "127.0.0.1:0", nil, nil)
	n2 := mustStart(t, 2, "127.0.0.1:0", nil, nil)
	if err := join(t, n2, n1); err != nil {
		t.Fatal(err)
	}
	allSee(t, []*node{n1, n2}, 2, Alive)
	allSee(t, []*node{n1, n2}, 1, Alive)

	for _, target := range []*node{n1, n2} {
		t.Run(fmt.Sprintf("via node %d", target.id), func(t *testing.T) {
			dup, err := startNode(t, 2, "127.0.0.1:0", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = join(t, dup, target)
			if !errors.Is(err, ErrDuplicateID) {
				t.Fatalf("join of a second node 2: got %v, want ErrDuplicateID", err)
			}
			if !strings.Contains(err.Error(), n2.m.GossipAddr()) {
				t.Errorf("error %q does not name the holder %s", err, n2.m.GossipAddr())
			}
			t.Logf("refused: %v", err)
			dup.m.Shutdown()
		})
	}
	// Nothing was ever shown at the impostors' addresses.
	for _, n := range []*node{n1, n2} {
		n.table.mu.Lock()
		for _, m := range n.table.history {
			if m.ID == 2 && m.Gossip != n2.m.GossipAddr() {
				t.Errorf("node %d was told about a second node 2: %+v", n.id, m)
			}
		}
		n.table.mu.Unlock()
	}
	if s, _ := n1.table.state(2); s != Alive {
		t.Errorf("node 1 sees the real node 2 as %v", s)
	}
}

func TestEncryption(t *testing.T) {
	keyA, _ := ParseKey("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
	keyB, _ := ParseKey("QkJCQkJCQkJCQkJCQkJCQg==")
	tests := []struct {
		name          string
		cluster, join []byte
		wantErr       error
	}{
		{"same key", keyA, keyA, nil},
		{"wrong key", keyA, keyB, ErrKey},
		{"missing key", keyA, nil, ErrKey},
		{"key against plain cluster", nil, keyA, ErrKey},
		{"both plain", nil, nil, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log1, log2 lines
			logTo := func(w *lines) func(*Config) {
				return func(c *Config) {
					c.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
				}
			}
			n1 := mustStart(t, 1, "127.0.0.1:0", tt.cluster, logTo(&log1))
			n2 := mustStart(t, 2+i, "127.0.0.1:0", tt.join, logTo(&log2))
			err := join(t, n2, n1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("join: got %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				t.Logf("join refused: %q", err)
			}
			if tt.wantErr == nil {
				allSee(t, []*node{n1}, n2.id, Alive)
				return
			}
			if _, ok := n1.table.state(n2.id); ok {
				t.Errorf("node 1 lists node %d, which could not join", n2.id)
			}
			// Both sides say plainly why, once: the member (which
			// answered before the joiner returned) and the joiner.
			want := `level=WARN msg="` + KeyWarning + `"`
			for _, l := range []struct {
				who string
				log *lines
			}{{"the member", &log1}, {"the joiner", &log2}} {
				if got := l.log.String(); strings.Count(got, want) != 1 {
					t.Errorf("%s's log does not say %q once:\n%s", l.who, want, got)
				}
			}
		})
	}
}

func TestJoinRetry(t *testing.T) {
	// Reserve a port, then let the joiner try it before anyone listens.
	probe := mustStart(t, 9, "127.0.0.1:0", nil, nil)
	addr := probe.m.GossipAddr()
	probe.m.Shutdown()

	n2 := mustStart(t, 2, "127.0.0.1:0", nil, nil)
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		errc <- n2.m.Join(ctx, []string{addr})
	}()
	clusterutil.Eventually(t, 10*time.Second, "a failed join attempt", func() bool { return n2.m.attempts.Load() >= 2 })
	n1 := mustStart(t, 1, addr, nil, nil)
	if err := <-errc; err != nil {
		t.Fatalf("join after retries: %v", err)
	}
	allSee(t, []*node{n1, n2}, 2, Alive)

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	lone := mustStart(t, 3, "127.0.0.1:0", nil, nil)
	if err := lone.m.Join(ctx, []string{"127.0.0.1:1"}); !errors.Is(err, ErrJoin) {
		t.Errorf("join of a dead address: got %v, want ErrJoin", err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"zero id", func(c *Config) { c.ID = 0 }, "positive"},
		{"negative id", func(c *Config) { c.ID = -3 }, "positive"},
		{"no table", func(c *Config) { c.Table = nil }, "no table"},
		{"bad export", func(c *Config) { c.ExportAddr = "nowhere" }, "export address"},
		{"empty export", func(c *Config) { c.ExportAddr = "" }, "export empty address"},
		{"bad gossip", func(c *Config) { c.BindAddr = "localhost" }, "gossip address"},
		{"gossip host name", func(c *Config) { c.BindAddr = "example.org:7946" }, "IP address"},
		{"bad port", func(c *Config) { c.BindAddr = "127.0.0.1:99999" }, "bad port"},
		{"short key", func(c *Config) { c.Key = []byte("short") }, "want 16, 24 or 32"},
		{"no timings", func(c *Config) { c.Timings = Timings{} }, "ProbeInterval = 0s"},
		{"zero suspicion", func(c *Config) { c.Timings.SuspicionMult = 0 }, "SuspicionMult"},
		{"negative reap", func(c *Config) { c.Timings.ReapInterval = -time.Second }, "ReapInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := startNode(t, 1, "127.0.0.1:0", nil, tt.edit)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("address in use", func(t *testing.T) {
		n := mustStart(t, 1, "127.0.0.1:0", nil, nil)
		_, err := startNode(t, 2, n.m.GossipAddr(), nil, nil)
		if err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("got %v, want address in use", err)
		}
	})
}

func TestParse(t *testing.T) {
	keys := []struct {
		in      string
		wantLen int
	}{
		{"QUFBQUFBQUFBQUFBQUFBQQ==", 16},
		{"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", 24},
		{"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", 32},
		{"QUFB", 0},
		{"not base64!", 0},
		{"", 0},
	}
	for _, k := range keys {
		got, err := ParseKey(k.in)
		if k.wantLen == 0 && err == nil || k.wantLen != 0 && (err != nil || len(got) != k.wantLen) {
			t.Errorf("ParseKey(%q) = %d bytes, %v; want %d bytes", k.in, len(got), err, k.wantLen)
		}
	}
	for _, p := range []struct {
		in string
		ok bool
	}{{"lan", true}, {"fast", true}, {"", true}, {"wan", false}} {
		if _, err := ParseProfile(p.in); (err == nil) != p.ok {
			t.Errorf("ParseProfile(%q): %v", p.in, err)
		}
	}
	if f, l := FastTimings(), lanTimings(); f.ProbeInterval >= l.ProbeInterval {
		t.Errorf("fast probe interval %v not below LAN's %v", f.ProbeInterval, l.ProbeInterval)
	}
}

func TestExportHostAdvertised(t *testing.T) {
	tests := []struct{ export, want string }{
		{"0.0.0.0:5640", "127.0.0.1:5640"},
		{":5641", "127.0.0.1:5641"},
		{"127.0.0.2:5642", "127.0.0.2:5642"},
		{"unix:/run/mfs-export.sock", "unix:/run/mfs-export.sock"},
	}
	n1 := mustStart(t, 1, "127.0.0.1:0", nil, nil)
	for i, tt := range tests {
		t.Run(tt.export, func(t *testing.T) {
			id := 2 + i
			n := mustStart(t, id, "127.0.0.1:0", nil, func(c *Config) { c.ExportAddr = tt.export })
			if got := n.m.ExportAddr(); got != tt.want {
				t.Errorf("ExportAddr() = %q, want %q", got, tt.want)
			}
			if err := join(t, n, n1); err != nil {
				t.Fatal(err)
			}
			clusterutil.Eventually(t, 15*time.Second, "node 1 learns the export address", func() bool {
				return n1.table.get(id).Addr == tt.want
			})
		})
	}
}

func TestRestartBeforeDetection(t *testing.T) {
	n1 := mustStart(t, 1, "127.0.0.1:0", nil, nil)
	n2 := mustStart(t, 2, "127.0.0.1:0", nil, nil)
	if err := join(t, n2, n1); err != nil {
		t.Fatal(err)
	}
	allSee(t, []*node{n1}, 2, Alive)
	gossip := n2.m.GossipAddr()
	n2.m.Shutdown()
	// Back at once, at the same gossip address, with a new export
	// address: node 1 still holds the old life as alive.
	n2 = mustStart(t, 2, gossip, nil, func(c *Config) { c.ExportAddr = "127.0.0.1:6002" })
	if err := join(t, n2, n1); err != nil {
		t.Fatalf("quick restart: %v", err)
	}
	clusterutil.Eventually(t, 15*time.Second, "node 1 sees the new life of node 2", func() bool {
		m := n1.table.get(2)
		return m.State == Alive && m.Addr == "127.0.0.1:6002"
	})
}
