// Package node assembles one mfs node in this process: the local export,
// the namespace over every node, the listeners that serve them, and serf
// gossip feeding the namespace's node table. `mfs node` starts one,
// `mfs demo` several; Start binds everything or nothing, Join joins the
// cluster, Wait serves, Stop leaves.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/clustertls"
	"mfs/internal/dial"
	"mfs/internal/metrics"
	"mfs/internal/mount"
	"mfs/membership"
	"mfs/namespace"
	"mfs/srv9p"
	"mfs/srv9p/export"
)

// DefaultExportPort is the export's port when Config.ExportListen is
// empty; the host is the gossip host.
const DefaultExportPort = 5640

// Config is everything one node needs; `mfs node` fills it from flags
// and `mfs demo` once per node. Errors about a field name its flag
// (--id, --listen, …).
type Config struct {
	ID           int
	Root         string
	Listen       []string // namespace listeners
	ExportListen string   // "" means the gossip host, port DefaultExportPort
	Gossip       string
	Advertise    string
	Join         []string
	ReadOnly     bool
	Key          []byte // gossip key; nil: KeyFile's, or none
	KeyFile      string // read (or made) at Start when Key is nil; see membership.LoadKeyFile
	Timings      membership.Timings
	Timeout      time.Duration // per peer operation; 0: namespace default
	MSize        uint32        // asked of peers; 0: namespace default
	Limits       []srv9p.ServerOption
	TLS          *clustertls.Node // certificates between nodes; nil: none
	Insecure     bool             // off loopback without TLS, as asked
	Access       Access
	ExportSquash srv9p.Squash // for the export's peers (--squash: the namespace's clients)
	Mount        string       // mount the namespace here with FUSE; "": no mount
	// MetricsListen serves Prometheus metrics at /metrics here (unix:/path
	// or a loopback host:port; see internal/metrics); "": none.
	MetricsListen string
	Log           *slog.Logger
}

// Node is a started node: export and namespace served, gossip up.
// Start makes one, Join joins it to the cluster, Wait serves until a
// failure or the context's end, Stop ends it.
type Node struct {
	cfg    Config
	log    *slog.Logger
	ns     *namespace.Namespace
	member *membership.Membership
	mount  *mount.Mount // nil without Config.Mount
	// nsAddrs and exportAddr are the addresses actually bound (port 0
	// resolved), as host:port or unix:/path.
	nsAddrs    []string
	exportAddr string
	// metrics is the process's registry (nil without MetricsListen), and
	// metricsAddr where it is served.
	metrics     *metrics.Registry
	metricsAddr string

	cancel context.CancelFunc // stops the servers
	wg     sync.WaitGroup
	errc   chan error // first server failure
}

// Check validates what can be checked before binding anything; Start
// checks too.
func (cfg *Config) Check() error {
	if cfg.ID < 1 || cfg.ID > namespace.MaxNodeID {
		return fmt.Errorf("--id %d: want a node number from 1 to %d", cfg.ID, namespace.MaxNodeID)
	}
	if len(cfg.Listen) == 0 {
		return errors.New("--listen: no address")
	}
	for _, a := range append([]string{cfg.ExportListen}, cfg.Listen...) {
		if a == "" {
			continue
		}
		if _, _, err := dial.ParseAddr(a); err != nil {
			return err
		}
	}
	if cfg.MetricsListen != "" {
		if err := metrics.CheckAddr(cfg.MetricsListen); err != nil {
			return fmt.Errorf("--metrics-listen %w", err)
		}
	}
	if _, _, err := net.SplitHostPort(cfg.Gossip); err != nil {
		return fmt.Errorf("--gossip %q: want host:port", cfg.Gossip)
	}
	if cfg.Advertise != "" {
		if _, _, err := net.SplitHostPort(cfg.Advertise); err != nil {
			return fmt.Errorf("--advertise %q: want host:port", cfg.Advertise)
		}
		// Peers must reach the node where it advertises: not off this
		// machine when gossip listens on loopback.
		if onLoopback(cfg.Gossip) && !onLoopback(cfg.Advertise) {
			return fmt.Errorf("--advertise %s: gossip listens on loopback (--gossip %s), where no other machine reaches it", cfg.Advertise, cfg.Gossip)
		}
	}
	if err := cfg.checkTrust(); err != nil {
		return err
	}
	if cfg.MSize != 0 && cfg.MSize < 8192 {
		return fmt.Errorf("--msize %d: want at least 8192", cfg.MSize)
	}
	if cfg.Timeout < 0 {
		return fmt.Errorf("--timeout %v: must be positive", cfg.Timeout)
	}
	if fi, err := os.Stat(cfg.Root); err != nil || !fi.IsDir() {
		return fmt.Errorf("--root %q: not a directory", cfg.Root)
	}
	return nil
}

