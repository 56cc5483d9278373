package fcall

import "strings"

// Dialect is the 9P variant a connection speaks.
type Dialect uint8

// Dialects.
const (
	// Unknown is the answer to a version string no dialect matches.
	Unknown Dialect = iota
	// L is 9P2000.L, the Linux dialect.
	L
	// U is 9P2000.u, the Unix extension of 9P2000: numeric ids, symlinks,
	// devices, errno in Rerror.
	U
	// Plan9 is 9P2000 itself, as Plan 9, Inferno and plan9port speak it.
	Plan9
)

// String returns the version string of the dialect, "unknown" for Unknown.
func (d Dialect) String() string {
	switch d {
	case L:
		return "9P2000.L"
	case U:
		return "9P2000.u"
	case Plan9:
		return "9P2000"
	}
	return "unknown"
}

// ParseVersion picks the dialect a server answers a Tversion string with,
// as version(5) says: a string starting with "9P2000.L" (also
// hugelgupf/p9's "9P2000.L.Google.7") is 9P2000.L, one starting with
// "9P2000.u" is 9P2000.u, and any other "9P2000" with or without a
// period-separated suffix is 9P2000. Anything else is Unknown.
func ParseVersion(v string) Dialect {
	switch {
	case strings.HasPrefix(v, "9P2000.L"):
		return L
	case strings.HasPrefix(v, "9P2000.u"):
		return U
	case v == "9P2000" || strings.HasPrefix(v, "9P2000."):
		return Plan9
	}
	return Unknown
}

// ParseDialect reads a dialect's name as users write it ("9p2000.L",
// "9P2000.u", "9p2000", case-insensitive), for command-line flags.
func ParseDialect(s string) (Dialect, bool) {
	switch strings.ToLower(s) {
	case "9p2000.l":
		return L, true
	case "9p2000.u":
		return U, true
	case "9p2000":
		return Plan9, true
	}
	return Unknown, false
}

// Has reports whether message type typ exists in dialect d: the messages
// of 9P2000 are in all three but Topen, Tcreate, Tstat, Twstat and Rerror,
// which 9P2000.L replaces with its own; the 9P2000.L messages are in it
// alone.
func (d Dialect) Has(typ uint8) bool {
	switch {
	case typ < MsgTversion:
		return d == L
	case typ == MsgRerror, typ >= MsgTopen && typ <= MsgRcreate, typ >= MsgTstat:
		return d == U || d == Plan9
	}
	return true
}
