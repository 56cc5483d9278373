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
// each line to l, at the level named by the line's "[LEVEL]" prefix and with
// the library's "serf:"/"memberlist:" prefix moved into a "lib" attribute.
// Lines that repeat what Membership logs itself (serf's member events) and
// the chatter of a healthy cluster (refutations, suspicions, reconnect
// attempts) go to debug; a text that repeats itself ("X: X") is said once.
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

// levels maps the prefixes serf and memberlist put on their lines.
var levels = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug},
	{"[TRACE]", slog.LevelDebug},
	{"[INFO]", slog.LevelInfo},
	{"[WARN]", slog.LevelWarn},
	{"[ERR]", slog.LevelError},
	{"[ERROR]", slog.LevelError},
}

// chatter are the texts (after the library prefix) logged at debug whatever
// their level: Membership logs one line per member event itself, and the
// rest is the protocol at work.
var chatter = []string{
	"EventMember",                    // serf: join, leave, failed, update, reap
	"Refuting ",                      // memberlist: a suspect, dead or alive message about us
	"Suspect ",                       // memberlist: "Suspect node-N has failed, no acks received"
	"Marking ",                       // memberlist: "Marking node-N as failed, suspect timeout reached"
	"attempting reconnect to ",       // serf: probing a failed member
	"Updating address for left or f", // memberlist: a member back at a new address
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
func (w slogWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimRight(p, "\n"))
	level := slog.LevelInfo
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
	for _, c := range chatter {
		if strings.HasPrefix(line, c) {
			level = slog.LevelDebug
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