// Start binds every listener first (so a taken address fails before
// anything is announced), then serves the export and the namespace, then
// starts gossip. The node is alone until Join.
func Start(cfg Config) (_ *Node, err error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.ExportListen == "" {
		host, _, _ := net.SplitHostPort(cfg.Gossip)
		cfg.ExportListen = net.JoinHostPort(host, strconv.Itoa(DefaultExportPort))
	}
	log := cfg.Log.With(slog.Int("self", cfg.ID))
	if err := cfg.loadKey(log); err != nil {
		return nil, err
	}
	var lns []net.Listener
	defer func() {
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
		}
	}()
	listen := func(what, flag, addr string) (net.Listener, error) {
		network, path, _ := dial.ParseAddr(addr)
		if network == "unix" {
			// The default socket's directory may not exist yet.
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, fmt.Errorf("%s: %w", what, bindError(flag, addr, err))
			}
		}
		ln, err := dial.Listen(addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, bindError(flag, addr, err))
		}
		if network == "unix" {
			// Anyone on this host may connect: the socket proves who
			// they are (SO_PEERCRED), and they act as themselves.
			if err := os.Chmod(path, 0o666); err != nil {
				ln.Close()
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		}
		lns = append(lns, ln)
		return ln, nil
	}
	exportLn, err := listen("export", "--export-listen", cfg.ExportListen)
	if err != nil {
		return nil, err
	}
	exportLn = cfg.secureExport(exportLn, log)
	if cfg.Access.TrustAll {
		log.Warn("--tcp-trust all: every uid a client of a TCP namespace listener claims is believed")
	}
	var nsLns []net.Listener
	for _, a := range cfg.Listen {
		ln, err := listen("namespace", "--listen", a)
		if err != nil {
			return nil, err
		}
		nsLns = append(nsLns, ln)
	}
	var reg *metrics.Registry
	var metricsLn net.Listener
	if cfg.MetricsListen != "" {
		if metricsLn, err = metrics.Listen(cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("metrics: %w", bindError("--metrics-listen", cfg.MetricsListen, err))
		}
		lns = append(lns, metricsLn)
		reg = metrics.New()
	}

	opts := []export.Option{export.WithLogger(log), export.Exclude(export.DefaultExcludes(cfg.Root)...)}
	if cfg.ReadOnly {
		opts = append(opts, export.ReadOnly())
	}
	exp, err := export.New(cfg.Root, opts...)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", cfg.Root, err)
	}
	nsOpts := append([]namespace.Option{namespace.WithLogger(log)}, cfg.peerDialer()...)
	if cfg.Timeout > 0 {
		nsOpts = append(nsOpts, namespace.WithTimeout(cfg.Timeout))
	}
	if cfg.MSize > 0 {
		nsOpts = append(nsOpts, namespace.WithMSize(cfg.MSize))
	}
	if reg != nil {
		nsOpts = append(nsOpts, namespace.WithMetrics(reg.Namespace()))
	}
	ns, err := namespace.New(cfg.ID, exp, nsOpts...)
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{cfg: cfg, log: log, ns: ns, cancel: cancel, errc: make(chan error, 2+len(nsLns)),
		exportAddr: listenAddr(exportLn), metrics: reg}
	if reg != nil {
		reg.WatchNamespace(ns)
		n.serveMetrics(ctx, metricsLn)
	}
	exportOpts := append(cfg.exportIdentity(), srv9p.SquashUsers(cfg.ExportSquash))
	if euid := os.Geteuid(); euid != 0 {
		// A node not run by root can act as its own user alone: a
		// peer's attach that claims no one (the first on each of its
		// connections) acts as that user rather than being refused.
		exportOpts = append(exportOpts, srv9p.Anonymous(uint32(euid), uint32(os.Getegid())))
	}
	n.watchTLS(ctx) // before the first handshake: it logs through n.log
	n.serve(ctx, "export", exportLn, exp, exportOpts...)
	for _, ln := range nsLns {
		n.nsAddrs = append(n.nsAddrs, listenAddr(ln))
		n.serve(ctx, "namespace", ln, ns)
	}

	mcfg := membership.DefaultConfig()
	mcfg.ID = cfg.ID
	mcfg.ExportAddr = n.exportAddr
	mcfg.BindAddr = cfg.Gossip
	mcfg.AdvertiseAddr = cfg.Advertise
	mcfg.Key = cfg.Key
	mcfg.Timings = cfg.Timings
	mcfg.Table = table{ns}
	mcfg.Logger = cfg.Log
	if reg != nil {
		mcfg.OnEvent = reg.MembershipEvents()
	}
	n.member, err = membership.New(*mcfg)
	if err != nil {
		err = gossipError(cfg, err)
		cancel()
		n.wg.Wait()
		ns.Close()
		lns = nil // closed by the servers
		return nil, err
	}
	log.Info("listening", slog.String("service", "gossip"), slog.String("addr", n.member.GossipAddr()), slog.Bool("encrypted", len(cfg.Key) > 0))
	if cfg.Mount != "" {
		if n.mount, err = mount.Start(cfg.Mount, ns, mount.WithLogger(log)); err != nil {
			n.member.Shutdown()
			cancel()
			n.wg.Wait()
			ns.Close()
			lns = nil
			return nil, fmt.Errorf("--mount %s: %w", cfg.Mount, err)
		}
		log.Info("mounted", slog.String("dir", cfg.Mount))
	}
	return n, nil
}

