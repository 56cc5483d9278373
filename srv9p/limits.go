package srv9p

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hugelgupf/p9/linux"
	"golang.org/x/sys/unix"

	"mfs/internal/fcall"
)

// Limits per user. A Server's connections share one Limits with every
// other Server given the same one (UserLimits), so a node's namespace
// listeners and its export count a user once:
//
//   - fids: at most MaxFids on one connection and MaxFidsPerUser of one
//     uid across connections; a request that would make one more (Tattach,
//     a Twalk to a new fid, clones included, Txattrwalk) is answered EMFILE
//     and the connection goes on. A walk onto its own fid, a create or an
//     open makes no new fid. Connections of root and of cluster members
//     (Privileged) carry many users' fids and have no per-connection
//     limit; root's fids have no per-user limit.
//   - connections: at most MaxConnsPerUser of one uid. A unix socket's
//     connection counts for its peer's uid as soon as it is accepted (the
//     kernel tells it), a TCP connection that proves nothing for the
//     anonymous user (all it can attach as); beyond the limit it is closed
//     at once. A connection of a listener that believes claims
//     (TrustClaims) counts for the uid of its first attach, and past the
//     limit that attach is refused EMFILE: the client sees why, and the
//     connection, holding no fid, ends at the idle timeout. Privileged
//     connections are not counted, and an eighth of MaxConns of each
//     Server is kept for them.
//   - descriptors: the process keeps a reserve of its descriptor limit
//     (max(64, a tenth)) for what is not a client (gossip, peers, the
//     log, accept): a Tattach, Twalk, Topen, Tlopen or create that would
//     open one within the reserve is answered EMFILE, and Serve accepts no
//     connection until there is room again.
//   - memory: the frames of requests read and of Rread and Rreaddir
//     replies are taken from a budget of MaxBuffer bytes before they are
//     allocated and given back when the reply is written or the
//     connection ends. One connection may hold a sixteenth of it (a
//     privileged one a quarter), one user's connections a quarter, and
//     unprivileged connections together all but an eighth. A request that
//     finds no room waits, and its connection's reader stops reading: a
//     client that reads no replies stops itself, not the server. The
//     values xattr fids hold (Txattrwalk, Txattrcreate: up to 64 KiB
//     each, until the clunk) have half as much again, in the same shares,
//     apart, so fids a client keeps never stop its reader: past it they
//     are refused EMFILE.
//
// Each limit that bites is logged once per user.

// Defaults of LimitConfig, for a process whose descriptor limit is large
// (DefaultLimits sizes them down for a small one).
const (
	DefaultMaxFids         = 4096
	DefaultMaxFidsPerUser  = 16384
	DefaultMaxConnsPerUser = 64
	DefaultMaxBuffer       = 256 << 20
	// MinMaxBuffer is the smallest MaxBuffer: a few frames of the largest
	// msize.
	MinMaxBuffer = 16 << 20
)

// LimitConfig sets the limits of a Limits. A field of 0 or less takes its
// DefaultLimits value.
type LimitConfig struct {
	MaxFids         int   // fids of one connection
	MaxFidsPerUser  int   // fids of one uid, across connections
	MaxConnsPerUser int   // connections of one uid
	MaxBuffer       int64 // bytes of request and reply frames held
}

// Limits holds what the connections of one or more Servers use, per user
// and in all. See the top of limits.go for the rules.
type Limits struct {
	cfg LimitConfig
	fds *fdGauge

	// users are the uids with a connection or a fid; an entry goes when
	// both counts are zero. Fid counts of an entry change without mu
	// only while the entry holds a fid (a walk from a fid of the user).
	mu    sync.Mutex
	users map[uint32]*userUse

	// Memory: used bytes in all, under memMu with every connection's and
	// user's own count; waiters wait for changed.
	memMu   sync.Mutex
	used    int64
	xused   int64 // held by xattr fids (holdXattr)
	waiters int
	changed chan struct{}

	bitMu  sync.Mutex
	bitten map[biteKey]bool // limits already logged, under bitMu
}

