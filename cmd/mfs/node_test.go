package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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

// TestNodeKeyFlags: --encrypt and --key-file exclude each other (a usage
// error); a key file others may read stops the node with one line.
func TestNodeKeyFlags(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.key")
	if err := os.WriteFile(loose, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o644)
	base := []string{"node", "--id", "1", "--root", dir, "--listen", "127.0.0.1:0", "--export-listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0"}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--encrypt", base64.StdEncoding.EncodeToString(make([]byte, 16)), "--key-file", loose}, 2,
			"mfs node: --encrypt and --key-file both give the gossip key: give one"},
		{[]string{"--key-file", loose}, 1,
			"mfs node: --key-file: gossip key file " + loose + ": mode 0644 lets others read or change the cluster's key: chmod 600 " + loose},
	}
	for _, tt := range tests {
		line, code, _ := runApp(t, append(slices.Clone(base), tt.args...)...)
		if code != tt.code || line != tt.want {
			t.Errorf("%v: exit %d, %q; want %d, %q", tt.args, code, line, tt.code, tt.want)
		}
	}
}
