package srv9p

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/hugelgupf/p9/linux"
)

// The p9 server answers every failed GetXattr of a Txattrwalk with EINVAL,
// so a missing attribute (ENODATA, which the Linux client asks about on
// every write, for security.capability) looks like a bad request. Serve's
// filter gives the attribute name of each Txattrwalk a disguise: xattrMagic,
// the process secret, a number registered in xattrErrs, a NUL, and the
// real name. GetXattr takes the real name back with XattrName and records
// its errno under the number (XattrToken.Fail); the filter puts that errno
// into the server's Rlerror in place of EINVAL.
const xattrMagic = reservedPrefix + "-xattr\x00"

// xattrErrs holds the Txattrwalks in flight, by number: 0 while none
// failed, else the errno of the failure.
var xattrErrs = struct {
	mu      sync.Mutex
	pending map[uint64]linux.Errno
}{pending: make(map[uint64]linux.Errno)}

// XattrToken names one Txattrwalk in flight (see XattrName); the zero
// token names none.
type XattrToken uint64

// newXattrToken registers a Txattrwalk in flight.
func newXattrToken() XattrToken {
	t := getLocks.seq.Add(1)
	xattrErrs.mu.Lock()
	xattrErrs.pending[t] = 0
	xattrErrs.mu.Unlock()
	return XattrToken(t)
}

// takeXattrErr removes the token and returns the errno recorded for it.
func takeXattrErr(t XattrToken) linux.Errno {
	xattrErrs.mu.Lock()
	e := xattrErrs.pending[uint64(t)]
	delete(xattrErrs.pending, uint64(t))
	xattrErrs.mu.Unlock()
	return e
}

// appendXattrName appends the disguised name for token t and the real
// name to b.
func appendXattrName(b []byte, t XattrToken, name string) []byte {
	b = append(b, xattrMagic...)
	b = append(b, getLocks.secret...)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(t), 10)
	b = append(b, 0)
	return append(b, name...)
}

// XattrName returns the attribute name a GetXattr call is about and, if
// Serve's filter disguised it, the token under which to report a failure.
// Any other name comes back as it is, with the zero token.
func XattrName(name string) (string, XattrToken) {
	rest, ok := strings.CutPrefix(name, xattrMagic)
	if !ok {
		return name, 0
	}
	rest, ok = strings.CutPrefix(rest, getLocks.secret)
	if !ok || len(rest) == 0 || rest[0] != '.' {
		return name, 0
	}
	i := strings.IndexByte(rest, 0)
	if i < 0 {
		return name, 0
	}
	t, err := strconv.ParseUint(rest[1:i], 10, 64)
	if err != nil {
		return name, 0
	}
	return rest[i+1:], XattrToken(t)
}

// Fail records why the GetXattr of t failed, for Serve's filter to answer
// with instead of the p9 server's EINVAL. Errors that are not a
// linux.Errno (or wrap none) are left to the server's answer, as are
// tokens no filter waits for.
func (t XattrToken) Fail(err error) {
	if t == 0 {
		return
	}
	var e linux.Errno
	if !errors.As(err, &e) || e == 0 {
		return
	}
	xattrErrs.mu.Lock()
	if _, ok := xattrErrs.pending[uint64(t)]; ok {
		xattrErrs.pending[uint64(t)] = e
	}
	xattrErrs.mu.Unlock()
}