// serve answers 9P on ln until ctx is done.
func (n *Node) serve(ctx context.Context, what string, ln net.Listener, a p9.Attacher, extra ...srv9p.ServerOption) {
	n.log.Info("listening", slog.String("service", what), slog.String("addr", listenAddr(ln)))
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		opts := append([]srv9p.ServerOption{srv9p.ServerLogger(n.log.With(slog.String("service", what)))}, n.cfg.Limits...)
		opts = append(opts, n.cfg.Access.Options(ln)...)
		opts = append(opts, extra...)
		var sm *metrics.Server
		if n.metrics != nil {
			sm = n.metrics.Server(what)
			opts = append(opts, srv9p.WithMetrics(sm))
		}
		srv := srv9p.NewServer(a, opts...)
		if sm != nil {
			sm.Watch(srv)
		}
		err := srv.Serve(ctx, ln)
		if err != nil && ctx.Err() == nil {
			n.errc <- fmt.Errorf("%s %s: %w", what, listenAddr(ln), err)
		}
	}()
}

// serveMetrics answers /metrics on ln until ctx is done.
func (n *Node) serveMetrics(ctx context.Context, ln net.Listener) {
	n.metricsAddr = listenAddr(ln)
	n.log.Info("listening", slog.String("service", "metrics"), slog.String("addr", n.metricsAddr))
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.metrics.Serve(ctx, ln, n.log); err != nil && ctx.Err() == nil {
			n.errc <- fmt.Errorf("metrics %s: %w", n.metricsAddr, err)
		}
	}()
}

// Join joins the cluster through cfg.Join (nothing to do for a first node).
func (n *Node) Join(ctx context.Context) error {
	return n.member.Join(ctx, n.cfg.Join)
}

// Wait returns nil when ctx is done (a signal), or the error that stopped
// the node: a server failure, or gossip stopping on its own.
func (n *Node) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-n.errc:
		return err
	case <-n.member.Done():
		if err := n.member.Err(); err != nil {
			return err
		}
		return errors.New("gossip stopped")
	}
}

// Stop leaves the cluster (graceful: others show the node as left) or just
// stops gossip, then stops serving.
func (n *Node) Stop(leave bool) {
	var err error
	if leave {
		err = n.member.Leave()
	} else {
		err = n.member.Shutdown()
	}
	if err != nil {
		n.log.Warn("stopping gossip", slog.Any("err", err))
	}
	if n.mount != nil {
		if err := n.mount.Unmount(); err != nil {
			n.log.Warn("unmount", slog.String("dir", n.cfg.Mount), slog.Any("err", err))
		}
	}
	n.cancel()
	n.wg.Wait()
	n.ns.Close()
	n.log.Info("stopped")
}

