//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestMountDialect reads the dialect from the option fields of real
// /proc/mounts lines (Debian's 6.1 kernel, the VM tests' mounts), so that
// the dialect-negotiated check of every 9P phase can fail.
func TestMountDialect(t *testing.T) {
	for _, tt := range []struct {
		line, want string
	}{
		{"10.0.2.100 /mnt/tcp-512k 9p rw,sync,dirsync,relatime,access=client,msize=524288,trans=tcp,port=5640 0 0", dialectL},
		{"10.0.2.100 /mnt/tcp-u 9p rw,sync,dirsync,relatime,access=user,msize=524288,trans=tcp,version=9p2000.u,port=5640 0 0", dialectU},
		{"10.0.2.100 /mnt/tcp-9p2000 9p rw,sync,dirsync,relatime,uname=root,access=any,msize=524288,trans=tcp,noextend,port=5640 0 0", dialectPlan9},
		{"10.0.2.100 /mnt/x 9p rw,trans=tcp,version=9p2000.u,noextend 0 0", "both version=9p2000.u and noextend"},
		{"10.0.2.100 /mnt/x 9p rw,trans=tcp,version=9p2000.x 0 0", "unexpected version=9p2000.x"},
	} {
		if got := mountDialect(strings.Fields(tt.line)[3]); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.line, got, tt.want)
		}
	}
	for opts, want := range map[string]string{
		"trans=tcp,version=9p2000.L,msize=524288": dialectL,
		"trans=tcp,msize=524288":                  dialectL,
		"trans=tcp,version=9p2000.u":              dialectU,
		"trans=tcp,version=9p2000,uname=root":     dialectPlan9,
	} {
		if got := phaseDialect(opts); got != want {
			t.Errorf("phaseDialect(%q) = %q, want %q", opts, got, want)
		}
	}
}
