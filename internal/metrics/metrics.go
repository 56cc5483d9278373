// Package metrics keeps one process's figures for Prometheus and serves
// them, as text, at /metrics on the address of --metrics-listen.
//
// The figures are taken where they live, through small interfaces of the
// packages that make them, which know nothing of Prometheus:
// srv9p.Metrics (requests, errors, latency, bytes, limit refusals) and
// srv9p.Server.Usage (connections, fids by user, read at scrape time);
// namespace.Metrics (peer round trips) and namespace.Links (peer link
// state, read at scrape time); membership.Config.OnEvent (member changes).
//
// One Registry per process, never Prometheus's global one. Names follow
// Prometheus's conventions: the mfs_ prefix, _total for counters, base
// units (_seconds, _bytes); labels take values from small fixed sets
// (service, operation, dialect, limit, event, node number) and never user
// data but a uid as a number, for at most MaxUIDSeries uids.
//
// Metrics:
//
//	mfs_requests_total{service,op,dialect}        requests answered
//	mfs_request_errors_total{service,op,dialect}  of which with an error reply
//	mfs_request_duration_seconds{service,op}      request read to reply ready to send
//	mfs_read_bytes_total{service}                 Rread payloads
//	mfs_written_bytes_total{service}              Twrite payloads written
//	mfs_connections{service}                      open connections
//	mfs_fids{service,uid}                         fids in use by uid
//	mfs_limit_refusals_total{service,limit}       what a limit refused
//	mfs_peer_up{node}                             1: a live connection to the node
//	mfs_peer_alive{node}                          1: membership says alive
//	mfs_peer_rtt_seconds{node}                    metadata round trips to the node
//	mfs_membership_events_total{event}            join, update, fail, leave, reap
//
// service is "export" (the 9P export of this machine's files, to peers or
// to `mfs export`'s clients) or "namespace" (a node's cluster namespace,
// to local clients); op is the T-message name (Twalk, Tread, …; "other"
// for a type no dialect has).
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hugelgupf/p9/p9"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mfs/internal/dial"
	"mfs/internal/fcall"
	"mfs/membership"
	"mfs/namespace"
	"mfs/srv9p"
)

// MaxUIDSeries is how many uids mfs_fids names, the ones with the most
// fids; the fids of the others are summed under uid="other".
const MaxUIDSeries = 64

// Services: the values of the service label.
const (
	ServiceExport    = "export"
	ServiceNamespace = "namespace"
)

// durationBuckets suit 9P requests and peer round trips: 10 µs to 10 s,
// about three buckets a decade.
var durationBuckets = prometheus.ExponentialBucketsRange(10e-6, 10, 19)

// Registry is one process's metrics. Make it with New, hand its parts to
// what makes the figures (Server, Namespace, MembershipEvents), serve it
// with Serve.
type Registry struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	read     *prometheus.CounterVec
	written  *prometheus.CounterVec
	refusals *prometheus.CounterVec
	peerRTT  *prometheus.HistogramVec
	events   *prometheus.CounterVec

	connsDesc, fidsDesc, upDesc, aliveDesc *prometheus.Desc

	mu       sync.Mutex
	services map[string]*Server // by service name
	ns       *namespace.Namespace
	rtt      map[int]prometheus.Observer // by node; under rttMu
	rttMu    sync.RWMutex
}

