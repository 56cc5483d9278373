package node

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"mfs/membership"
	"mfs/namespace"
	"mfs/srv9p/export"
)

func TestNodeConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := Config{ID: 1, Root: dir, Listen: []string{"127.0.0.1:0"}, Gossip: "127.0.0.1:0"}
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for no error
	}{
		{"good", func(*Config) {}, ""},
		{"unix listen", func(c *Config) { c.Listen = []string{"unix:/run/mfs.sock"} }, ""},
		{"id zero", func(c *Config) { c.ID = 0 }, "--id 0"},
		{"id too large", func(c *Config) { c.ID = namespace.MaxNodeID + 1 }, "want a node number"},
		{"no listen", func(c *Config) { c.Listen = nil }, "--listen"},
		{"bad listen", func(c *Config) { c.Listen = []string{"unix:"} }, "empty socket path"},
		{"bad export", func(c *Config) { c.ExportListen = "nowhere" }, "nowhere"},
		{"bad gossip", func(c *Config) { c.Gossip = "7946" }, "--gossip"},
		{"tiny msize", func(c *Config) { c.MSize = 100 }, "--msize 100"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "--timeout"},
		{"root is a file", func(c *Config) { c.Root = filepath.Join(dir, "f") }, "not a directory"},
	}
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Check()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("check() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNSTable(t *testing.T) {
	exp, err := export.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := namespace.New(1, exp)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	tab := table{ns}
	steps := []struct {
		do   func()
		want []namespace.Node
	}{
		{func() { tab.SetNode(membership.Member{ID: 2, Addr: "127.0.0.1:2", State: membership.Alive}) },
			[]namespace.Node{{ID: 1, State: membership.Alive}, {ID: 2, Addr: "127.0.0.1:2", State: membership.Alive}}},
		{func() { tab.SetNode(membership.Member{ID: 2, Addr: "127.0.0.1:2", State: membership.Failed}) },
			[]namespace.Node{{ID: 1, State: membership.Alive}, {ID: 2, Addr: "127.0.0.1:2", State: membership.Failed}}},
		{func() { tab.SetNode(membership.Member{ID: 2, Addr: "127.0.0.1:2", State: membership.Left}) },
			[]namespace.Node{{ID: 1, State: membership.Alive}, {ID: 2, Addr: "127.0.0.1:2", State: membership.Left}}},
		{func() { tab.RemoveNode(2) }, []namespace.Node{{ID: 1, State: membership.Alive}}},
	}
	for i, s := range steps {
		s.do()
		if got := ns.Nodes(); !slices.Equal(got, s.want) {
			t.Errorf("step %d: nodes %+v, want %+v", i, got, s.want)
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
