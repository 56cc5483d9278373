package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"mfs/internal/clustertls"
	"mfs/internal/dial"
	"mfs/namespace"
	"mfs/srv9p"
)

// ErrNeedsKey refuses TLS (Config.TLS) without a gossip key (Config.Key).
var ErrNeedsKey = errors.New("--tls-dir needs --encrypt (or MFS_ENCRYPT) or --key-file too: TLS guards the exports, the key guards gossip, and a cluster is never half-protected (make a key with: openssl rand -base64 32)")

// checkTrust refuses a node that would serve the network without TLS,
// unless --insecure says so, and TLS without a gossip key.
func (cfg *Config) checkTrust() error {
	if cfg.TLS != nil {
		if cfg.Key == nil && cfg.KeyFile == "" {
			return ErrNeedsKey
		}
		return nil
	}
	if cfg.Insecure {
		return nil
	}
	for _, a := range []struct{ flag, addr string }{{"--export-listen", cfg.ExportListen}, {"--gossip", cfg.Gossip}, {"--advertise", cfg.Advertise}} {
		if a.addr != "" && !onLoopback(a.addr) {
			return fmt.Errorf("%s %s is reachable from the network, and without TLS anyone who reaches this node could use its files: give --tls-dir DIR (certificates made with mfs tls), or --insecure to run without TLS anyway", a.flag, a.addr)
		}
	}
	return nil
}

// onLoopback reports whether an mfs address (host:port or unix:/path) is
// reachable from this machine only: a unix socket, localhost or a
// loopback IP. An empty host, 0.0.0.0 or :: is every interface; a host
// name other than localhost is not trusted to be loopback.
func onLoopback(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secureExport wraps the export's listener in TLS when the node has
// certificates (clustertls.Node.NewListener): srv9p then serves *tls.Conn
// values, whose handshake (on the first read, before any 9P message)
// refuses every client but a cluster member. Otherwise, with --insecure,
// it warns.
func (cfg *Config) secureExport(ln net.Listener, log *slog.Logger) net.Listener {
	if cfg.TLS == nil {
		if cfg.Insecure {
			log.Warn("insecure: no TLS between nodes; anyone who reaches the export or gossip address can use this node's files",
				slog.String("export", cfg.ExportListen), slog.String("gossip", cfg.Gossip))
		}
		return ln
	}
	log.Info("tls: export serves cluster members only", slog.Time("certificate_expires", cfg.TLS.NotAfter()))
	return cfg.TLS.NewListener(ln)
}

// exportIdentity returns the export server's option that knows a TLS
// peer by the node its verified certificate names: a cluster member,
// whose uid claims the export believes (as NFS believes a client host's
// AUTH_SYS). Without certificates it admits privileged ports only.
func (cfg *Config) exportIdentity() []srv9p.ServerOption {
	if cfg.TLS == nil {
		// Without certificates only root on a node can be a peer: a
		// connection from a privileged port (peers run as root bind
		// one) or a local unix socket; any other is closed before its
		// first message.
		return []srv9p.ServerOption{srv9p.Identifier(func(nc net.Conn) (srv9p.Peer, error) {
			p, err := srv9p.Identify(nc)
			if err != nil {
				return p, err
			}
			if p.Proof != srv9p.ProofPrivPort && p.Proof != srv9p.ProofUnix {
				return p, fmt.Errorf("%s: not from a privileged port; without --tls-dir only root on a node may reach its export", nc.RemoteAddr())
			}
			return p, nil
		})}
	}
	return []srv9p.ServerOption{srv9p.Identifier(func(nc net.Conn) (srv9p.Peer, error) {
		tc, ok := nc.(*tls.Conn)
		if !ok {
			return srv9p.Peer{}, errors.New("not a TLS connection")
		}
		if err := tc.Handshake(); err != nil {
			return srv9p.Peer{}, err
		}
		id, err := clustertls.PeerNode(tc.ConnectionState())
		if err != nil {
			return srv9p.Peer{}, err
		}
		return srv9p.Peer{Proof: srv9p.ProofMember, Node: id}, nil
	})}
}

// peerDialer returns the namespace option that dials peers' exports over
// TLS, checking that each peer's certificate names the node id gossip
// advertised for it (the namespace handshakes and logs a refusal with
// both ids) and that the revocation list does not revoke it; none
// without certificates.
func (cfg *Config) peerDialer() []namespace.Option {
	if cfg.TLS == nil {
		return nil
	}
	tn := cfg.TLS
	return []namespace.Option{namespace.WithDialer(func(ctx context.Context, n namespace.Node) (net.Conn, error) {
		network, address, err := dial.ParseAddr(n.Addr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return tn.Client(nc, n.ID), nil
	})}
}

// watchTLS runs clustertls.Node.Watch until ctx is done when the node has
// certificates: expiry warnings, the revocation list read again.
func (n *Node) watchTLS(ctx context.Context) {
	if n.cfg.TLS == nil {
		return
	}
	n.cfg.TLS.SetLogger(n.log)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.cfg.TLS.Watch(ctx, n.log)
	}()
}