// userUse is what one uid holds.
type userUse struct {
	uid   uint32
	l     *Limits
	fids  atomic.Int64
	conns atomic.Int64
	mem   int64 // under l.memMu
	xmem  int64 // under l.memMu: held by xattr fids
}

// biteKey is a limit that bit a user.
type biteKey struct {
	uid   uint32
	limit string
}

// DescriptorLimit returns the process's descriptor limit (the soft
// RLIMIT_NOFILE, which Go raises to the hard limit at start, and which the
// first call raises too if something lowered it since) and the reserve no
// client may take.
func DescriptorLimit() (limit, reserve int) {
	g := processFDs()
	return int(g.limit), int(g.reserve)
}

// DefaultLimits returns the default limits, sized down where the
// descriptor limit is small: a user may take a quarter of the descriptors
// outside the reserve as fids (each can hold two descriptors: the file's
// and, once opened, the open one's).
func DefaultLimits() LimitConfig {
	limit, reserve := DescriptorLimit()
	usable := max(limit-reserve, 64)
	perUser := min(DefaultMaxFidsPerUser, max(usable/4, 16))
	return LimitConfig{
		MaxFids:         min(DefaultMaxFids, perUser),
		MaxFidsPerUser:  perUser,
		MaxConnsPerUser: min(DefaultMaxConnsPerUser, max(DefaultConns()/8, 2)),
		MaxBuffer:       DefaultMaxBuffer,
	}
}

// DefaultConns returns the default MaxConns of a Server: DefaultMaxConns,
// or an eighth of the descriptors outside the reserve if that is less.
func DefaultConns() int {
	limit, reserve := DescriptorLimit()
	return min(DefaultMaxConns, max((limit-reserve)/8, 8))
}

// NewLimits returns limits by cfg.
func NewLimits(cfg LimitConfig) *Limits {
	def := DefaultLimits()
	if cfg.MaxFids <= 0 {
		cfg.MaxFids = def.MaxFids
	}
	if cfg.MaxFidsPerUser <= 0 {
		cfg.MaxFidsPerUser = def.MaxFidsPerUser
	}
	if cfg.MaxConnsPerUser <= 0 {
		cfg.MaxConnsPerUser = def.MaxConnsPerUser
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = def.MaxBuffer
	}
	cfg.MaxBuffer = max(cfg.MaxBuffer, MinMaxBuffer)
	return &Limits{cfg: cfg, fds: processFDs(), users: make(map[uint32]*userUse), changed: make(chan struct{}), bitten: make(map[biteKey]bool)}
}

// Config returns the limits in force.
func (l *Limits) Config() LimitConfig { return l.cfg }

// BufferInUse returns the bytes of frames held now.
func (l *Limits) BufferInUse() int64 {
	l.memMu.Lock()
	defer l.memMu.Unlock()
	return l.used
}

// UserBuffer returns the bytes of frames and of xattr values uid's
// counted connections hold now.
func (l *Limits) UserBuffer(uid uint32) (frames, xattrs int64) {
	l.mu.Lock()
	u := l.users[uid]
	l.mu.Unlock()
	if u == nil {
		return 0, 0
	}
	l.memMu.Lock()
	defer l.memMu.Unlock()
	return u.mem, u.xmem
}

// UserFids returns the fids uid holds through l's servers.
func (l *Limits) UserFids(uid uint32) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := l.users[uid]; u != nil {
		return int(u.fids.Load())
	}
	return 0
}

// UserLimits makes the server count fids, connections and memory in l,
// shared with every other server given l. Without it a server has limits
// of its own, DefaultLimits.
func UserLimits(l *Limits) ServerOption { return func(s *Server) { s.limits = l } }

