package ninep

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/urfave/cli/v2"

	"mfs/internal/fcall"
)

func TestNormalizeAddr(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"127.0.0.1", "127.0.0.1:564"},
		{"127.0.0.1:5640", "127.0.0.1:5640"},
		{"localhost", "localhost:564"},
		{"node-2.example", "node-2.example:564"},
		{"[::1]", "[::1]:564"},
		{"::1", "[::1]:564"},
		{"fe80::1%eth0", "[fe80::1%eth0]:564"},
		{"[fe80::1%eth0]", "[fe80::1%eth0]:564"},
		{"[::1]:5640", "[::1]:5640"},
		{"unix:/run/mfs.sock", "unix:/run/mfs.sock"},
		{"unix:rel.sock", "unix:rel.sock"},
		{"unix:", ""},
		{"", ""},
		{"a:b:c", ""},
		{"[127.0.0.1]", ""},
		{"[::1", ""},
		{"/tmp/sock", ""},
		{"host name", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeAddr(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeAddr(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	_, err := NormalizeAddr("a:b:c")
	if want := `address "a:b:c": want host, host:port, [ipv6]:port or unix:/path`; err == nil || err.Error() != want {
		t.Errorf("NormalizeAddr(a:b:c) error %v, want %q", err, want)
	}
}

func TestCheckAName(t *testing.T) {
	ok := []string{"", "/", "2", "home=2", "selected=3", "home=2/selected=3", "/home=2//selected=10/",
		"home=2/here/var/log", "2/tmp/a=b", "selected=3/selected", "/srv/export"}
	for _, a := range ok {
		if err := CheckAName(a); err != nil {
			t.Errorf("CheckAName(%q): %v", a, err)
		}
	}
	bad := []struct{ aname, err string }{
		{"bogus=1", `--aname bogus=1: unknown context key "bogus" (want home or selected)`},
		{"home=2/Home=3", `--aname home=2/Home=3: unknown context key "Home" (want home or selected)`},
		{"=3", `--aname =3: unknown context key "" (want home or selected)`},
		{"selected=02", `--aname selected=02: selected: node number "02": want 1, 2, … (decimal, no sign or leading zero)`},
		{"home=+2", `--aname home=+2: home: node number "+2": want 1, 2, … (decimal, no sign or leading zero)`},
		{"home=0", `--aname home=0: home: node number "0": want 1, 2, … (decimal, no sign or leading zero)`},
		{"home=", `--aname home=: home: node number "": want 1, 2, … (decimal, no sign or leading zero)`},
		{"home=two", `--aname home=two: home: node number "two": want 1, 2, … (decimal, no sign or leading zero)`},
		{"2/../3", `--aname 2/../3: "..": attach names are not cleaned, write the path without . and ..`},
		{"home=2/./x", `--aname home=2/./x: ".": attach names are not cleaned, write the path without . and ..`},
	}
	for _, tt := range bad {
		err := CheckAName(tt.aname)
		if err == nil || err.Error() != tt.err || exitCode(err) != 2 {
			t.Errorf("CheckAName(%q) = %v, want usage error %q", tt.aname, err, tt.err)
		}
	}
	if got := fmt.Sprint(anameContext("/home=2/selected=3/2/x=y")); got != "[home=2 selected=3]" {
		t.Errorf("anameContext: %s", got)
	}
	if anamePath("home=2/selected=3/") || !anamePath("home=2/tmp") || anamePath("") {
		t.Error("anamePath")
	}
}

// TestConnFlagsAfterVerb runs a verb that reports the connection flags it
// sees, given before the verb, after it, both, and from $MFS_ADDR.
func TestConnFlagsAfterVerb(t *testing.T) {
	var got connOptions
	record := func(c *cli.Context) error {
		var err error
		got, err = connFlagValues(c)
		return err
	}
	app := func() *cli.App {
		return &cli.App{Name: "mfs", Commands: []*cli.Command{
			{Name: "9p", Flags: connFlags(), Subcommands: []*cli.Command{{
				Name:                   "ls",
				Flags:                  append([]cli.Flag{&cli.BoolFlag{Name: "l"}, &cli.BoolFlag{Name: "d"}}, verbConnFlags()...),
				UseShortOptionHandling: true,
				Action:                 record,
			}}},
			{Name: "members", Flags: connFlags(), Action: record},
		}}
	}
	tests := []struct {
		env  string
		args string
		want connOptions
	}{
		{"", "9p --addr h1 ls /", connOptions{addr: "h1:564", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"", "9p -a h1:7 ls /", connOptions{addr: "h1:7", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"", "9p ls --addr h2 /", connOptions{addr: "h2:564", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"", "9p ls -ld --addr=h2 --aname home=2 --msize 8192 --timeout 1s /", connOptions{addr: "h2:564", aname: "home=2", msize: 8192, timeout: time.Second}},
		{"", "9p --addr h1 --timeout 3s ls --addr h2 /", connOptions{addr: "h2:564", msize: 1 << 20, timeout: 3 * time.Second}},
		{"", "9p --msize 8192 ls --aname 2 /", connOptions{addr: "", aname: "2", msize: 8192, timeout: defaultNinepTimeout}},
		{"env:5", "9p ls /", connOptions{addr: "env:5", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"env:5", "9p ls --addr h2 /", connOptions{addr: "h2:564", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"env:5", "9p --addr h1 ls /", connOptions{addr: "h1:564", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"env:5", "members", connOptions{addr: "env:5", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"env:5", "members --addr h3", connOptions{addr: "h3:564", msize: 1 << 20, timeout: defaultNinepTimeout}},
		{"", "9p --addr h1 --dialect 9p2000 ls /", connOptions{addr: "h1:564", msize: 1 << 20, timeout: defaultNinepTimeout, dialect: fcall.Plan9}},
		{"", "9p --addr h1 --dialect 9p2000 ls --dialect 9P2000.U /", connOptions{addr: "h1:564", msize: 1 << 20, timeout: defaultNinepTimeout, dialect: fcall.U}},
		{"", "members --addr h1 --dialect 9P2000", connOptions{addr: "h1:564", msize: 1 << 20, timeout: defaultNinepTimeout, dialect: fcall.Plan9}},
	}
	for _, tt := range tests {
		if tt.env != "" {
			t.Setenv("MFS_ADDR", tt.env)
		} else {
			os.Unsetenv("MFS_ADDR")
		}
		got = connOptions{}
		if err := app().Run(append([]string{"mfs"}, strings.Fields(tt.args)...)); err != nil {
			t.Errorf("MFS_ADDR=%s mfs %s: %v", tt.env, tt.args, err)
			continue
		}
		if tt.want.addr == "" {
			tt.want.addr = defaultNinepAddr()
		}
		if tt.want.dialect == fcall.Unknown {
			tt.want.dialect = fcall.L
		}
		if got != tt.want {
			t.Errorf("MFS_ADDR=%s mfs %s: %+v, want %+v", tt.env, tt.args, got, tt.want)
		}
	}
}

func TestConnFlagHint(t *testing.T) {
	tests := []struct{ msg, hint string }{
		{"flag provided but not defined: -addr", " (connection flags go before select: mfs 9p --addr … select N VERB …)"},
		{"flag provided but not defined: -timeout", " (connection flags go before select: mfs 9p --timeout … select N VERB …)"},
		{"flag provided but not defined: -a", " (-a is short for --addr before the verb only; after it, write --addr)"},
		{"flag provided but not defined: -z", ""},
	}
	for _, tt := range tests {
		if got := connFlagHint(tt.msg); got != tt.hint {
			t.Errorf("connFlagHint(%q) = %q, want %q", tt.msg, got, tt.hint)
		}
	}
}

func TestConnectError(t *testing.T) {
	const addr = "10.0.0.5:564"
	dialTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	readTimeout := fmt.Errorf("%s: version: %w", addr, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded})
	tests := []struct {
		err     error
		timeout time.Duration
		want    string
	}{
		{dialTimeout, time.Second, "connect 10.0.0.5:564: no connection within 1s (--timeout)"},
		{readTimeout, 2 * time.Second, "connect 10.0.0.5:564: connected, but no 9P answer within 2s (--timeout)"},
		{fmt.Errorf("%s: %w", addr, context.DeadlineExceeded), time.Second, "connect 10.0.0.5:564: connected, but no 9P answer within 1s (--timeout)"},
		{fmt.Errorf("%s: version: the server does not speak 9P (reply starts %q)", addr, "HTTP/1."), time.Second,
			`connect 10.0.0.5:564: version: the server does not speak 9P (reply starts "HTTP/1.")`},
		// With --timeout 0 a kernel's connect timeout is its own.
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ETIMEDOUT)}, 0, "connect 10.0.0.5:564: connection timed out"},
	}
	for _, tt := range tests {
		err := &opError{op: "connect", paths: []string{addr}, err: connectError(tt.err, tt.timeout, addr)}
		if got := err.Error(); got != tt.want {
			t.Errorf("connectError(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestNodeError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{opErr("select", &nodeError{err: linux.ENOENT}, "9"), "select 9: no such node"},
		{opErr("write", &nodeError{what: "select 9", err: linux.ENOENT}, "/ctl"), "write /ctl: select 9: no such node"},
		{opErr("attach", &nodeError{what: "selected=9", err: linux.ENOENT}, `"selected=9/tmp"`), `attach "selected=9/tmp": selected=9: no such node`},
		{opErr("select", &nodeError{err: linux.EHOSTDOWN}, "3"), "select 3: host is down"},
		{opErr("select", &nodeError{err: errNoCtl}, "2"), "select 2: no ctl file at the attach root (not an mfs namespace?)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, linux.ENOENT) && strings.Contains(tt.want, "no such node") {
			t.Errorf("%q does not unwrap to ENOENT", tt.want)
		}
	}
}
