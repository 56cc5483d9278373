package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
	"mfs/internal/dial"
	"mfs/internal/metrics"
	"mfs/srv9p"
	"mfs/srv9p/export"
)

// exportCommand serves one local directory over 9P (9P2000.L, .u, 9P2000), without a
// cluster: the building block every node runs.
func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "serve one local directory over 9P (9P2000.L, 9P2000.u, 9P2000)",
		Description: `Export --root on --listen (host:port or unix:/path) until SIGINT or
SIGTERM. Nothing outside the root is reachable: symlinks are never
followed by the server. Exporting / leaves out /proc, /sys and /dev.

Examples:
  mfs export --root /srv/data --listen 127.0.0.1:5640
  mfs export --root / --listen unix:/run/mfs-export.sock --read-only --exclude /home/secret`,
		OnUsageError: clierr.OnUsageError("export"),
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "root", Usage: "directory to export (required)"},
			&cli.StringFlag{Name: "listen", Usage: "address to serve on: host:port or unix:/path (required)"},
			&cli.BoolFlag{Name: "read-only", Usage: "refuse every change (EROFS)"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "leave this path (relative to the root) out of the export; repeatable"},
			&cli.StringFlag{Name: "metrics-listen", Usage: "serve Prometheus metrics at /metrics on `ADDR`: unix:/path or a loopback host:port (default: none)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		}, append(limitFlags(false), accessFlags(false)...)...),
		Action: func(c *cli.Context) error {
			return clierr.In("export", runExport(c))
		},
	}
}

// runExport checks the flags, opens the export and the listener, and serves
// until a signal arrives.
func runExport(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	root, addr := c.String("root"), c.String("listen")
	if root == "" {
		return errors.New("--root is required: the directory to export")
	}
	if addr == "" {
		return errors.New("--listen is required: host:port or unix:/path")
	}
	metricsAddr := c.String("metrics-listen")
	if metricsAddr != "" {
		if err := metrics.CheckAddr(metricsAddr); err != nil {
			return fmt.Errorf("--metrics-listen %w", err)
		}
	}
	log, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
	if err != nil {
		return err
	}
	limits, err := serverLimits(c)
	if err != nil {
		return err
	}
	acc, err := accessOf(c)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(root); err != nil {
		return fmt.Errorf("root %s: %w", root, unwrapPath(err))
	} else if !fi.IsDir() {
		return fmt.Errorf("root %s: not a directory", root)
	}
	opts := []export.Option{export.WithLogger(log)}
	if c.Bool("read-only") {
		opts = append(opts, export.ReadOnly())
	}
	excl := append(export.DefaultExcludes(root), c.StringSlice("exclude")...)
	if len(excl) > 0 {
		opts = append(opts, export.Exclude(excl...))
	}
	a, err := export.New(root, opts...)
	if err != nil {
		return err
	}
	ln, err := dial.Listen(addr)
	if err != nil {
		return listenError(addr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var sm *metrics.Server
	if metricsAddr != "" {
		mln, err := metrics.Listen(metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-listen: %w", listenError(metricsAddr, err))
		}
		reg := metrics.New()
		sm = reg.Server(metrics.ServiceExport)
		limits = append(limits, srv9p.WithMetrics(sm))
		log.Info("listening", slog.String("service", "metrics"), slog.String("addr", metricsAddr))
		go func() {
			if err := reg.Serve(ctx, mln, log); err != nil {
				log.Error("metrics: serving failed", slog.String("error", err.Error()))
			}
		}()
	}
	log.Info("exporting", slog.String("root", root), slog.String("listen", addr),
		slog.Bool("read-only", c.Bool("read-only")), slog.Any("exclude", excl))
	if acc.TrustAll {
		log.Warn("--tcp-trust all: every uid a TCP client claims is believed")
	}
	srv := srv9p.NewServer(a, append(append(limits, acc.Options(ln)...), srv9p.ServerLogger(log))...)
	if sm != nil {
		sm.Watch(srv)
	}
	err = srv.Serve(ctx, ln)
	log.Info("stopped")
	return err
}

// listenError makes a listen failure one short line: "listen ADDR: address
// already in use" rather than the net package's "listen tcp ADDR: bind: …".
func listenError(addr string, err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return fmt.Errorf("listen %s: %w", addr, se.Err)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return fmt.Errorf("listen %s: %w", addr, oe.Err)
	}
	if _, _, perr := dial.ParseAddr(addr); perr != nil {
		return perr
	}
	return err
}

// unwrapPath drops the path from an *os.PathError (the caller names it).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
