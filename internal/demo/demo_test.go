package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunDemoInProcess(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, &out, 2, dir, "", slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C stops the demo") {
		select {
		case err := <-errc:
			t.Fatalf("demo stopped: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no instructions:\n%s", out.String())
		}
	}
	if !regexp.MustCompile(`read /2/hello.txt`).MatchString(out.String()) {
		t.Errorf("no read command in:\n%s", out.String())
	}
	if !regexp.MustCompile(`^export MFS_ADDR=127\.0\.0\.1:\d+\n`).MatchString(out.String()) {
		t.Errorf("the banner does not start with export MFS_ADDR=…:\n%s", out.String())
	}
	// The banner names the command mfs (saying how to get it: this test is
	// a go-build binary) and passes the gossip key in MFS_ENCRYPT, not on
	// a command line where ps shows it.
	if banner := out.String(); strings.Contains(banner, "go run ./cmd/mfs 9p") || strings.Contains(banner, "--encrypt") ||
		!strings.Contains(banner, "  mfs 9p ls /\n") || !strings.Contains(banner, `export MFS_ENCRYPT="$(cat `) ||
		!strings.Contains(banner, "go build -o /usr/local/bin/mfs ./cmd/mfs") {
		t.Errorf("banner:\n%s", banner)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("demo: %v", err)
	}
	// With --dir the exports stay, seeded with what the README uses.
	for _, id := range []string{"1", "2"} {
		for name, want := range map[string]string{"hello.txt": "hello from node " + id + "\n", "etc/hostname": "node-" + id + "\n"} {
			b, err := os.ReadFile(filepath.Join(dir, id, name))
			if err != nil || string(b) != want {
				t.Errorf("seed of node %s: %s = %q, %v; want %q", id, name, b, err, want)
			}
		}
		if fi, err := os.Stat(filepath.Join(dir, id, "tmp")); err != nil || fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
			t.Errorf("seed of node %s: tmp %v, %v; want drwxrwxrwt", id, fi.Mode(), err)
		}
	}
}
