package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
	"mfs/internal/clustertls"
	"mfs/internal/dial"
	"mfs/internal/node"
	"mfs/membership"
	"mfs/namespace"
	"mfs/srv9p"
)

// nodeCommand runs one node of a cluster: its export, its namespace server
// and its gossip.
func nodeCommand() *cli.Command {
	return &cli.Command{
		Name:  "node",
		Usage: "run a cluster node: export this machine's files and serve the whole cluster's",
		Description: `A node exports --root (default /, without /proc, /sys and /dev) to its
peers on --export-listen, serves the union of every node's files on
--listen for local mounts and 'mfs 9p', and gossips with the other nodes
(serf) on --gossip. Give it a unique --id and the gossip address of any
member with --join; it retries until one answers.

Without --tls-dir the export and gossip stay on loopback (a cluster on
one machine): an address off loopback is refused unless --insecure says
so. Across machines give every node --tls-dir (certificates made with
'mfs tls'; the export then serves cluster members only) and --encrypt
or --key-file.

Gossip is always encrypted: only a holder of the cluster's key can join.
Without --encrypt the key is read from --key-file, by default
` + node.DefaultKeyFile + ` as root ($XDG_RUNTIME_DIR/mfs/gossip.key for
an ordinary user's own cluster), made with a fresh key on first start,
mode 0600. Copy that file to every other node (the nodes of one machine
share it already).

Every flag can also be set from the environment (MFS_ID, MFS_JOIN, …).

Examples:
  mfs node --id 1
  MFS_ENCRYPT=… mfs node --id 2 --join 10.0.0.1:7946 --tls-dir /etc/mfs/tls
  mfs node --id 3 --listen 127.0.0.1:564 --listen unix:/run/mfs/mfs.sock --read-only

(MFS_ENCRYPT, not --encrypt, keeps the gossip key out of ps; under
systemd put it in /etc/default/mfs: see mfs gen env.)`,
		OnUsageError: clierr.OnUsageError("node"),
		Flags: append([]cli.Flag{
			&cli.IntFlag{Name: "id", EnvVars: []string{"MFS_ID"}, Usage: "this node's number (1, 2, …), unique in the cluster (required)"},
			&cli.StringFlag{Name: "root", Value: "/", EnvVars: []string{"MFS_ROOT"}, Usage: "directory to export (/proc, /sys and /dev are left out of /)"},
			&cli.StringSliceFlag{Name: "listen", EnvVars: []string{"MFS_LISTEN"}, Usage: "serve the cluster namespace here (host:port or unix:/path; repeatable) (default: unix:/run/mfs/mfs.sock and 127.0.0.1:564 as root, unix:$XDG_RUNTIME_DIR/mfs.sock otherwise)"},
			&cli.StringFlag{Name: "export-listen", EnvVars: []string{"MFS_EXPORT_LISTEN"}, Usage: "serve this node's export to peers here (default: the --gossip host, port 5640)"},
			&cli.StringFlag{Name: "gossip", EnvVars: []string{"MFS_GOSSIP"}, Usage: "gossip (serf) address, UDP and TCP (default: " + defaultGossip + ", or " + defaultGossipTLS + " with --tls-dir)"},
			&cli.StringFlag{Name: "advertise", EnvVars: []string{"MFS_ADVERTISE"}, Usage: "gossip address told to peers (default: the --gossip one; for 0.0.0.0 or ::, this host's first non-loopback IPv4 address; behind NAT, say it)"},
			&cli.StringSliceFlag{Name: "join", EnvVars: []string{"MFS_JOIN"}, Usage: "gossip address of any member, ADDR[,ADDR]; retried with backoff until one answers"},
			&cli.DurationFlag{Name: "join-timeout", EnvVars: []string{"MFS_JOIN_TIMEOUT"}, Usage: "give up joining after this long (0: never)"},
			&cli.StringFlag{Name: "mount", EnvVars: []string{"MFS_MOUNT"}, Usage: "mount the cluster namespace at `DIR` with FUSE, context per process (see the README's Mounting)"},
			&cli.BoolFlag{Name: "read-only", EnvVars: []string{"MFS_READ_ONLY"}, Usage: "peers and local clients may not change this node's files"},
			&cli.StringFlag{Name: "encrypt", EnvVars: []string{"MFS_ENCRYPT"}, Usage: "gossip key, base64 of 16, 24 or 32 bytes (openssl rand -base64 32); same on every node (default: the --key-file's)"},
			&cli.StringFlag{Name: "key-file", EnvVars: []string{"MFS_KEY_FILE"}, Usage: "read the gossip key from `PATH` (mode 0600), made with a fresh key if missing; every node of the cluster needs a copy (default: " + node.DefaultKeyFile + " as root, $XDG_RUNTIME_DIR/mfs/gossip.key otherwise; none with --tls-dir)"},
			&cli.StringFlag{Name: "export-squash", Value: "none", EnvVars: []string{"MFS_EXPORT_SQUASH"}, Usage: "map the users other nodes act for to the anonymous user: none, root or all (--squash is for the namespace listeners)"},
			&cli.StringFlag{Name: "tls-dir", EnvVars: []string{"MFS_TLS_DIR"}, Usage: "mutual TLS between nodes, with DIR/ca.pem and this node's DIR/node-ID.pem and DIR/node-ID-key.pem (made by mfs tls); needs --encrypt or --key-file too"},
			&cli.BoolFlag{Name: "insecure", EnvVars: []string{"MFS_INSECURE"}, Usage: "allow a --gossip or --export-listen address off loopback without --tls-dir: then anyone who reaches the export can use this node's files"},
			&cli.StringFlag{Name: "profile", Value: "lan", EnvVars: []string{"MFS_PROFILE"}, Usage: "gossip timings: lan, or fast (one machine: tests, demos)"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, EnvVars: []string{"MFS_TIMEOUT"}, Usage: "bound on each operation sent to a peer"},
			&cli.UintFlag{Name: "msize", Value: namespace.DefaultMSize, EnvVars: []string{"MFS_MSIZE"}, Usage: "9P message size asked of peers (keep it above the msize clients mount with, so one request is one peer round trip)"},
			&cli.StringFlag{Name: "metrics-listen", EnvVars: []string{"MFS_METRICS_LISTEN"}, Usage: "serve Prometheus metrics at /metrics on `ADDR`: unix:/path or a loopback host:port (default: none)"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"MFS_LOG_FORMAT"}, Usage: "text or json"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"MFS_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
		}, append(limitFlags(true), accessFlags(true)...)...),
		Action: func(c *cli.Context) error {
			cfg, joinTimeout, err := nodeFlags(c)
			if err != nil {
				return clierr.In("node", clierr.Usagef("%v", err))
			}
			return clierr.In("node", runNode(cfg, joinTimeout))
		},
	}
}

