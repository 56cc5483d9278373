package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// membersCommand is scaffolding until its issue lands.
func membersCommand() *cli.Command {
	return &cli.Command{
		Name:   "members",
		Hidden: true,
		Action: func(*cli.Context) error { return errors.New("members: not built yet") },
	}
}