// bite counts a refusal by limit in srv's metrics and logs, once per user
// and limit (what: its name in the log), that the limit refused uid.
func (l *Limits) bite(srv *Server, log *slog.Logger, uid uint32, limit Limit, what string, value int64) {
	srv.refused(limit)
	k := biteKey{uid, what}
	l.bitMu.Lock()
	seen := l.bitten[k]
	l.bitten[k] = true
	l.bitMu.Unlock()
	if seen {
		return
	}
	log.Warn("9p: limit reached; refusing more to this user (logged once per user and limit)",
		slog.Uint64("uid", uint64(uid)), slog.String("limit", what), slog.Int64("value", value))
}

// userFid returns uid's entry with one fid taken for a new attach fid.
func (l *Limits) userFid(uid uint32) *userUse {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.entry(uid)
	u.fids.Add(1)
	return u
}

// userConn takes one connection of uid, unless uid has MaxConnsPerUser.
func (l *Limits) userConn(uid uint32) (*userUse, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.entry(uid)
	if u.conns.Load() >= int64(l.cfg.MaxConnsPerUser) {
		l.dropLocked(u)
		return nil, false
	}
	u.conns.Add(1)
	return u, true
}

// entry returns uid's entry, made if missing. Called under mu.
func (l *Limits) entry(uid uint32) *userUse {
	u := l.users[uid]
	if u == nil {
		u = &userUse{uid: uid, l: l}
		l.users[uid] = u
	}
	return u
}

// putConn gives back a connection of u.
func (u *userUse) putConn() {
	if u.conns.Add(-1) == 0 {
		u.l.drop(u)
	}
}

// putFid gives back one fid of u.
func (u *userUse) putFid() {
	if u.fids.Add(-1) == 0 {
		u.l.drop(u)
	}
}

// drop forgets u if it holds nothing.
func (l *Limits) drop(u *userUse) {
	l.mu.Lock()
	l.dropLocked(u)
	l.mu.Unlock()
}

func (l *Limits) dropLocked(u *userUse) {
	if u.fids.Load() == 0 && u.conns.Load() == 0 && l.users[u.uid] == u {
		delete(l.users, u.uid)
	}
}

// memCaps returns what one connection, one user, and the unprivileged
// connections together may hold.
func (l *Limits) memCaps(priv bool) (conn, user, all int64) {
	b := l.cfg.MaxBuffer
	if priv {
		return b / 4, b, b
	}
	return b / 16, b / 4, b - b/8
}

// takeMem takes n bytes of the budget for c, waiting for room until ctx
// is done (then it reports false); before it waits it calls wait, if not
// nil. A connection that holds nothing may
// take one frame past its own share, and anyone may take one when nothing
// is held at all, so a frame bigger than a share still goes.
func (c *conn) takeMem(ctx context.Context, n int64, wait func()) bool {
	l := c.srv.limits
	ccap, ucap, gcap := l.memCaps(c.priv)
	l.memMu.Lock()
	for {
		u := c.user
		fits := (c.mem == 0 || c.mem+n <= ccap) &&
			(u == nil || u.mem == 0 || u.mem+n <= ucap) &&
			(l.used == 0 || l.used+n <= gcap)
		if fits {
			c.mem += n
			if u != nil {
				u.mem += n
			}
			l.used += n
			l.memMu.Unlock()
			return true
		}
		if !c.memWaited {
			c.memWaited = true
			uid := uint32(math.MaxUint32)
			if u != nil {
				uid = u.uid
			}
			l.memMu.Unlock()
			l.bite(c.srv, c.log, uid, LimitBuffer, "max-buffer", l.cfg.MaxBuffer)
			l.memMu.Lock()
			continue
		}
		l.waiters++
		ch := l.changed
		l.memMu.Unlock()
		if wait != nil {
			wait()
		}
		select {
		case <-ch:
		case <-ctx.Done():
		}
		l.memMu.Lock()
		l.waiters--
		if ctx.Err() != nil {
			l.memMu.Unlock()
			return false
		}
	}
}

