package srv9p

import (
	"context"
	"net"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
)

// What the external tests (package srv9p_test) see of the server's
// insides.

// XattrSizeMax is Linux's XATTR_SIZE_MAX, the largest Txattrcreate.
const XattrSizeMax = xattrSizeMax

// TagsInFlight returns the number of tags in flight on s's connections:
// running, queued, or read and waiting for room.
func TagsInFlight(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		n += c.inflight()
	}
	return n
}

// FidConn is a connection without a socket, for calling handlers
// directly.
type FidConn struct{ c *conn }

// NewFidConn returns a connection with an empty fid table.
func NewFidConn() *FidConn {
	return &FidConn{c: &conn{fids: fidTable{fids: make(map[uint32]*fid)}}}
}

// AddXattrCreate puts in the table as n a fid of file that collects the
// attribute name of size bytes, as Txattrcreate makes. The fid holds a
// reference of its own, so its clunk does not close file.
func (f *FidConn) AddXattrCreate(n uint32, file p9.File, name string, size uint64) {
	x := &fid{file: file, xattr: &xattrState{create: true, name: name, size: size}}
	x.refs.Add(1)
	f.c.fids.add(n, x)
}

// Write is the handler of Twrite.
func (f *FidConn) Write(m *fcall.Twrite) (fcall.Msg, error) { return f.c.writeFile(m) }

// Clunk is the handler of Tclunk in 9P2000.L.
func (f *FidConn) Clunk(n uint32) error { return f.c.clunk(n) }

// ShutdownGrace bounds how long Serve waits for busy connections once its
// context is done.
const ShutdownGrace = shutdownGrace

// DefaultMaxMsize is the largest msize the server agrees to.
const DefaultMaxMsize = defaultMaxMsize

// ServeConn serves one connection as Serve does each it accepts.
func ServeConn(s *Server, ctx context.Context, nc net.Conn) { s.serveConn(ctx, nc) }
