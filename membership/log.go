package membership

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// newStdLogger returns a *log.Logger for serf and memberlist that forwards
// each line to l, at the level its "[LEVEL]" prefix maps to (levels), and
// with the library's "serf:"/"memberlist:" prefix moved into a "lib"
// attribute; a text that repeats itself ("X: X") is said once. The level
// comes from the prefix alone, so a rewording in either library changes
// no level.
//
// Once stopped is set (the node has shut gossip down), every line goes to
// debug: memberlist's probe goroutines outlive its Shutdown and report the
// sockets it closed, which says nothing about the cluster.
//
// A line that says a peer's gossip could not be decrypted (another key,
// or none, on one side) becomes one plain warning, KeyWarning, with the
// peer's address and the library's words in "detail"; it is said at most
// once a minute per peer (the rest at debug), so a stranger sending
// packets cannot flood the log.
func newStdLogger(l *slog.Logger, stopped *atomic.Bool) *log.Logger {
	return log.New(slogWriter{l, stopped, &keyWarnings{last: make(map[string]time.Time)}}, "", 0)
}

type slogWriter struct {
	l       *slog.Logger
	stopped *atomic.Bool
	keys    *keyWarnings
}

// KeyWarning is what a node logs, at warn, when a peer's gossip could
// not be decrypted: the peer has another key, or none, or this node has
// none and the peer one.
const KeyWarning = "gossip: a peer's message could not be decrypted: wrong or missing --encrypt/--key-file"

// keyWarnEvery is how often KeyWarning may be said about one peer.
const keyWarnEvery = time.Minute

// keyWarnings remembers when KeyWarning was last said about each peer.
type keyWarnings struct {
	mu   sync.Mutex
	last map[string]time.Time // by peer address
}

// due reports whether KeyWarning about peer may be said now, and notes it.
func (k *keyWarnings) due(peer string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t, ok := k.last[peer]; ok && now.Sub(t) < keyWarnEvery {
		return false
	}
	if len(k.last) >= 1024 { // many peers: forget the old ones
		for p, t := range k.last {
			if now.Sub(t) >= keyWarnEvery {
				delete(k.last, p)
			}
		}
		if len(k.last) >= 1024 {
			return false
		}
	}
	k.last[peer] = now
	return true
}

// decryptTexts are memberlist's words for gossip it could not decrypt, or
// plain gossip where it expected encrypted (memberlist v0.7: net.go,
// security.go).
var decryptTexts = []string{
	"keys could decrypt the message",         // another key ("no installed keys could …")
	"Decrypt packet failed",                  // a UDP packet under another key, or plain
	"remote state is not encrypted",          // we have a key, the peer none
	"remote state is encrypted and encrypti", // the peer has a key, we none
}

// decryptFailure reports whether a memberlist line (its prefix removed)
// says a peer's gossip could not be decrypted, and the peer's address:
// after "from=" (a peer that reached us), or after "failed to join "
// (a member we tried to join).
func decryptFailure(line string) (peer string, ok bool) {
	found := false
	for _, t := range decryptTexts {
		if strings.Contains(line, t) {
			found = true
			break
		}
	}
	if !found {
		return "", false
	}
	if _, from, ok := strings.Cut(line, "from="); ok {
		peer, _, _ = strings.Cut(from, " ")
	} else if _, rest, ok := strings.Cut(line, "failed to join "); ok {
		peer, _, _ = strings.Cut(rest, ": ")
	}
	return peer, true
}

// levels maps the prefixes serf and memberlist put on their lines to the
// level the node logs them at. Everything below [ERR] is debug: serf's
// member events (Membership logs each itself), refutations, suspicions,
// reconnect attempts, all the protocol at work. [ERR] is info, not error:
// memberlist says it for a probe answered late ("Failed fallback TCP
// ping: … i/o timeout") as for a packet it cannot read, and a busy
// machine does the first many times a minute with every node healthy. A
// real failure shows as the node's own "member failed" (warn) and as
// errors of the operations that need the member.
var levels = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug},
	{"[TRACE]", slog.LevelDebug},
	{"[INFO]", slog.LevelDebug},
	{"[WARN]", slog.LevelDebug},
	{"[ERR]", slog.LevelInfo},
	{"[ERROR]", slog.LevelInfo},
}

// undouble says "X: X" once, as "X" (serf wraps memberlist's error in its
// own words, which are the same: "timeout waiting for leave broadcast").
func undouble(line string) string {
	for i := 0; ; i += 2 {
		j := strings.Index(line[i:], ": ")
		if j < 0 {
			return line
		}
		i += j
		if head, tail := line[:i], line[i+2:]; tail != "" && strings.HasSuffix(head, tail) {
			return head
		}
	}
}

// Write implements io.Writer; the standard logger calls it once per line.
// A line without a level prefix is at debug.
func (w slogWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimRight(p, "\n"))
	level := slog.LevelDebug
	for _, lv := range levels {
		if rest, ok := strings.CutPrefix(line, lv.prefix); ok {
			level, line = lv.level, strings.TrimSpace(rest)
			break
		}
	}
	lib := "serf"
	for _, name := range []string{"serf", "memberlist"} {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			lib, line = name, strings.TrimSpace(rest)
			break
		}
	}
	stopped := w.stopped != nil && w.stopped.Load()
	if stopped {
		level = slog.LevelDebug
	}
	if peer, ok := decryptFailure(line); ok && lib == "memberlist" {
		level = slog.LevelDebug
		if !stopped && (w.keys == nil || w.keys.due(peer, time.Now())) {
			level = slog.LevelWarn
		}
		if w.l.Enabled(context.Background(), level) {
			w.l.Log(context.Background(), level, KeyWarning, slog.String("peer", peer), slog.String("detail", line))
		}
		return len(p), nil
	}
	if !w.l.Enabled(context.Background(), level) {
		return len(p), nil
	}
	line = undouble(line)
	w.l.Log(context.Background(), level, line, slog.String("lib", lib))
	return len(p), nil
}
