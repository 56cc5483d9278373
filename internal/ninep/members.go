package ninep

import "github.com/urfave/cli/v2"

// MembersCommand is `mfs members`, short for `mfs 9p nodes`: the cluster's
// nodes as the namespace of one node sees them. Its errors are as Command's.
func MembersCommand() *cli.Command {
	v := nodesVerb()
	cmd := v.command("members", dialSession)
	cmd.Name = "members"
	cmd.Usage = "list the cluster's nodes (short for mfs 9p nodes)"
	cmd.UsageText = "mfs members [--addr ADDR] [--aname SPEC] [--msize N] [--timeout D] [--dialect D]"
	cmd.Description = `Reads the nodes file of a node's namespace and prints it as an aligned
table: node number, address, state, markers (here, home, …). The same as
"mfs 9p nodes", with the same connection flags and $MFS_ADDR. A plain
"mfs export" has no node table: members says so.

Examples:
   mfs members
   mfs members --addr 10.0.0.5:564
   MFS_ADDR=unix:/run/mfs/mfs.sock mfs members`
	cmd.Flags = connFlags()
	return cmd
}
