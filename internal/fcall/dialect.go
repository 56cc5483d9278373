package fcall

import "strings"

// Dialect is the 9P variant a connection speaks.
type Dialect uint8

// Dialects. Only L has messages here so far; the others are named so that
// a connection can carry any of them.
const (
	// Unknown is the answer to a version string no dialect matches.
	Unknown Dialect = iota
	// L is 9P2000.L, the Linux dialect.
	L
)

// String returns the version string of the dialect, "unknown" for Unknown.
func (d Dialect) String() string {
	switch d {
	case L:
		return "9P2000.L"
	}
	return "unknown"
}

// ParseVersion picks the dialect a server answers a Tversion string with,
// as version(5) says: a string starting with "9P2000.L" (also
// hugelgupf/p9's "9P2000.L.Google.7") is 9P2000.L; anything else is
// Unknown for now.
func ParseVersion(v string) Dialect {
	if strings.HasPrefix(v, "9P2000.L") {
		return L
	}
	return Unknown
}