// nodeFlags builds a node's configuration from the command line; its
// errors are usage errors.
func nodeFlags(c *cli.Context) (cfg node.Config, joinTimeout time.Duration, err error) {
	if c.Args().Present() {
		return cfg, 0, fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	if !c.IsSet("id") {
		return cfg, 0, errors.New("--id is required: this node's number (1, 2, …)")
	}
	log, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
	if err != nil {
		return cfg, 0, err
	}
	cfg = node.Config{
		ID:           c.Int("id"),
		Root:         c.String("root"),
		Listen:       splitList(c.StringSlice("listen")),
		ExportListen: c.String("export-listen"),
		Gossip:       c.String("gossip"),
		Advertise:    c.String("advertise"),
		Join:         splitList(c.StringSlice("join")),
		ReadOnly:     c.Bool("read-only"),
		Timeout:      c.Duration("timeout"),
		MSize:        uint32(c.Uint("msize")),
		Mount:        c.String("mount"),
		Log:          log,
	}
	cfg.MetricsListen = c.String("metrics-listen")
	if len(cfg.Listen) == 0 {
		cfg.Listen = defaultListen()
	}
	if cfg.Limits, err = serverLimits(c); err != nil {
		return cfg, 0, err
	}
	if cfg.Access, err = accessOf(c); err != nil {
		return cfg, 0, err
	}
	if cfg.ExportSquash, err = srv9p.ParseSquash(c.String("export-squash")); err != nil {
		return cfg, 0, fmt.Errorf("--export-squash: %w", err)
	}
	if !c.IsSet("tcp-trust") && cfg.Access.Squash != srv9p.SquashAll {
		for _, l := range cfg.Listen {
			if nonLoopbackTCP(l) {
				return cfg, 0, fmt.Errorf("--listen %s is reachable from the network: say whose claims it believes with --tcp-trust (privport or all), or serve everyone as the anonymous user with --squash all", l)
			}
		}
	}
	if cfg.Timings, err = membership.ParseProfile(c.String("profile")); err != nil {
		return cfg, 0, err
	}
	if err := nodeKey(c, &cfg); err != nil {
		return cfg, 0, err
	}
	if err := nodeTrust(c, &cfg); err != nil {
		return cfg, 0, err
	}
	if err := cfg.Check(); err != nil {
		return cfg, 0, err
	}
	return cfg, c.Duration("join-timeout"), nil
}

// nonLoopbackTCP reports whether addr is a TCP address not on loopback
// (an empty host, 0.0.0.0 or ::, is every interface).
func nonLoopbackTCP(addr string) bool {
	network, address, err := dial.ParseAddr(addr)
	if err != nil || network != "tcp" {
		return false
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// runNode starts the node and serves until SIGINT or SIGTERM (then it
// leaves the cluster gracefully) or until something fails.
func runNode(cfg node.Config, joinTimeout time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(cfg)
	if err != nil {
		return err
	}
	joinCtx := ctx
	if joinTimeout > 0 {
		var cancel context.CancelFunc
		joinCtx, cancel = context.WithTimeout(ctx, joinTimeout)
		defer cancel()
	}
	if err := sdNotify("STATUS=joining the cluster"); err != nil {
		cfg.Log.Warn("sd_notify", slog.Any("err", err))
	}
	if err := n.Join(joinCtx); err != nil {
		n.Stop(false)
		if ctx.Err() != nil {
			return nil // interrupted while joining
		}
		return err
	}
	cfg.Log.Info("ready", slog.Int("id", cfg.ID))
	if err := sdNotify("READY=1\nSTATUS=serving"); err != nil {
		cfg.Log.Warn("sd_notify READY=1", slog.Any("err", err))
	}
	err = n.Wait(ctx)
	cfg.Log.Info("stopping", slog.Bool("leave", err == nil))
	if err := sdNotify("STOPPING=1"); err != nil {
		cfg.Log.Debug("sd_notify STOPPING=1", slog.Any("err", err))
	}
	n.Stop(err == nil)
	return err
}

// newLogger builds the process logger on w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	if w == nil {
		w = os.Stderr
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// splitList splits comma-separated elements of a list flag (an environment
// variable gives one element "a,b").
func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Gossip addresses `mfs node` binds when --gossip is not given: loopback
// without TLS (a cluster on one machine), every interface with it.
const (
	defaultGossip    = "127.0.0.1:7946"
	defaultGossipTLS = "0.0.0.0:7946"
)

// nodeTrust reads --tls-dir and --insecure into cfg, with the --gossip
// default that depends on them, and loads the node's certificates. Its
// errors are usage errors.
func nodeTrust(c *cli.Context, cfg *node.Config) error {
	dir := c.String("tls-dir")
	cfg.Insecure = c.Bool("insecure")
	if cfg.Gossip == "" {
		cfg.Gossip = defaultGossip
		if dir != "" {
			cfg.Gossip = defaultGossipTLS
		}
	}
	if dir == "" {
		return nil
	}
	if c.String("encrypt") == "" && c.String("key-file") == "" {
		return node.ErrNeedsKey
	}
	if cfg.ID < 1 || cfg.ID > namespace.MaxNodeID {
		return nil // Check says so
	}
	n, err := clustertls.Load(dir, cfg.ID)
	if err != nil {
		return fmt.Errorf("--tls-dir: %w", err)
	}
	cfg.TLS = n
	return nil
}

// nodeKey reads --encrypt or --key-file into cfg: gossip is always
// encrypted. Without either a node uses its user's default key file
// (node.KeyFileFor), except with --tls-dir, which asks for one of them
// (nodeTrust says so). Its errors are usage errors.
func nodeKey(c *cli.Context, cfg *node.Config) error {
	k, file := c.String("encrypt"), c.String("key-file")
	switch {
	case k != "" && file != "":
		return errors.New("--encrypt and --key-file both give the gossip key: give one")
	case k != "":
		key, err := membership.ParseKey(k)
		if err != nil {
			return err
		}
		cfg.Key = key
		return nil
	case file != "":
		cfg.KeyFile = file
		return nil
	case c.String("tls-dir") != "":
		return nil // nodeTrust asks for a key
	}
	file, err := node.KeyFileFor(os.Geteuid(), os.Getenv("XDG_RUNTIME_DIR"))
	if err != nil {
		return err
	}
	cfg.KeyFile = file
	return nil
}
