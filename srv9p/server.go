package srv9p

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/cred"
)

// Defaults of a Server's limits.
const (
	DefaultMaxConns    = 512
	DefaultMaxInflight = 64
	DefaultIdleTimeout = time.Minute
	// defaultMaxMsize is the largest msize the server agrees to.
	defaultMaxMsize = 4 << 20
	// shutdownGrace bounds how long Serve waits, once its context is done,
	// for connections whose requests are stuck in the file system.
	shutdownGrace = 3 * time.Second
)

// Server answers 9P2000.L, 9P2000.u and 9P2000 for one p9.Attacher. See the package doc for the
// protocol rules it enforces.
type Server struct {
	attacher    p9.Attacher
	log         *slog.Logger
	maxConns    int
	maxInflight int
	idleTimeout time.Duration
	maxMsize    uint32
	// limits are the per-user limits, maybe shared with other servers;
	// unpriv counts the connections that are not Privileged, which may
	// take all of maxConns but privRoom.
	limits   *Limits
	privRoom int
	unpriv   atomic.Int64

	// Identity: how a connection's peer is identified, and how claims
	// are mapped (identity.go); creds runs operations as the user.
	identify func(net.Conn) (Peer, error)
	squash   Squash
	anonUID  uint32
	anonGID  uint32
	creds    *cred.Cache
	// names names owners in 9P2000 and 9P2000.u stats and looks up
	// attaches' unames.
	names idNames
	// refusedOnce logs "not root: cannot act as other users" once.
	refusedOnce sync.Once
	// metrics receives the server's figures (metrics.go); nil: none.
	metrics Metrics

	// conns are the live connections (tests look at them).
	mu    sync.Mutex
	conns map[*conn]bool
}

// ServerOption configures a Server.
type ServerOption func(*Server)

// ServerLogger sets the server's logger (default: discard).
func ServerLogger(l *slog.Logger) ServerOption {
	return func(s *Server) {
		if l != nil {
			s.log = l
		}
	}
}

// MaxConns caps the connections one Serve call keeps open; more are closed
// at once, with a log line. An eighth of them (at least one) is kept for
// Privileged connections. 0 or less means DefaultConns().
func MaxConns(n int) ServerOption { return func(s *Server) { s.maxConns = n } }

// MaxInflight caps the requests of one connection handled at once; the
// memory a connection can hold is about that many times its msize. 0 or
// less means DefaultMaxInflight.
func MaxInflight(n int) ServerOption { return func(s *Server) { s.maxInflight = n } }

// IdleTimeout closes a connection that has had no fid for that long. 0 or
// less means DefaultIdleTimeout.
func IdleTimeout(d time.Duration) ServerOption { return func(s *Server) { s.idleTimeout = d } }

// Identifier sets how a connection's peer is identified (default:
// Identify, the kernel's proof: SO_PEERCRED, privileged ports). It runs
// before the first message is read; an error closes the connection.
func Identifier(f func(net.Conn) (Peer, error)) ServerOption {
	return func(s *Server) { s.identify = f }
}

// TrustClaims makes every connection ProofTrusted: claims are believed
// (for a listener only a VM or another trusted program can reach).
func TrustClaims() ServerOption {
	return Identifier(func(net.Conn) (Peer, error) { return Peer{Proof: ProofTrusted}, nil })
}

// SquashUsers maps root (SquashRoot) or everyone (SquashAll) to the
// anonymous user, as NFS exports do.
func SquashUsers(sq Squash) ServerOption { return func(s *Server) { s.squash = sq } }

// Anonymous sets the anonymous user (default 65534:65534).
func Anonymous(uid, gid uint32) ServerOption {
	return func(s *Server) { s.anonUID, s.anonGID = uid, gid }
}

// NewServer returns a server of a. Files of a that implement the
// interfaces of contract.go get the behaviour described there.
func NewServer(a p9.Attacher, opts ...ServerOption) *Server {
	s := &Server{attacher: a, log: slog.New(slog.DiscardHandler), conns: make(map[*conn]bool),
		identify: Identify, anonUID: DefaultAnonUID, anonGID: DefaultAnonGID}
	for _, o := range opts {
		o(s)
	}
	if s.maxConns <= 0 {
		s.maxConns = DefaultConns()
	}
	s.privRoom = max(1, s.maxConns/8)
	if s.limits == nil {
		s.limits = NewLimits(LimitConfig{})
	}
	if s.maxInflight <= 0 {
		s.maxInflight = DefaultMaxInflight
	}
	if s.idleTimeout <= 0 {
		s.idleTimeout = DefaultIdleTimeout
	}
	s.maxMsize = defaultMaxMsize
	s.creds = cred.NewCache(s.anonGID)
	return s
}

// Serve answers 9P for a on every connection ln accepts until ctx is
// done, with the given logger (nil discards). It is NewServer(a,
// ServerLogger(log)).Serve(ctx, ln).
func Serve(ctx context.Context, ln net.Listener, a p9.Attacher, log *slog.Logger) error {
	return NewServer(a, ServerLogger(log)).Serve(ctx, ln)
}

// Serve accepts connections on ln and serves each until ctx is done; then
// it closes ln and every connection, waits up to a few seconds for their
// requests to end, and returns nil. While the process's descriptors are
// within their reserve (see Limits) it accepts nothing; running out of
// descriptors (EMFILE, ENFILE) makes it pause and go on, never return; any
// other accept error is returned.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := 0
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	backoff := 5 * time.Millisecond
	for {
		s.pauseAccept(ctx)
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || isTemporary(err) {
				s.log.Warn("9p: accept failed, retrying", slog.String("error", err.Error()), slog.Duration("pause", backoff))
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			return err
		}
		backoff = 5 * time.Millisecond
		// Accept was waiting already when the reserve was reached: this
		// connection waits for room before it is served.
		s.pauseAccept(ctx)
		mu.Lock()
		if open >= s.maxConns {
			mu.Unlock()
			s.log.Warn("9p: connection limit reached, closing new connection", slog.Int("max_conns", s.maxConns), slog.String("remote", nc.RemoteAddr().String()))
			nc.Close()
			s.refused(LimitConns)
			continue
		}
		open++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, nc)
			mu.Lock()
			open--
			mu.Unlock()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		s.log.Warn("9p: connections still busy at shutdown; leaving them")
	}
	return nil
}

func isTemporary(err error) bool {
	var ne interface{ Temporary() bool }
	return errors.As(err, &ne) && ne.Temporary()
}

// serveConn serves one connection until the client closes it, it breaks
// the protocol's framing, it stays without fids for the idle timeout, or
// ctx is done. It closes nc before it returns.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	c := newConn(ctx, s, nc)
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	c.serve()
	stop()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}
