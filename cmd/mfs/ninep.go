package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// ninepCommand is scaffolding until its issue lands.
func ninepCommand() *cli.Command {
	return &cli.Command{
		Name:   "9p",
		Hidden: true,
		Action: func(*cli.Context) error { return errors.New("ninep: not built yet") },
	}
}
