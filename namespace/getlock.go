package namespace

import (
	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p"
)

// isGetLock recognizes a Tgetlock that srv9p.Serve disguised as a Tlock.
func isGetLock(flags p9.LockFlags, client string) (token, orig string, ok bool) {
	return srv9p.IsGetLock(flags, client)
}

// answerGetLock hands the peer's Rgetlock to srv9p.Serve's filter.
func answerGetLock(token string, g getLock) {
	srv9p.AnswerGetLock(token, srv9p.LockInfo{Type: g.Type, Start: g.Start, Length: g.Length, PID: g.PID, Client: g.Client})
}