// putMem gives back n bytes c took.
func (c *conn) putMem(n int64) {
	l := c.srv.limits
	l.memMu.Lock()
	c.mem -= n
	if c.user != nil {
		c.user.mem -= n
	}
	l.used -= n
	if l.waiters > 0 {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	l.memMu.Unlock()
}

// bufCost is what a getBuf(n) buffer holds: its size class.
func bufCost(n int) int64 {
	if c := bufClass(n); c >= 0 {
		return 1 << (c + minBufShift)
	}
	return int64(n)
}

// getFrame returns a buffer of n bytes taken from the budget, or nil if
// ctx ended while it waited (see takeMem for wait).
func (c *conn) getFrame(ctx context.Context, n int, wait func()) []byte {
	if !c.takeMem(ctx, bufCost(n), wait) {
		return nil
	}
	return getBuf(n)
}

// putFrame gives back a buffer of getFrame.
func (c *conn) putFrame(b []byte) {
	if b == nil {
		return
	}
	c.putMem(int64(cap(b)))
	putBuf(b)
}

// errLimit is what a request past a limit is answered.
var errLimit = linux.EMFILE

// newFid checks that the connection may make a new fid of user u (uid)
// that holds fds descriptors, and takes it: the caller gives it to the
// fid it makes (charge) or back (u.putFid, when what follows fails). u
// already counts the fid when taken is true (an attach's, see userFid).
func (c *conn) newFid(u *userUse, fds int32, taken bool) error {
	l := c.srv.limits
	if !taken {
		u.fids.Add(1)
	}
	fail := func(limit Limit, what string, v int) error {
		u.putFid()
		l.bite(c.srv, c.log, u.uid, limit, what, int64(v))
		return errLimit
	}
	if !c.priv && c.fids.count() >= l.cfg.MaxFids {
		return fail(LimitFids, "max-fids", l.cfg.MaxFids)
	}
	if u.uid != 0 && u.fids.Load() > int64(l.cfg.MaxFidsPerUser) {
		return fail(LimitFidsPerUser, "max-fids-per-user", l.cfg.MaxFidsPerUser)
	}
	if fds > 0 && !l.fds.room(int64(fds)) {
		return fail(LimitDescriptors, "descriptor reserve", int(l.fds.reserve))
	}
	return nil
}

// fdRoom answers EMFILE when opening n more descriptors would reach into
// the reserve.
func (c *conn) fdRoom(uid uint32, n int64) error {
	l := c.srv.limits
	if !l.fds.room(n) {
		l.bite(c.srv, c.log, uid, LimitDescriptors, "descriptor reserve", l.fds.reserve)
		return errLimit
	}
	return nil
}

// charge makes f count as one fid of u, holding fds descriptors; the
// counts go back when f's last reference does (release).
func (f *fid) charge(u *userUse, fds int32) *fid {
	f.acct, f.fds = u, fds
	if fds > 0 {
		processFDs().est.Add(int64(fds))
	}
	return f
}

// opens counts one more descriptor of f (an open). Called under f.mu.
func (f *fid) opens() {
	if f.acct != nil {
		f.fds++
		processFDs().est.Add(1)
	}
}

// uncharge gives back what charge took.
func (f *fid) uncharge() {
	if f.acct == nil {
		return
	}
	if f.fds > 0 {
		processFDs().est.Add(-int64(f.fds))
	}
	f.acct.putFid()
	f.acct = nil
}

// fdGauge knows how close the process is to its descriptor limit: est is
// the count of /proc/self/fd when last taken plus the descriptors fids
// and connections took and gave since. It is counted again every second,
// and whenever est comes near the reserve (at most every 10 ms).
type fdGauge struct {
	limit   int64
	reserve int64
	est     atomic.Int64
	next    atomic.Int64 // unix nanoseconds of the next periodic count
	mu      sync.Mutex   // one count at a time
	last    time.Time    // of the last count, under mu
}

// processFDs is the process's gauge: descriptors are the process's.
var processFDs = sync.OnceValue(newFDGauge)

func newFDGauge() *fdGauge {
	g := &fdGauge{limit: 1 << 20}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		if lim.Cur < lim.Max {
			up := lim
			up.Cur = lim.Max
			if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
				lim = up
			}
		}
		if lim.Cur < math.MaxInt32 {
			g.limit = int64(lim.Cur)
		}
	}
	g.reserve = max(64, g.limit/10)
	g.count()
	return g
}