// New returns a registry with mfs's metrics and Go's and the process's
// (go_*, process_*).
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfs_requests_total", Help: "9P requests answered, by service, operation (T-message) and dialect.",
		}, []string{"service", "op", "dialect"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfs_request_errors_total", Help: "9P requests answered with an error (Rlerror, Rerror), by service, operation and dialect.",
		}, []string{"service", "op", "dialect"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mfs_request_duration_seconds", Help: "Time from a 9P request read to its reply ready to send, by service and operation.",
			Buckets: durationBuckets,
		}, []string{"service", "op"}),
		read: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfs_read_bytes_total", Help: "Bytes of data sent in Rread replies, by service.",
		}, []string{"service"}),
		written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfs_written_bytes_total", Help: "Bytes of Twrite data written, by service.",
		}, []string{"service"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfs_limit_refusals_total", Help: "Things a server limit refused, by service and limit (conns, conns_per_user, fids, fids_per_user, buffer, descriptors).",
		}, []string{"service", "limit"}),
		peerRTT: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mfs_peer_rtt_seconds", Help: "Round trips of metadata calls (walk, getattr, open, …) to another node's export, by node.",
			Buckets: durationBuckets,
		}, []string{"node"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfs_membership_events_total", Help: "Member changes this node saw, by event (join, update, fail, leave, reap).",
		}, []string{"event"}),
		connsDesc: prometheus.NewDesc("mfs_connections", "Open 9P connections, by service.", []string{"service"}, nil),
		fidsDesc: prometheus.NewDesc("mfs_fids", "9P fids in use, by service and the uid they act for (the "+
			strconv.Itoa(MaxUIDSeries)+" uids with most fids; the rest as uid=\"other\"; no uid: \"none\").", []string{"service", "uid"}, nil),
		upDesc:    prometheus.NewDesc("mfs_peer_up", "1 while this node holds a live connection to the node's export, else 0.", []string{"node"}, nil),
		aliveDesc: prometheus.NewDesc("mfs_peer_alive", "1 while membership reports the node alive, else 0 (failed or left).", []string{"node"}, nil),
		services:  make(map[string]*Server),
		rtt:       make(map[int]prometheus.Observer),
	}
	r.reg.MustRegister(r.requests, r.errors, r.latency, r.read, r.written, r.refusals, r.peerRTT, r.events,
		scrapeTime{r}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Gatherer is the registry, for tests and other handlers.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Server returns the srv9p.Metrics of a service (ServiceExport,
// ServiceNamespace), the same for every call with that name: give it to
// each srv9p.Server of the service with srv9p.WithMetrics, and the
// servers to its Watch.
func (r *Registry) Server(service string) *Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.services[service]; s != nil {
		return s
	}
	s := &Server{r: r, service: service, read: r.read.WithLabelValues(service), written: r.written.WithLabelValues(service)}
	r.refusals.WithLabelValues(service, string(srv9p.LimitConns))
	r.services[service] = s
	return s
}

// Namespace returns the namespace.Metrics to build the process's
// namespace with (namespace.WithMetrics): it keeps mfs_peer_rtt_seconds.
func (r *Registry) Namespace() namespace.Metrics { return peerMetrics{r} }

// WatchNamespace makes every scrape report the links of ns (mfs_peer_up,
// mfs_peer_alive).
func (r *Registry) WatchNamespace(ns *namespace.Namespace) {
	r.mu.Lock()
	r.ns = ns
	r.mu.Unlock()
}

// MembershipEvents returns the function that counts member changes, for
// membership.Config.OnEvent; from then on every event's series is shown,
// at 0 until it happens.
func (r *Registry) MembershipEvents() func(membership.Event, int) {
	for _, e := range []membership.Event{membership.EventJoin, membership.EventUpdate, membership.EventFail, membership.EventLeave, membership.EventReap} {
		r.events.WithLabelValues(string(e))
	}
	return func(e membership.Event, _ int) { r.events.WithLabelValues(string(e)).Inc() }
}

// Server is the srv9p.Metrics of one service; it also reads the
// connections and fids of the servers it watches at every scrape.
type Server struct {
	r       *Registry
	service string
	read    prometheus.Counter
	written prometheus.Counter
	// ops holds each (message type, dialect)'s counters, made on first
	// use: a request then costs an atomic load and no map lookup.
	ops [256][4]atomic.Pointer[opMetrics]

	mu      sync.Mutex
	servers []*srv9p.Server
}

var _ srv9p.Metrics = (*Server)(nil)

// opMetrics are the series of one message type in one dialect.
type opMetrics struct {
	requests, errors prometheus.Counter
	latency          prometheus.Observer
}

// opNames are the op label of each message type: its T-message name, or
// "other" for a type that is no request of any dialect.
var opNames = func() (names [256]string) {
	for typ := range names {
		names[typ] = "other"
		if n := fcall.Name(uint8(typ)); typ%2 == 0 && n[0] == 'T' {
			names[typ] = n
		}
	}
	return names
}()

// Watch makes every scrape report the connections and fids of s.
func (m *Server) Watch(s *srv9p.Server) {
	m.mu.Lock()
	m.servers = append(m.servers, s)
	m.mu.Unlock()
}

// Request implements srv9p.Metrics.
func (m *Server) Request(typ uint8, d fcall.Dialect, failed bool, took time.Duration) {
	if int(d) >= len(m.ops[0]) {
		d = fcall.Unknown
	}
	o := m.ops[typ][d].Load()
	if o == nil {
		o = m.op(typ, d)
	}
	o.requests.Inc()
	if failed {
		o.errors.Inc()
	}
	o.latency.Observe(took.Seconds())
}

// op makes the series of typ in d on their first use.
func (m *Server) op(typ uint8, d fcall.Dialect) *opMetrics {
	name, dialect := opNames[typ], d.String()
	o := &opMetrics{
		requests: m.r.requests.WithLabelValues(m.service, name, dialect),
		errors:   m.r.errors.WithLabelValues(m.service, name, dialect),
		latency:  m.r.latency.WithLabelValues(m.service, name),
	}
	m.ops[typ][d].CompareAndSwap(nil, o)
	return m.ops[typ][d].Load()
}

// Transferred implements srv9p.Metrics.
func (m *Server) Transferred(write bool, n int) {
	if write {
		m.written.Add(float64(n))
	} else {
		m.read.Add(float64(n))
	}
}

// Refused implements srv9p.Metrics.
func (m *Server) Refused(l srv9p.Limit) {
	m.r.refusals.WithLabelValues(m.service, string(l)).Inc()
}

// usage sums the usage of the watched servers.
func (m *Server) usage() srv9p.Usage {
	m.mu.Lock()
	servers := append([]*srv9p.Server(nil), m.servers...)
	m.mu.Unlock()
	sum := srv9p.Usage{Fids: make(map[p9.UID]int)}
	for _, s := range servers {
		u := s.Usage()
		sum.Conns += u.Conns
		for uid, n := range u.Fids {
			sum.Fids[uid] += n
		}
	}
	return sum
}

// peerMetrics is the namespace.Metrics of a Registry.
type peerMetrics struct{ r *Registry }

// PeerRTT implements namespace.Metrics.
func (p peerMetrics) PeerRTT(node int, d time.Duration) {
	r := p.r
	r.rttMu.RLock()
	o := r.rtt[node]
	r.rttMu.RUnlock()
	if o == nil {
		r.rttMu.Lock()
		if o = r.rtt[node]; o == nil {
			o = r.peerRTT.WithLabelValues(strconv.Itoa(node))
			r.rtt[node] = o
		}
		r.rttMu.Unlock()
	}
	o.Observe(d.Seconds())
}

// scrapeTime is the collector of the figures read at each scrape:
// connections, fids by uid, peer links.
type scrapeTime struct{ r *Registry }

// Describe implements prometheus.Collector.
func (c scrapeTime) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.r.connsDesc
	ch <- c.r.fidsDesc
	ch <- c.r.upDesc
	ch <- c.r.aliveDesc
}

