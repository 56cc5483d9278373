package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mfs/membership"
)

func TestKeyFileFor(t *testing.T) {
	tests := []struct {
		euid int
		xdg  string
		want string
		err  error
	}{
		{0, "", DefaultKeyFile, nil},
		{0, "/run/user/0", DefaultKeyFile, nil},
		{1000, "/run/user/1000", "/run/user/1000/mfs/gossip.key", nil},
		{1000, "", "", ErrNoKeyFile},
		{1000, "relative", "", ErrNoKeyFile},
	}
	for _, tt := range tests {
		got, err := KeyFileFor(tt.euid, tt.xdg)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("KeyFileFor(%d, %q) = %q, %v; want %q, %v", tt.euid, tt.xdg, got, err, tt.want, tt.err)
		}
	}
}

// syncBuffer is a log destination safe for concurrent writes.
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

// startKeyed starts node id in this process with the gossip key of
// keyFile, logging to log.
func startKeyed(t *testing.T, id int, keyFile string, log *syncBuffer) (*Node, error) {
	t.Helper()
	n, err := Start(Config{ID: id, Root: t.TempDir(), Listen: []string{"127.0.0.1:0"}, ExportListen: "127.0.0.1:0",
		Gossip: "127.0.0.1:0", KeyFile: keyFile, Timings: membership.FastTimings(),
		Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err == nil {
		t.Cleanup(func() { n.Stop(false) })
	}
	return n, err
}

// TestStartKeyFile: the first node makes the key file and says where it
// is (never the key); a node given the same file joins it; a node with
// another key file does not, and both say why at warn.
func TestStartKeyFile(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "mfs", "gossip.key")
	var log1, log2, log3 syncBuffer
	n1, err := startKeyed(t, 1, keyFile, &log1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(b))
	if k, _ := base64.StdEncoding.DecodeString(key); len(k) != 32 {
		t.Fatalf("key file holds %d bytes of key, want 32", len(k))
	}
	for _, want := range []string{"key_file=" + keyFile, "made=true"} {
		if !strings.Contains(log1.String(), want) {
			t.Errorf("node 1's log lacks %q:\n%s", want, log1.String())
		}
	}
	if strings.Contains(log1.String(), key) {
		t.Errorf("node 1 logged the key:\n%s", log1.String())
	}

	n2, err := startKeyed(t, 2, keyFile, &log2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log2.String(), "made=false") {
		t.Errorf("node 2's log does not say it read an existing key:\n%s", log2.String())
	}
	n2.cfg.Join = []string{n1.GossipAddr()}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := n2.Join(ctx); err != nil {
		t.Fatalf("node 2 with node 1's key file: %v", err)
	}

	n3, err := startKeyed(t, 3, filepath.Join(t.TempDir(), "other.key"), &log3)
	if err != nil {
		t.Fatal(err)
	}
	n3.cfg.Join = []string{n1.GossipAddr()}
	if err := n3.Join(ctx); !errors.Is(err, membership.ErrKey) {
		t.Fatalf("node 3 with another key: join %v, want %v", err, membership.ErrKey)
	}
	for i, l := range []*syncBuffer{&log1, &log3} {
		if !strings.Contains(l.String(), `level=WARN msg="`+membership.KeyWarning+`"`) {
			t.Errorf("log %d lacks the key warning:\n%s", i, l.String())
		}
	}
	for _, n := range n1.Namespace().Nodes() {
		if n.ID == 3 {
			t.Errorf("node 1 lists node 3: %+v", n1.Namespace().Nodes())
		}
	}
}

// TestStartKeyFileErrors: a key file others may read, or holding no key,
// stops Start before anything is bound, with one line naming the file.
func TestStartKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"world-readable", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o644, "chmod 600"},
		{"bad", "not base64!", 0o600, "not a base64 key"},
	} {
		path := filepath.Join(dir, tt.name)
		os.WriteFile(path, []byte(tt.content), tt.mode)
		os.Chmod(path, tt.mode)
		var log syncBuffer
		_, err := startKeyed(t, 1, path, &log)
		if err == nil || !strings.HasPrefix(err.Error(), "--key-file: gossip key file "+path+": ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Start: %v, want --key-file: … %s", tt.name, err, tt.want)
		}
	}
}