// room reports whether n more descriptors leave the reserve free.
func (g *fdGauge) room(n int64) bool {
	if g.est.Load()+n+g.reserve <= g.limit && time.Now().UnixNano() < g.next.Load() {
		return true
	}
	return g.count()+n+g.reserve <= g.limit
}

// count counts the open descriptors (unless it did in the last 10 ms)
// and returns the estimate.
func (g *fdGauge) count() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if now.Sub(g.last) < 10*time.Millisecond {
		return g.est.Load()
	}
	n, err := countFDs()
	if err != nil {
		n = g.limit // no descriptor even to count them
	}
	g.est.Store(n)
	g.last = now
	g.next.Store(now.Add(time.Second).UnixNano())
	return n
}

// countFDs counts the entries of /proc/self/fd, less the one it opens.
func countFDs() (int64, error) {
	fd, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 32<<10)
	var n int64
	for {
		m, err := unix.Getdents(fd, buf)
		if err != nil {
			return 0, err
		}
		if m <= 0 {
			break
		}
		// struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name.
		for b := buf[:m]; len(b) >= 20; {
			reclen := int(b[16]) | int(b[17])<<8
			if reclen < 20 || reclen > len(b) {
				break
			}
			if b[19] != '.' {
				n++
			}
			b = b[reclen:]
		}
	}
	return n - 1, nil
}

