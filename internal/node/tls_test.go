package node

import (
	"path/filepath"
	"strings"
	"testing"

	"mfs/internal/clustertls"
)

func TestOnLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:7946", true},
		{"127.3.4.5:0", true},
		{"[::1]:5640", true},
		{"localhost:5640", true},
		{"unix:/run/mfs-export.sock", true},
		{"0.0.0.0:7946", false},
		{":7946", false},
		{"[::]:7946", false},
		{"10.1.2.3:7946", false},
		{"node1.example:7946", false},
		{"nonsense", false},
	}
	for _, tt := range tests {
		if got := onLoopback(tt.addr); got != tt.want {
			t.Errorf("onLoopback(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestCheckTrust(t *testing.T) {
	dir := t.TempDir()
	tlsDir := filepath.Join(t.TempDir(), "tls")
	if err := clustertls.CreateCA(tlsDir, clustertls.DefaultCAValidity, ""); err != nil {
		t.Fatal(err)
	}
	if err := clustertls.CreateNodeCert(tlsDir, 1, clustertls.DefaultNodeValidity, ""); err != nil {
		t.Fatal(err)
	}
	node, err := clustertls.Load(tlsDir, 1)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	good := Config{ID: 1, Root: dir, Listen: []string{"127.0.0.1:0"}, Gossip: "127.0.0.1:0"}
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for no error
	}{
		{"loopback", func(*Config) {}, ""},
		{"gossip off loopback", func(c *Config) { c.Gossip = "10.1.2.3:7946" }, "--gossip 10.1.2.3:7946 is reachable from the network"},
		{"gossip everywhere", func(c *Config) { c.Gossip = "0.0.0.0:7946" }, "give --tls-dir DIR (certificates made with mfs tls), or --insecure"},
		{"export off loopback", func(c *Config) { c.ExportListen = "10.1.2.3:5640" }, "--export-listen 10.1.2.3:5640"},
		{"export on a unix socket", func(c *Config) { c.ExportListen = "unix:/run/x.sock" }, ""},
		{"insecure", func(c *Config) { c.Gossip, c.Insecure = "0.0.0.0:7946", true }, ""},
		{"TLS", func(c *Config) { c.Gossip, c.TLS, c.Key = "0.0.0.0:7946", node, key }, ""},
		{"TLS without a key", func(c *Config) { c.TLS = node }, "--tls-dir needs --encrypt"},
	}
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
