package membership

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
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
func newStdLogger(l *slog.Logger, stopped *atomic.Bool) *log.Logger {
	return log.New(slogWriter{l, stopped}, "", 0)
}

type slogWriter struct {
	l       *slog.Logger
	stopped *atomic.Bool
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
	if w.stopped != nil && w.stopped.Load() {
		level = slog.LevelDebug
	}
	if !w.l.Enabled(context.Background(), level) {
		return len(p), nil
	}
	line = undouble(line)
	w.l.Log(context.Background(), level, line, slog.String("lib", lib))
	return len(p), nil
}
