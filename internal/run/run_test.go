package run

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"mfs/internal/ninep"
)

func TestRunMountOptions(t *testing.T) {
	tests := []struct {
		src   mountSource
		aname string
		want  string
	}{
		{mountSource{trans: "unix", source: "/run/mfs/mfs.sock"}, "home=2/selected=3",
			"trans=unix,version=9p2000.L,access=user,cache=none,msize=1048576,aname=home=2/selected=3"},
		{mountSource{trans: "tcp", source: "10.0.2.2", port: "5640"}, "home=2",
			"trans=tcp,port=5640,version=9p2000.L,access=user,cache=none,msize=1048576,aname=home=2"},
		{mountSource{trans: "tcp", source: "10.0.2.2", port: "564"}, "",
			"trans=tcp,port=564,version=9p2000.L,access=user,cache=none,msize=1048576"},
	}
	for _, tt := range tests {
		if got := mountOptions(tt.src, tt.aname); got != tt.want {
			t.Errorf("mountOptions(%+v, %q) =\n %q, want\n %q", tt.src, tt.aname, got, tt.want)
		}
	}
}

func TestRunAName(t *testing.T) {
	tests := []struct {
		home, sel int
		want      string
	}{
		{0, 0, ""}, {2, 0, "home=2"}, {0, 3, "selected=3"}, {2, 3, "home=2/selected=3"},
	}
	for _, tt := range tests {
		got := aname(tt.home, tt.sel)
		if got != tt.want {
			t.Errorf("aname(%d, %d) = %q, want %q", tt.home, tt.sel, got, tt.want)
		}
		if err := ninep.CheckAName(got); err != nil {
			t.Errorf("aname(%d, %d) = %q, which checkAName refuses: %v", tt.home, tt.sel, got, err)
		}
	}
}

func TestRunParseMountAddr(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]net.IPAddr, error) {
		switch host {
		case "both.example":
			return []net.IPAddr{{IP: net.ParseIP("2001:db8::1")}, {IP: net.ParseIP("192.0.2.7")}}, nil
		case "six.example":
			return []net.IPAddr{{IP: net.ParseIP("2001:db8::2")}}, nil
		}
		return nil, errors.New("no such host")
	}
	tests := []struct {
		addr string
		want mountSource
	}{
		{"", mountSource{trans: "unix", source: ninep.LocalSocket()}},
		{"unix:/run/x/../mfs.sock", mountSource{trans: "unix", source: "/run/mfs.sock"}},
		{"10.0.2.2:5640", mountSource{trans: "tcp", source: "10.0.2.2", port: "5640"}},
		{"10.0.2.2", mountSource{trans: "tcp", source: "10.0.2.2", port: "564"}},
		{"[::1]:7", mountSource{trans: "tcp", source: "::1", port: "7"}},
		{"both.example:9", mountSource{trans: "tcp", source: "192.0.2.7", port: "9"}},
		{"six.example", mountSource{trans: "tcp", source: "2001:db8::2", port: "564"}},
	}
	for _, tt := range tests {
		got, err := parseMountAddr(t.Context(), tt.addr, lookup)
		if err != nil || got != tt.want {
			t.Errorf("parseMountAddr(%q) = %+v, %v; want %+v", tt.addr, got, err, tt.want)
		}
	}
	for _, bad := range []string{"unix:", "unix:rel/sock", "host:0", "host:http", "nowhere.example:1", "[fe80::1%eth0]:1", "a b"} {
		if got, err := parseMountAddr(t.Context(), bad, lookup); err == nil {
			t.Errorf("parseMountAddr(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestRunParseCtl(t *testing.T) {
	if here, home, sel, ok := parseCtl("here 1 home 2 selected 3\n"); !ok || here != 1 || home != 2 || sel != 3 {
		t.Errorf("parseCtl = %d %d %d %v, want 1 2 3 true", here, home, sel, ok)
	}
	for _, bad := range []string{"", "here 1 home 2", "here 1 home 02 selected 3", "there 1 home 2 selected 3", "here 1 home 2 selected 3 x"} {
		if _, _, _, ok := parseCtl(bad); ok {
			t.Errorf("parseCtl(%q) ok, want not", bad)
		}
	}
}

// TestRunInheritedContext: a nested mfs run takes home and selected from
// the ctl of the tree mounted on --mnt, and nothing from a directory
// without one.
func TestRunInheritedContext(t *testing.T) {
	mnt := t.TempDir()
	if h, s := inheritedContext(mnt); h != 0 || s != 0 {
		t.Errorf("no ctl: inherited %d %d, want 0 0", h, s)
	}
	if err := os.WriteFile(filepath.Join(mnt, "ctl"), []byte("here 1 home 2 selected 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, s := inheritedContext(mnt); h != 2 || s != 3 {
		t.Errorf("inherited %d %d, want 2 3", h, s)
	}
}

func TestRunHave9p(t *testing.T) {
	dir := t.TempDir()
	fs := filepath.Join(dir, "filesystems")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fs, "nodev\tsysfs\nnodev\ttmpfs\n\text4\n")
	modules := filepath.Join(dir, "modules")
	if have9p(fs, modules) {
		t.Error("have9p without 9p = true")
	}
	write(fs, "nodev\tsysfs\nnodev\t9p\n")
	if !have9p(fs, modules) {
		t.Error("have9p with nodev 9p listed = false")
	}
	write(fs, "nodev\tsysfs\n")
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	dep := filepath.Join(modules, unix.ByteSliceToString(uts.Release[:]), "modules.dep")
	write(dep, "kernel/fs/ext4/ext4.ko.zst: kernel/fs/jbd2/jbd2.ko.zst\n")
	if have9p(fs, modules) {
		t.Error("have9p without a 9p module = true")
	}
	write(dep, "kernel/fs/9p/9p.ko.zst: kernel/net/9p/9pnet.ko.zst kernel/fs/netfs/netfs.ko.zst\n")
	if !have9p(fs, modules) {
		t.Error("have9p with a 9p module in modules.dep = false")
	}
}
