package fcall

import (
	"testing"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

func TestOpenFlags(t *testing.T) {
	for _, tt := range []struct {
		host int
		l    p9.OpenFlags
	}{
		{unix.O_RDONLY, p9.ReadOnly},
		{unix.O_WRONLY | unix.O_TRUNC, p9.WriteOnly | LTrunc},
		{unix.O_RDWR | unix.O_APPEND | unix.O_NONBLOCK, p9.ReadWrite | LAppend | LNonblock},
		{unix.O_WRONLY | unix.O_DSYNC, p9.WriteOnly | LDsync},
		{unix.O_WRONLY | unix.O_SYNC, p9.WriteOnly | LSync | LDsync},
		{unix.O_RDONLY | unix.O_NOATIME, p9.ReadOnly | LNoatime},
	} {
		if got := LOpenFlags(tt.host); got != tt.l {
			t.Errorf("LOpenFlags(%#o) = %#o, want %#o", tt.host, got, tt.l)
		}
		if got := HostOpenFlags(tt.l); got != tt.host {
			t.Errorf("HostOpenFlags(%#o) = %#o, want %#o", tt.l, got, tt.host)
		}
	}
	// What has no meaning to an opened file is dropped both ways.
	if got := LOpenFlags(unix.O_RDWR | unix.O_CREAT | unix.O_EXCL | unix.O_CLOEXEC | unix.O_DIRECT); got != p9.ReadWrite {
		t.Errorf("LOpenFlags dropped nothing: %#o", got)
	}
	if got := HostOpenFlags(p9.ReadOnly | LDirect | LDirectory); got != unix.O_RDONLY {
		t.Errorf("HostOpenFlags dropped nothing: %#o", got)
	}
}
