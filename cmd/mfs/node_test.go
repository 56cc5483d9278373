package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mfs/membership"
	"mfs/namespace"
	"mfs/srv9p/export"
)

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{"a:1"}, []string{"a:1"}},
		{[]string{"a:1,b:2"}, []string{"a:1", "b:2"}},
		{[]string{"a:1, b:2", "", "c:3,"}, []string{"a:1", "b:2", "c:3"}},
	}
	for _, tt := range tests {
		if got := splitList(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		format, level string
		ok            bool
		want          string // in the output of an Info line
	}{
		{"text", "info", true, "msg=hello"},
		{"json", "debug", true, `"msg":"hello"`},
		{"json", "warn", true, ""},
		{"xml", "info", false, ""},
		{"text", "loud", false, ""},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		l, err := newLogger(&b, tt.format, tt.level)
		if (err == nil) != tt.ok {
			t.Errorf("newLogger(%q, %q): %v", tt.format, tt.level, err)
			continue
		}
		if err != nil {
			continue
		}
		l.Info("hello")
		if got := b.String(); tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("newLogger(%q, %q) wrote %q, want %q", tt.format, tt.level, got, tt.want)
		}
	}
}

func TestNodeConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := nodeConfig{ID: 1, Root: dir, Listen: []string{"127.0.0.1:0"}, Gossip: "127.0.0.1:0"}
	tests := []struct {
		name string
		edit func(*nodeConfig)
		want string // "" for no error
	}{
		{"good", func(*nodeConfig) {}, ""},
		{"unix listen", func(c *nodeConfig) { c.Listen = []string{"unix:/run/mfs.sock"} }, ""},
		{"id zero", func(c *nodeConfig) { c.ID = 0 }, "--id 0"},
		{"id too large", func(c *nodeConfig) { c.ID = namespace.MaxNodeID + 1 }, "want a node number"},
		{"no listen", func(c *nodeConfig) { c.Listen = nil }, "--listen"},
		{"bad listen", func(c *nodeConfig) { c.Listen = []string{"unix:"} }, "empty socket path"},
		{"bad export", func(c *nodeConfig) { c.ExportListen = "nowhere" }, "nowhere"},
		{"bad gossip", func(c *nodeConfig) { c.Gossip = "7946" }, "--gossip"},
		{"tiny msize", func(c *nodeConfig) { c.MSize = 100 }, "--msize 100"},
		{"negative timeout", func(c *nodeConfig) { c.Timeout = -time.Second }, "--timeout"},
		{"root is a file", func(c *nodeConfig) { c.Root = filepath.Join(dir, "f") }, "not a directory"},
	}
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.check()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("check() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNSTable(t *testing.T) {
	export, err := export.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := namespace.New(1, export)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	tab := nsTable{ns}
	steps := []struct {
		do   func()
		want []namespace.Node
	}{
		{func() { tab.SetNode(membership.Member{ID: 2, Addr: "127.0.0.1:2", State: membership.Alive}) },
			[]namespace.Node{{ID: 1, State: namespace.Alive}, {ID: 2, Addr: "127.0.0.1:2", State: namespace.Alive}}},
		{func() { tab.SetNode(membership.Member{ID: 2, Addr: "127.0.0.1:2", State: membership.Failed}) },
			[]namespace.Node{{ID: 1, State: namespace.Alive}, {ID: 2, Addr: "127.0.0.1:2", State: namespace.Failed}}},
		{func() { tab.SetNode(membership.Member{ID: 2, Addr: "127.0.0.1:2", State: membership.Left}) },
			[]namespace.Node{{ID: 1, State: namespace.Alive}, {ID: 2, Addr: "127.0.0.1:2", State: namespace.Left}}},
		{func() { tab.RemoveNode(2) }, []namespace.Node{{ID: 1, State: namespace.Alive}}},
	}
	for i, s := range steps {
		s.do()
		if got := ns.Nodes(); !slices.Equal(got, s.want) {
			t.Errorf("step %d: nodes %+v, want %+v", i, got, s.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
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
	go func() { errc <- runDemo(ctx, &out, 2, dir, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
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

func TestBindError(t *testing.T) {
	for _, tc := range []struct {
		flag, addr string
		err        error
		want       string
	}{
		{"--listen", "127.0.0.1:564", &net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EACCES)},
			"listen 127.0.0.1:564: permission denied (ports below 1024 need root; use --listen unix:… or a port ≥ 1024)"},
		{"--gossip", "0.0.0.0:7", errors.New(`could not set up network transport: listen tcp 0.0.0.0:7: bind: permission denied`),
			"listen 0.0.0.0:7: permission denied (ports below 1024 need root; use a port ≥ 1024)"},
		{"--export-listen", "127.0.0.1:5640", &net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)},
			"listen 127.0.0.1:5640: address already in use (another node or server has it; choose another with --export-listen)"},
		{"--listen", "unix:/run/x/mfs.sock", &os.PathError{Op: "mkdir", Path: "/run/x", Err: syscall.EACCES},
			"listen unix:/run/x/mfs.sock: mkdir /run/x: permission denied (choose another with --listen)"},
	} {
		err := bindError(tc.flag, tc.addr, tc.err)
		if err.Error() != tc.want {
			t.Errorf("bindError(%s %s): %q, want %q", tc.flag, tc.addr, err, tc.want)
		}
	}
}
