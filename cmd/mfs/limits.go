package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

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