// Collect implements prometheus.Collector.
func (c scrapeTime) Collect(ch chan<- prometheus.Metric) {
	r := c.r
	r.mu.Lock()
	services := make([]*Server, 0, len(r.services))
	for _, s := range r.services {
		services = append(services, s)
	}
	ns := r.ns
	r.mu.Unlock()
	for _, s := range services {
		u := s.usage()
		ch <- prometheus.MustNewConstMetric(r.connsDesc, prometheus.GaugeValue, float64(u.Conns), s.service)
		for _, f := range topUIDs(u.Fids, MaxUIDSeries) {
			ch <- prometheus.MustNewConstMetric(r.fidsDesc, prometheus.GaugeValue, float64(f.n), s.service, f.uid)
		}
	}
	if ns == nil {
		return
	}
	for _, l := range ns.Links() {
		node := strconv.Itoa(l.ID)
		ch <- prometheus.MustNewConstMetric(r.upDesc, prometheus.GaugeValue, b2f(l.Up), node)
		ch <- prometheus.MustNewConstMetric(r.aliveDesc, prometheus.GaugeValue, b2f(l.State == membership.Alive), node)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// uidFids is one series of mfs_fids.
type uidFids struct {
	uid string
	n   int
}

// topUIDs returns the fids of the max uids with most of them (ties by
// uid), and the rest summed as "other".
func topUIDs(fids map[p9.UID]int, max int) []uidFids {
	type pair struct {
		uid p9.UID
		n   int
	}
	all := make([]pair, 0, len(fids))
	for u, n := range fids {
		all = append(all, pair{u, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].uid < all[j].uid
	})
	var out []uidFids
	other := 0
	for i, p := range all {
		if i >= max {
			other += p.n
			continue
		}
		uid := "none"
		if p.uid.Ok() {
			uid = strconv.FormatUint(uint64(p.uid), 10)
		}
		out = append(out, uidFids{uid, p.n})
	}
	if other > 0 {
		out = append(out, uidFids{"other", other})
	}
	return out
}

// CheckAddr checks an address for the metrics endpoint: unix:/path, or a
// TCP address on loopback. Any other TCP address is refused: the endpoint
// has neither TLS nor authentication, and its figures tell who uses the
// node and how; scrape from another machine through something that adds
// both (an SSH tunnel, a TLS proxy on this host).
func CheckAddr(addr string) error {
	network, address, err := dial.ParseAddr(addr)
	if err != nil {
		return err
	}
	if network != "tcp" {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%q: want unix:/path or host:port", addr)
	}
	if !loopback(host) {
		return fmt.Errorf("%s is not on loopback: the metrics endpoint has no TLS or authentication; listen on unix:/path or 127.0.0.1:PORT, and scrape from other machines through an SSH tunnel or a TLS proxy", addr)
	}
	return nil
}

// Listen binds addr (see CheckAddr) for the metrics endpoint; a unix
// socket's directory is made if missing, and the socket mode 0660: its
// owner and group may scrape.
func Listen(addr string) (net.Listener, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	network, address, _ := dial.ParseAddr(addr)
	if network == "unix" {
		if err := os.MkdirAll(filepath.Dir(address), 0o755); err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
	}
	ln, err := dial.Listen(addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		if err := os.Chmod(address, 0o660); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}

// loopback reports whether host names a loopback address only (not an
// empty host, 0.0.0.0 or ::, which are every interface).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve answers GET /metrics on ln with the registry's figures in
// Prometheus's text format until ctx is done; then it closes ln and
// returns nil. Other paths are 404.
func (r *Registry) Serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		ErrorLog: slogPrinter{log}, ErrorHandling: promhttp.ContinueOnError, Timeout: 10 * time.Second,
	}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	})
	defer stop()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// slogPrinter is promhttp's error log on a slog.Logger.
type slogPrinter struct{ log *slog.Logger }

// Println implements promhttp.Logger.
func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics: " + fmt.Sprint(v...)) }
