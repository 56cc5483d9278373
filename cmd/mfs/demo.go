package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// demoCommand is scaffolding until its issue lands.
func demoCommand() *cli.Command {
	return &cli.Command{
		Name:   "demo",
		Hidden: true,
		Action: func(*cli.Context) error { return errors.New("demo: not built yet") },
	}
}
