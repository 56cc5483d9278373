package srv9p

import (
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// Metrics receives a Server's figures as it works (WithMetrics). The
// server calls it on every request, from many goroutines: an
// implementation must be safe for concurrent use, cheap, and must not
// allocate. The package knows nothing of how the figures are kept or
// shown (mfs's internal/metrics keeps them for Prometheus).
type Metrics interface {
	// Request reports one answered request: typ is its T-message type (for
	// a frame that did not decode, whatever its header said), d the
	// connection's dialect (fcall.Unknown before a Tversion), failed
	// whether the reply was an error (Rlerror, Rerror), and took the time
	// from its frame being read to its reply being ready to write (0 for
	// a Tflush answered after the request it flushed). It is called
	// before the reply is written: a client that has its reply finds its
	// request counted.
	Request(typ uint8, d fcall.Dialect, failed bool, took time.Duration)
	// Transferred reports the payload of a Tread (write false) or Twrite
	// (write true) answered with data: n bytes read or written.
	Transferred(write bool, n int)
	// Refused reports one thing a limit refused: a connection past
	// MaxConns, and so on (see Limit).
	Refused(l Limit)
}

// Limit names one of a Server's limits, for Metrics.Refused: a small
// fixed set, fit for a metric label.
type Limit string

// Limits of a Server. A limit added to the server gets a constant here and
// calls Server.refused where it refuses.
const (
	// LimitConns is MaxConns: a connection closed at once because the
	// server has as many as it keeps.
	LimitConns Limit = "conns"
	// LimitConnsPerUser is the connections one uid may hold.
	LimitConnsPerUser Limit = "conns_per_user"
	// LimitFids is the fids of one connection.
	LimitFids Limit = "fids"
	// LimitFidsPerUser is the fids of one uid across connections.
	LimitFidsPerUser Limit = "fids_per_user"
	// LimitBuffer is the memory held for requests and replies.
	LimitBuffer Limit = "buffer"
	// LimitDescriptors is the descriptor reserve kept from clients.
	LimitDescriptors Limit = "descriptors"
)

// WithMetrics makes the server report its figures to m (default: none;
// the server then does no timing at all).
func WithMetrics(m Metrics) ServerOption { return func(s *Server) { s.metrics = m } }

// refused is the hook every limit calls when it refuses something: it
// counts the refusal in the server's Metrics, if any.
func (s *Server) refused(l Limit) {
	if s.metrics != nil {
		s.metrics.Refused(l)
	}
}

// Usage is what a Server holds at one moment (Server.Usage).
type Usage struct {
	// Conns is the number of open connections (identified or not yet).
	Conns int
	// Fids counts the fids in use by the uid they act for (p9.NoUID for
	// fids of an attach that named no one).
	Fids map[p9.UID]int
}

// Usage returns the connections and fids the server holds now. It takes
// each connection's fid table lock in turn, briefly: it is meant for a
// metrics scrape or a status file, not for every request.
func (s *Server) Usage() Usage {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	u := Usage{Conns: len(conns), Fids: make(map[p9.UID]int)}
	for _, c := range conns {
		c.fids.mu.Lock()
		for _, f := range c.fids.fids {
			u.Fids[f.uid]++
		}
		c.fids.mu.Unlock()
	}
	return u
}

// countRequest reports r, answered with the encoded reply frame, and the
// flushes Tflushes answered after it, to the server's Metrics.
func (c *conn) countRequest(r *request, frame []byte, flushes int) {
	m := c.srv.metrics
	typ, rtyp := r.msg.Type(), frame[4]
	failed := rtyp == fcall.MsgRlerror || rtyp == fcall.MsgRerror
	m.Request(typ, c.dialect, failed, time.Since(r.start))
	switch {
	case failed:
	case typ == fcall.MsgTread && rtyp == fcall.MsgRread:
		m.Transferred(false, replyCount(frame))
	case typ == fcall.MsgTwrite && rtyp == fcall.MsgRwrite:
		m.Transferred(true, replyCount(frame))
	}
	for range flushes {
		m.Request(fcall.MsgTflush, c.dialect, false, 0)
	}
}

// replyCount returns the count field of an encoded Rread (its data's
// length) or Rwrite (the bytes written).
func replyCount(frame []byte) int {
	if len(frame) < fcall.RreadHeaderSize {
		return 0
	}
	b := frame[fcall.HeaderSize:]
	return int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
}

// count reports a request answered outside the tag table (Tversion,
// Tflush, a frame refused by dispatch) to the server's Metrics, if any;
// start is when its frame was read.
func (c *conn) count(typ uint8, failed bool, start time.Time) {
	if m := c.srv.metrics; m != nil {
		m.Request(typ, c.dialect, failed, time.Since(start))
	}
}
