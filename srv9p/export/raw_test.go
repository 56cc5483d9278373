package export

import (
	"testing"

	"mfs/srv9p/srv9ptest"
)

// rawConn speaks 9P2000.L frame by frame (srv9ptest.Raw), for what the p9
// client cannot send: Tgetlock, Tlock on a chosen fid, the xattr messages,
// broken frames.
type rawConn = srv9ptest.Raw

func dialRaw(t testing.TB, addr string) *rawConn { return srv9ptest.DialRaw(t, addr) }
