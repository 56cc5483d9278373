package tests

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mfs/tests/clusterutil"
)

// burnCPU keeps every CPU busy (two spinning goroutines per CPU) until
// the returned stop is called or d has passed, whichever is first.
func burnCPU(d time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range 2 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := 0; ; x++ {
				if x%(1<<16) == 0 {
					select {
					case <-done:
						return
					default:
					}
					if time.Now().After(end) {
						return
					}
				}
			}
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// TestLogLevelsLoaded: a healthy 3-node cluster on a machine kept busy
// for 30 s logs no ERROR line (memberlist's late pings included) and no
// gossip library line above info; a client's bad attach name is one info
// line on the node it asked; a killed member is "member failed" at warn
// on the others.
func TestLogLevelsLoaded(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s of load")
	}
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 3})
	stop := burnCPU(30 * time.Second)
	defer stop()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline) && i < 300; i++ {
		// Some traffic across nodes while the machine is busy.
		if _, err := c.Node(1).List("/2"); err != nil {
			t.Logf("list /2 under load: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	r := cliRun9p(t, c.Node(1).Addr, "", "--aname", "home=9", "ls", "/")
	if r.code != 1 || r.stderr != "mfs 9p: attach \"home=9\": home=9: no such node\n" {
		t.Errorf("bad attach name: exit %d, %q", r.code, r.stderr)
	}
	c.Node(3).Kill(t)
	waitState(t, c, 1, 3, "failed")

	for _, n := range c.Nodes[:2] {
		var bad, failed []string
		for _, l := range strings.Split(n.Log(), "\n") {
			var e nodeLogLine
			if json.Unmarshal([]byte(l), &e) != nil {
				continue
			}
			switch {
			case e.Level == "ERROR":
				bad = append(bad, l)
			case e.Lib != "" && e.Level != "DEBUG" && e.Level != "INFO":
				bad = append(bad, l)
			case e.Msg == "member failed" && int(e.ID) == 3:
				failed = append(failed, e.Level)
			}
			if e.Msg == "namespace: bad attach name element" && (n.ID != 1 || e.Level != "INFO") {
				bad = append(bad, l)
			}
		}
		if len(bad) > 0 {
			t.Errorf("node %d logged, on a healthy loaded cluster:\n%s", n.ID, strings.Join(bad, "\n"))
		}
		if n.ID == 1 && strings.Join(failed, " ") != "WARN" {
			t.Errorf("node 1's member failed lines about node 3 at %q, want one at WARN", failed)
		}
		if n.ID == 1 && strings.Count(n.Log(), "bad attach name element") != 1 {
			t.Errorf("node 1 logged the bad attach name %d times, want once", strings.Count(n.Log(), "bad attach name element"))
		}
	}
}