// pauseAccept waits while the process's descriptors are within the
// reserve (logging once), checking again every few milliseconds, until
// ctx is done.
func (s *Server) pauseAccept(ctx context.Context) {
	g := s.limits.fds
	if g.room(1) {
		return
	}
	s.limits.bite(s, s.log, math.MaxUint32, LimitDescriptors, "descriptor reserve (accept paused)", g.reserve)
	pause := 5 * time.Millisecond
	for !g.room(1) {
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// Privileged reports whether a connection with peer p belongs to root or
// to a cluster member: a unix socket's peer of uid 0, a privileged port,
// a member's certificate. Such a connection carries many users' requests:
// it is not counted for a user, has no per-connection fid limit, and may
// use the connections kept from the others.
func Privileged(p Peer) bool {
	switch p.Proof {
	case ProofMember, ProofPrivPort:
		return true
	case ProofUnix:
		return p.UID == 0
	}
	return false
}

// admit counts the connection once its peer is known, and reports whether
// it may go on: a connection that is not Privileged must leave the room
// kept for those, and counts for its user where the peer tells the user
// (see the top of the file).
func (c *conn) admit() bool {
	s, l := c.srv, c.srv.limits
	c.priv = Privileged(c.peer)
	if c.priv {
		return true
	}
	if s.unpriv.Add(1) > int64(s.maxConns-s.privRoom) {
		s.unpriv.Add(-1)
		l.bite(c.srv, c.log, c.peerUID(), LimitConns, "max-conns (room kept for root and members)", int64(s.maxConns-s.privRoom))
		return false
	}
	switch c.peer.Proof {
	case ProofUnix, ProofNone:
		u, ok := l.userConn(c.peerUID())
		if !ok {
			s.unpriv.Add(-1)
			l.bite(c.srv, c.log, c.peerUID(), LimitConnsPerUser, "max-conns-per-user", int64(l.cfg.MaxConnsPerUser))
			return false
		}
		c.user = u
	}
	return true
}

// peerUID is the uid a connection's peer proves: its own on a unix
// socket, the anonymous user's for a connection that proves nothing.
func (c *conn) peerUID() uint32 {
	if c.peer.Proof == ProofUnix {
		return c.peer.UID
	}
	return c.srv.anonUID
}

// countAttach counts a connection of a listener that believes claims for
// the uid of its first attach as someone other than root; EMFILE if that
// user has MaxConnsPerUser already.
func (c *conn) countAttach(uid uint32) error {
	if c.priv || c.peer.Proof != ProofTrusted || uid == 0 {
		return nil
	}
	l := c.srv.limits
	c.umu.Lock()
	defer c.umu.Unlock()
	if c.counted {
		return nil
	}
	u, ok := l.userConn(uid)
	if !ok {
		l.bite(c.srv, c.log, uid, LimitConnsPerUser, "max-conns-per-user", int64(l.cfg.MaxConnsPerUser))
		return errLimit
	}
	l.memMu.Lock()
	c.user = u
	// What the connection holds now (the Tattach's own frame) is given
	// back to the user later: count it there.
	u.mem += c.mem
	u.xmem += c.xmem
	l.memMu.Unlock()
	c.counted = true
	return nil
}

// leave gives back what admit and countAttach took, once the connection's
// requests are done.
func (c *conn) leave() {
	if !c.priv {
		c.srv.unpriv.Add(-1)
	}
	c.srv.limits.memMu.Lock()
	u := c.user
	c.srv.limits.memMu.Unlock()
	if u != nil {
		u.putConn()
	}
}

// overLimit answers EMFILE for a Twalk or Txattrwalk to a new fid that a
// limit would refuse (newFid checks again, and takes the fid).
func (c *conn) overLimit(m fcall.Msg) error {
	var from, to uint32
	fds := int64(1)
	switch m := m.(type) {
	case *fcall.Twalk:
		from, to = m.Fid, m.NewFid
	case *fcall.Txattrwalk:
		from, to, fds = m.Fid, m.NewFid, 0
	default:
		return nil
	}
	if from == to {
		return nil
	}
	f := c.fids.get(from)
	if f == nil {
		return nil
	}
	defer f.release()
	u, l := f.acct, c.srv.limits
	switch {
	case u == nil:
	case !c.priv && c.fids.count() >= l.cfg.MaxFids:
		l.bite(c.srv, c.log, u.uid, LimitFids, "max-fids", int64(l.cfg.MaxFids))
		return errLimit
	case u.uid != 0 && u.fids.Load() >= int64(l.cfg.MaxFidsPerUser):
		l.bite(c.srv, c.log, u.uid, LimitFidsPerUser, "max-fids-per-user", int64(l.cfg.MaxFidsPerUser))
		return errLimit
	case fds > 0 && !l.fds.room(fds):
		l.bite(c.srv, c.log, u.uid, LimitDescriptors, "descriptor reserve", l.fds.reserve)
		return errLimit
	}
	return nil
}

// holdXattr takes n bytes of the xattr share for f, a fid of c that holds
// an attribute's value until it goes (release gives them back); EMFILE if
// c, its user or everyone hold their half share already.
func (c *conn) holdXattr(f *fid, n int64) error {
	if n == 0 || c.srv == nil {
		return nil
	}
	l := c.srv.limits
	ccap, ucap, gcap := l.memCaps(c.priv)
	l.memMu.Lock()
	u := c.user
	if c.xmem+n > ccap/2 || (u != nil && u.xmem+n > ucap/2) || l.xused+n > gcap/2 {
		l.memMu.Unlock()
		uid := uint32(f.uid)
		l.bite(c.srv, c.log, uid, LimitBuffer, "max-buffer (xattr values)", l.cfg.MaxBuffer/2)
		return errLimit
	}
	c.xmem += n
	if u != nil {
		u.xmem += n
	}
	l.xused += n
	l.memMu.Unlock()
	f.xconn, f.xmem = c, n
	return nil
}

// dropXattr gives back what holdXattr took for f.
func (f *fid) dropXattr() {
	c := f.xconn
	if c == nil {
		return
	}
	l := c.srv.limits
	l.memMu.Lock()
	c.xmem -= f.xmem
	if c.user != nil {
		c.user.xmem -= f.xmem
	}
	l.xused -= f.xmem
	l.memMu.Unlock()
	f.xconn = nil
}