// bindError says which flag to change when addr, the value of flag,
// cannot be bound: a privileged port as an ordinary user, or an address
// taken. The errno stays in the chain.
func bindError(flag, addr string, err error) error {
	var hint string
	switch {
	case isErrno(err, syscall.EACCES) && privilegedPort(addr):
		err = syscall.EACCES
		hint = "ports below 1024 need root; use a port ≥ 1024"
		if flag != "--gossip" {
			hint = "ports below 1024 need root; use " + flag + " unix:… or a port ≥ 1024"
		}
	case isErrno(err, syscall.EADDRINUSE):
		err = syscall.EADDRINUSE
		hint = "another node or server has it; choose another with " + flag
	case isErrno(err, syscall.EACCES), isErrno(err, syscall.EROFS):
		hint = "choose another with " + flag
	default:
		return err
	}
	return fmt.Errorf("listen %s: %w (%s)", addr, err, hint)
}

// isErrno reports whether err is errno, in its chain or in its text
// (memberlist flattens the errors it wraps; dial.Listen says "address
// already in use" of a live unix socket).
func isErrno(err error, errno syscall.Errno) bool {
	return errors.Is(err, errno) || strings.Contains(err.Error(), errno.Error())
}

// privilegedPort reports whether addr is host:port with a port below 1024.
func privilegedPort(addr string) bool {
	network, address, err := dial.ParseAddr(addr)
	if err != nil || network != "tcp" {
		return false
	}
	_, p, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	port, err := strconv.Atoi(p)
	return err == nil && port > 0 && port < 1024
}

// gossipError adds to an error of membership.New what to change: the
// --gossip address when it cannot be bound, --advertise when no address
// to advertise could be found.
func gossipError(cfg Config, err error) error {
	switch {
	case errors.Is(err, membership.ErrNoAdvertise):
		return fmt.Errorf("%w: give the address peers reach this node at with --advertise", err)
	case isErrno(err, syscall.EACCES), isErrno(err, syscall.EADDRINUSE):
		return fmt.Errorf("gossip: %w", bindError("--gossip", cfg.Gossip, err))
	}
	return err
}

// listenAddr renders a listener's address as an mfs address.
func listenAddr(ln net.Listener) string {
	if ln.Addr().Network() == "unix" {
		return "unix:" + ln.Addr().String()
	}
	return ln.Addr().String()
}

// table feeds membership's reports into the namespace's node table.
type table struct{ ns *namespace.Namespace }

// SetNode implements membership.Table.
func (t table) SetNode(m membership.Member) {
	t.ns.SetNode(namespace.Node{ID: m.ID, Addr: m.Addr, State: m.State})
}

// RemoveNode implements membership.Table.
func (t table) RemoveNode(id int) { t.ns.RemoveNode(id) }

// ID is the node's number.
func (n *Node) ID() int { return n.cfg.ID }

// NamespaceAddrs are the namespace listeners' addresses as bound (port 0
// resolved), as host:port or unix:/path, in Config.Listen's order.
func (n *Node) NamespaceAddrs() []string { return n.nsAddrs }

// ExportAddr is the export listener's address as bound.
func (n *Node) ExportAddr() string { return n.exportAddr }

// MetricsAddr is the metrics listener's address as bound; "" without
// Config.MetricsListen.
func (n *Node) MetricsAddr() string { return n.metricsAddr }

// GossipAddr is the gossip address as bound.
func (n *Node) GossipAddr() string { return n.member.GossipAddr() }

// Namespace is the namespace the node serves.
func (n *Node) Namespace() *namespace.Namespace { return n.ns }

// Access is whose claims each namespace listener believes (srv9p's
// identity rules): the --tcp-trust, --squash, --anon-uid and --anon-gid
// flags.
type Access struct {
	TrustAll bool // --tcp-trust all: believe every claim on TCP listeners
	Squash   srv9p.Squash
	AnonUID  uint32
	AnonGID  uint32
}

// Options are the server options of a listener: unix sockets always use
// SO_PEERCRED; TCP listeners privileged ports, or every claim with
// TrustAll.
func (a Access) Options(ln net.Listener) []srv9p.ServerOption {
	opts := []srv9p.ServerOption{srv9p.SquashUsers(a.Squash), srv9p.Anonymous(a.AnonUID, a.AnonGID)}
	if a.TrustAll && ln.Addr().Network() == "tcp" {
		opts = append(opts, srv9p.TrustClaims())
	}
	return opts
}
