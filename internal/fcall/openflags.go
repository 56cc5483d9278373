package fcall

import (
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// 9P2000.L open flags of Tlopen and Tlcreate (include/net/9p/9p.h,
// P9_DOTL_*). They equal the x86 Linux O_ values, but not those of every
// architecture, so HostOpenFlags and LOpenFlags map them one by one.
const (
	LTrunc     p9.OpenFlags = 0o1000
	LAppend    p9.OpenFlags = 0o2000
	LNonblock  p9.OpenFlags = 0o4000
	LDsync     p9.OpenFlags = 0o10000
	LDirect    p9.OpenFlags = 0o40000
	LDirectory p9.OpenFlags = 0o200000
	LNoatime   p9.OpenFlags = 0o1000000
	LSync      p9.OpenFlags = 0o4000000
)

// openFlagPairs are the flags with a meaning for an opened file on both
// sides. O_DIRECT is left out (a server's buffers are not aligned for
// it); O_CREAT and O_EXCL mean nothing to Tlopen; O_NOCTTY, O_LARGEFILE,
// FASYNC and O_CLOEXEC mean nothing to a server.
var openFlagPairs = [...]struct {
	l    p9.OpenFlags
	host int
}{
	{LTrunc, unix.O_TRUNC},
	{LAppend, unix.O_APPEND},
	{LNonblock, unix.O_NONBLOCK},
	{LDsync, unix.O_DSYNC},
	{LNoatime, unix.O_NOATIME},
	{LSync, unix.O_SYNC},
}

// HostOpenFlags converts 9P2000.L open flags to the host's open(2) flags
// (access mode and openFlagPairs; nothing else).
func HostOpenFlags(f p9.OpenFlags) int {
	fl := int(f & p9.OpenFlagsModeMask)
	for _, m := range openFlagPairs {
		if f&m.l != 0 {
			fl |= m.host
		}
	}
	return fl
}

// LOpenFlags converts the host's open(2) flags to 9P2000.L's (access
// mode and openFlagPairs; nothing else).
func LOpenFlags(host int) p9.OpenFlags {
	f := p9.OpenFlags(host & unix.O_ACCMODE)
	for _, m := range openFlagPairs {
		// O_SYNC includes O_DSYNC's bit: match it whole.
		if host&m.host == m.host {
			f |= m.l
		}
	}
	return f
}
