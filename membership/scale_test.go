package membership

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// timedTable records when each (node, state) first reached this member.
type timedTable struct {
	mu sync.Mutex
	at map[[2]int]time.Time
}

func (tt *timedTable) SetNode(m Member) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	k := [2]int{m.ID, int(m.State)}
	if _, ok := tt.at[k]; !ok {
		tt.at[k] = time.Now()
	}
}

func (tt *timedTable) RemoveNode(int) {}

// seen returns when node id reached state s here.
func (tt *timedTable) seen(id int, s State) (time.Time, bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	t, ok := tt.at[[2]int{id, int(s)}]
	return t, ok
}

// spread waits until every table saw (id, s) and returns how long after
// t0 the last one did.
func spread(b *testing.B, tables []*timedTable, id int, s State, t0 time.Time) time.Duration {
	b.Helper()
	var last time.Time
	for i, tt := range tables {
		var at time.Time
		clusterutil.Eventually(b, 60*time.Second, fmt.Sprintf("member %d sees node %d %v", i+1, id, s), func() bool {
			var ok bool
			at, ok = tt.seen(id, s)
			return ok
		})
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(t0)
}

// BenchmarkPropagation measures, for clusters of 3, 8 and 16 in-process
// nodes on loopback with FastTimings and lanTimings, how long a join, a crash (failure
// detection) and a graceful leave take to reach every other node. Figures
// are reported as join-ms, fail-ms and leave-ms (the loop time is setup).
//
//	go test ./membership -run '^$' -bench Propagation -benchtime 1x
func BenchmarkPropagation(b *testing.B) {
	for _, profile := range profiles {
		timings, _ := ParseProfile(profile)
		for _, size := range []int{3, 8, 16} {
			b.Run(fmt.Sprintf("%s/nodes=%d", profile, size), func(b *testing.B) {
				var join, fail, leave time.Duration
				for b.Loop() {
					j, f, l := propagation(b, size, timings)
					join, fail, leave = join+j, fail+f, leave+l
				}
				n := float64(b.N)
				b.ReportMetric(float64(join.Milliseconds())/n, "join-ms")
				b.ReportMetric(float64(fail.Milliseconds())/n, "fail-ms")
				b.ReportMetric(float64(leave.Milliseconds())/n, "leave-ms")
			})
		}
	}
}

// propagation builds a cluster of size nodes, then times the last node's
// join, a crash of node 2 and a graceful leave of node 3.
func propagation(b *testing.B, size int, timings Timings) (join, fail, leave time.Duration) {
	var nodes []*Membership
	var tables []*timedTable
	defer func() {
		for _, m := range nodes {
			m.Shutdown()
		}
	}()
	add := func(id int) *Membership {
		tt := &timedTable{at: make(map[[2]int]time.Time)}
		n, err := startNode(b, id, "127.0.0.1:0", nil, func(c *Config) { c.Table = tt; c.Timings = timings })
		if err != nil {
			b.Fatal(err)
		}
		nodes, tables = append(nodes, n.m), append(tables, tt)
		return n.m
	}
	first := add(1)
	for id := 2; id < size; id++ {
		m := add(id)
		if err := joinAddrs(m, first.GossipAddr()); err != nil {
			b.Fatal(err)
		}
	}
	for id := 1; id < size; id++ {
		spread(b, tables, id, Alive, time.Now())
	}

	// Join: the last node contacts node 1; everyone else must hear of it.
	last := add(size)
	t0 := time.Now()
	if err := joinAddrs(last, first.GossipAddr()); err != nil {
		b.Fatal(err)
	}
	join = spread(b, tables[:size-1], size, Alive, t0)

	// Crash of node 2: no goodbye, detected by probes.
	survivors := append([]*timedTable{tables[0]}, tables[2:]...)
	t0 = time.Now()
	nodes[1].Shutdown()
	fail = spread(b, survivors, 2, Failed, t0)

	// Graceful leave of node 3, timed from the start of Leave.
	rest := append([]*timedTable{tables[0]}, tables[3:]...)
	t0 = time.Now()
	nodes[2].Leave()
	leave = spread(b, rest, 3, Left, t0)
	return join, fail, leave
}

func joinAddrs(m *Membership, addrs ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return m.Join(ctx, addrs)
}
