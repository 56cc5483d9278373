package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// nodeCommand is scaffolding until its issue lands.
func nodeCommand() *cli.Command {
	return &cli.Command{
		Name:   "node",
		Hidden: true,
		Action: func(*cli.Context) error { return errors.New("node: not built yet") },
	}
}
