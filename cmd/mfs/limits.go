package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
	def := srv9p.DefaultLimits()
	return []cli.Flag{
		&cli.IntFlag{Name: "max-fids", Value: def.MaxFids, EnvVars: envs("MFS_MAX_FIDS"), Usage: "fids of one connection (root's and cluster members' connections excepted); past it a walk or attach is refused EMFILE"},
		&cli.IntFlag{Name: "max-fids-per-user", Value: def.MaxFidsPerUser, EnvVars: envs("MFS_MAX_FIDS_PER_USER"), Usage: "fids of one uid across all connections (root excepted)"},
		&cli.IntFlag{Name: "max-conns-per-user", Value: def.MaxConnsPerUser, EnvVars: envs("MFS_MAX_CONNS_PER_USER"), Usage: "connections of one uid (root's and cluster members' excepted; they are always admitted within --max-conns)"},
		&cli.StringFlag{Name: "max-buffer", Value: "256M", EnvVars: envs("MFS_MAX_BUFFER"), Usage: "memory for request and reply frames, for the whole server (K, M, G suffixes); a client that reads no replies stops being read"},
		&cli.IntFlag{Name: "max-conns", Value: srv9p.DefaultConns(), EnvVars: envs("MFS_MAX_CONNS"), Usage: "connections served at once per listener; more are closed (and logged)"},
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
	lc := srv9p.LimitConfig{MaxFids: c.Int("max-fids"), MaxFidsPerUser: c.Int("max-fids-per-user"), MaxConnsPerUser: c.Int("max-conns-per-user")}
	switch {
	case lc.MaxFids < 1:
		return nil, fmt.Errorf("--max-fids %d: must be at least 1", lc.MaxFids)
	case lc.MaxFidsPerUser < 1:
		return nil, fmt.Errorf("--max-fids-per-user %d: must be at least 1", lc.MaxFidsPerUser)
	case lc.MaxConnsPerUser < 1:
		return nil, fmt.Errorf("--max-conns-per-user %d: must be at least 1", lc.MaxConnsPerUser)
	}
	buf, err := parseSize(c.String("max-buffer"))
	if err != nil || buf < srv9p.MinMaxBuffer {
		return nil, fmt.Errorf("--max-buffer %q: want a size of at least 16M (as 256M or 1G)", c.String("max-buffer"))
	}
	lc.MaxBuffer = buf
	// One Limits for every listener of the command: a user is counted
	// once across them.
	lim := srv9p.NewLimits(lc)
	return []srv9p.ServerOption{srv9p.MaxConns(conns), srv9p.MaxInflight(inflight), srv9p.IdleTimeout(idle), srv9p.UserLimits(lim)}, nil
}

// parseSize reads a byte count with an optional K, M or G suffix (powers
// of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q", s)
	}
	return n * mult, nil
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
