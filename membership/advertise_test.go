package membership

import (
	"bytes"
	"errors"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAdvertiseFirstIPv4: bound to every interface with no AdvertiseAddr,
// a node advertises the host's first non-loopback IPv4 address (not an
// IPv6 ULA, not 0.0.0.0 or ::) with the bound port, for gossip and for an
// export on every interface alike; bound to loopback it advertises
// loopback; an AdvertiseAddr's host given is used as it is.
func TestAdvertiseFirstIPv4(t *testing.T) {
	want, ipErr := firstIPv4()
	for _, bind := range []string{"0.0.0.0:0", "[::]:0"} {
		t.Run(bind, func(t *testing.T) {
			n, err := startNode(t, 1, bind, nil, func(c *Config) { c.ExportAddr = "0.0.0.0:5640" })
			if ipErr != nil {
				if !errors.Is(err, ErrNoAdvertise) {
					t.Fatalf("no IPv4 on this host (%v); New: %v, want ErrNoAdvertise", ipErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			host, port, _ := net.SplitHostPort(n.m.GossipAddr())
			if host != want.String() || port == "0" {
				t.Errorf("gossip advertised at %s, want %s:PORT", n.m.GossipAddr(), want)
			}
			if got := n.m.ExportAddr(); got != net.JoinHostPort(want.String(), "5640") {
				t.Errorf("export advertised at %s, want %s:5640", got, want)
			}
		})
	}
	t.Run("loopback", func(t *testing.T) {
		n := mustStart(t, 1, "127.0.0.1:0", nil, nil)
		if host, _, _ := net.SplitHostPort(n.m.GossipAddr()); host != "127.0.0.1" {
			t.Errorf("bound to loopback, advertised at %s", n.m.GossipAddr())
		}
	})
	t.Run("given", func(t *testing.T) {
		n := mustStart(t, 1, "127.0.0.1:0", nil, func(c *Config) { c.AdvertiseAddr = "127.0.0.2:7999" })
		// (memberlist advertises the bound port when it picked it.)
		if host, _, _ := net.SplitHostPort(n.m.GossipAddr()); host != "127.0.0.2" {
			t.Errorf("advertised at %s, want 127.0.0.2", n.m.GossipAddr())
		}
	})
}

// lines is a slog handler's output, safe for concurrent use.
type lines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLibraryLogLevels: serf's and memberlist's lines are levelled by
// their prefix alone: [DEBUG], [INFO] and [WARN] (member events, which
// Membership logs itself, and the protocol's chatter, in any words) at
// debug; [ERR] at info, never error (a late ping on a loaded machine is
// one); a line with no prefix at debug; a text that repeats itself is said
// once.
func TestLibraryLogLevels(t *testing.T) {
	var out lines
	std := newStdLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})), nil)
	for _, l := range []string{
		"[INFO] serf: EventMemberJoin: node-2 127.0.0.1",
		"[INFO] serf: EventMemberFailed: node-2 127.0.0.1",
		"[INFO] serf: EventMemberLeave: node-2 127.0.0.1",
		"[INFO] serf: EventMemberReap: node-2",
		"[INFO] serf: EventMemberUpdate: node-2",
		"[WARN] memberlist: Refuting a suspect message (from: node-1)",
		"[WARN] memberlist: Refuting a dead message (from: node-1)",
		"[INFO] memberlist: Suspect node-2 has failed, no acks received",
		"[INFO] memberlist: Marking node-2 as failed, suspect timeout reached (0 peer confirmations)",
		"[INFO] serf: attempting reconnect to node-2 127.0.0.1:7946",
		"[DEBUG] memberlist: Stream connection from=127.0.0.1:1",
		"[WARN] memberlist: Was able to connect to node-2 over TCP but UDP probes failed, network may be misconfigured",
		"[WARN] serf: a warning in words no release has used yet",
		"[INFO] serf: member events, reworded",
		"a line with no level at all",
	} {
		log.New(std.Writer(), "", 0).Print(l)
	}
	if s := out.String(); s != "" {
		t.Errorf("at info level:\n%s", s)
	}
	std.Print("[ERR] memberlist: Failed fallback TCP ping: read tcp 127.0.0.1:1->127.0.0.1:2: i/o timeout")
	std.Print("[ERR] memberlist: Failed to send ack: write: broken pipe from=127.0.0.1:1: write: broken pipe from=127.0.0.1:1")
	got := out.String()
	for _, want := range []string{
		`level=INFO msg="Failed fallback TCP ping: read tcp 127.0.0.1:1->127.0.0.1:2: i/o timeout" lib=memberlist`,
		`level=INFO msg="Failed to send ack: write: broken pipe from=127.0.0.1:1" lib=memberlist`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("log:\n%s\nlacks %s", got, want)
		}
	}
}

func TestUndouble(t *testing.T) {
	for in, want := range map[string]string{
		"timeout waiting for leave broadcast: timeout waiting for leave broadcast": "timeout waiting for leave broadcast",
		"leave: a: a":   "leave: a",
		"a: b":          "a: b",
		"a: ":           "a: ",
		"no colon":      "no colon",
		"x: y: z: y: z": "x: y: z",
	} {
		if got := undouble(in); got != want {
			t.Errorf("undouble(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKeyWarning: memberlist's words for gossip it could not decrypt
// become one plain warning naming the peer, once a minute per peer.
func TestKeyWarning(t *testing.T) {
	var out lines
	std := newStdLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
	for _, l := range []string{
		"[ERR] memberlist: failed to receive: encryption is configured but remote state is not encrypted from=127.0.0.1:1",
		"[ERR] memberlist: failed to receive: no installed keys could decrypt the message from=127.0.0.1:1",
		"[ERR] memberlist: Decrypt packet failed: no installed keys could decrypt the message from=127.0.0.1:2",
		"[DEBUG] memberlist: failed to join 127.0.0.1:3: remote state is encrypted and encryption is not configured",
		"[ERR] memberlist: Decrypt packet failed: no installed keys could decrypt the message from=127.0.0.1:2",
	} {
		std.Print(l)
	}
	got := out.String()
	for _, peer := range []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"} {
		want := `level=WARN msg="` + KeyWarning + `" peer=` + peer + " "
		if n := strings.Count(got, want); n != 1 {
			t.Errorf("warning about %s said %d times, want once:\n%s", peer, n, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 3 {
		t.Errorf("%d lines, want 3:\n%s", n, got)
	}
	k := &keyWarnings{last: make(map[string]time.Time)}
	now := time.Now()
	if !k.due("p", now) || k.due("p", now.Add(keyWarnEvery-time.Second)) || !k.due("p", now.Add(keyWarnEvery)) {
		t.Error("keyWarnings: want one warning a minute per peer")
	}
}
