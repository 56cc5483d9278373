package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"mfs/internal/node"
	"mfs/srv9p"
)

// limitFlags are the 9P server limits every serving command takes; they
// apply to each of its listeners.
func limitFlags(env bool) []cli.Flag {
	envs := func(name string) []string {
		if env {
			return []string{name}
		}
		return nil
	}
	return []cli.Flag{
		&cli.IntFlag{Name: "max-conns", Value: srv9p.DefaultMaxConns, EnvVars: envs("MFS_MAX_CONNS"), Usage: "connections served at once per listener; more are closed (and logged)"},
		&cli.IntFlag{Name: "max-inflight", Value: srv9p.DefaultMaxInflight, EnvVars: envs("MFS_MAX_INFLIGHT"), Usage: "requests of one connection handled at once (memory is about this many times the msize)"},
		&cli.DurationFlag{Name: "idle-timeout", Value: srv9p.DefaultIdleTimeout, EnvVars: envs("MFS_IDLE_TIMEOUT"), Usage: "close a connection that has held no fid for this long"},
	}
}

// serverLimits reads limitFlags.
func serverLimits(c *cli.Context) ([]srv9p.ServerOption, error) {
	conns, inflight, idle := c.Int("max-conns"), c.Int("max-inflight"), c.Duration("idle-timeout")
	switch {
	case conns < 1:
		return nil, fmt.Errorf("--max-conns %d: must be at least 1", conns)
	case inflight < 1:
		return nil, fmt.Errorf("--max-inflight %d: must be at least 1", inflight)
	case idle < 100*time.Millisecond:
		return nil, fmt.Errorf("--idle-timeout %v: must be at least 100ms", idle)
	}
	return []srv9p.ServerOption{srv9p.MaxConns(conns), srv9p.MaxInflight(inflight), srv9p.IdleTimeout(idle)}, nil
}

// accessFlags say whose claims each listener of the command believes
// (srv9p's identity rules); they apply to every listener of the command.
func accessFlags(env bool) []cli.Flag {
	envs := func(name string) []string {
		if env {
			return []string{name}
		}
		return nil
	}
	return []cli.Flag{
		&cli.StringFlag{Name: "tcp-trust", Value: "privport", EnvVars: envs("MFS_TCP_TRUST"), Usage: "whose uid claims a TCP listener believes: privport (connections from ports below 1024, which only root binds) or all (for a port only a VM or another trusted program can reach)"},
		&cli.StringFlag{Name: "squash", Value: "none", EnvVars: envs("MFS_SQUASH"), Usage: "map users to the anonymous user: none, root (root only) or all (everyone), as NFS exports"},
		&cli.UintFlag{Name: "anon-uid", Value: srv9p.DefaultAnonUID, EnvVars: envs("MFS_ANON_UID"), Usage: "the anonymous user: connections that prove nothing, and squashed users"},
		&cli.UintFlag{Name: "anon-gid", Value: srv9p.DefaultAnonGID, EnvVars: envs("MFS_ANON_GID"), Usage: "the anonymous user's group"},
	}
}

// accessOf reads accessFlags.
func accessOf(c *cli.Context) (node.Access, error) {
	var a node.Access
	switch t := c.String("tcp-trust"); t {
	case "privport":
	case "all":
		a.TrustAll = true
	default:
		return a, fmt.Errorf("--tcp-trust %q: want privport or all", t)
	}
	sq, err := srv9p.ParseSquash(c.String("squash"))
	if err != nil {
		return a, fmt.Errorf("--squash: %w", err)
	}
	a.Squash = sq
	for _, f := range []string{"anon-uid", "anon-gid"} {
		if c.Uint(f) > 1<<32-2 {
			return a, fmt.Errorf("--%s %d: out of range", f, c.Uint(f))
		}
	}
	a.AnonUID, a.AnonGID = uint32(c.Uint("anon-uid")), uint32(c.Uint("anon-gid"))
	return a, nil
}
