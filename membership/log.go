package membership

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
)

// newStdLogger returns a *log.Logger for serf and memberlist that forwards
// each line to l, at the level named by the line's "[LEVEL]" prefix and with
// the library's "serf:"/"memberlist:" prefix moved into a "lib" attribute.
func newStdLogger(l *slog.Logger) *log.Logger {
	return log.New(slogWriter{l}, "", 0)
}

type slogWriter struct{ l *slog.Logger }

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
	if !w.l.Enabled(context.Background(), level) {
		return len(p), nil
	}
	lib := "serf"
	for _, name := range []string{"serf", "memberlist"} {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			lib, line = name, strings.TrimSpace(rest)
			break
		}
	}
	w.l.Log(context.Background(), level, line, slog.String("lib", lib))
	return len(p), nil
}
