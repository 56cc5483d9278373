package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// exportCommand is scaffolding until its issue lands.
func exportCommand() *cli.Command {
	return &cli.Command{
		Name:   "export",
		Hidden: true,
		Action: func(*cli.Context) error { return errors.New("export: not built yet") },
	}
}
