package gen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
)

// manPage is mfs(1): prose written here, COMMANDS, OPTIONS and
// ENVIRONMENT made from the command tree (manCommands, manOptions,
// manEnvironment), so that no flag is missing and none is described twice.
// Text is roff already; the generated parts are escaped by roff().
const manPage = `.TH MFS 1 "" "mfs {{.Version}}" "User Commands"
.SH NAME
mfs \- one file system for the whole cluster, over 9P
.SH SYNOPSIS
.B mfs node
.B \-\-id
.I N
.RI [ options ]
.br
.B mfs export
.B \-\-root
.I DIR
.B \-\-listen
.I ADDR
.RI [ options ]
.br
.B mfs 9p
.RI [ connection-options ]
.I verb
.RI [ args ...]
.br
.B mfs members
.RI [ connection-options ]
.br
.B mfs demo
.RI [ options ]
.br
.B mfs run
.RI [ options ]
.B \-\-
.I command
.RI [ args ...]
.br
.B mfs tls
.BR ca | cert
.RI [ options ]
.br
.B mfs gen
.BR man | bash | systemd | env
.br
.B mfs version
.SH DESCRIPTION
Every node of a cluster runs
.BR "mfs node" .
Together the nodes make every file on every node look like one file
system, the way MOSIX MFS did.
.SS The namespace
A node serves, on its
.B \-\-listen
addresses (by default the unix socket
.IR /run/mfs/mfs.sock ),
a tree whose root holds:
.TP
.BR /1 ", " /2 ", \&... " /N
the whole root tree of node N (its
.BR \-\-root ,
by default / without /proc, /sys and /dev);
.TP
.B /here
the node serving this connection or mount;
.TP
.B /home
the caller's home node;
.TP
.B /selected
a node the caller picked (by writing
.RI \(lqselect " N" \(rq
to
.BR /ctl );
.TP
.B /nodes
the node table: one line per node with its state (alive, failed, left);
.TP
.B /ctl
this attach's context.
.PP
Files of the serving node are read and written straight from its disk;
files of node M go straight to node M, never relayed through a third
node. Nodes find each other with serf gossip: a node that joins appears
in every node's / within a second or so; one that dies is shown
.B failed
and its files fail with EHOSTDOWN (\(lqhost is down\(rq), never a hang;
one that leaves disappears.
.SS Contexts
.BR /home " and " /selected
are a context: per process on the node's own FUSE mount
.RB ( "mfs node \-\-mount /mfs" ),
as MOSIX had them; per attach over 9P, where the attach name says them
.RB ( home=N , " selected=N" ,
then a path, as in
.BR "mfs 9p \-\-aname selected=2 ls /" );
per process again on a kernel v9fs mount run through
.BR "mfs run" .
.SS Trust
Every file operation runs with the caller's credentials (fsuid, fsgid
and supplementary groups from the node's user and group databases), so
the kernel's permission checks apply and nobody reads through mfs what
they could not read locally. Who the caller is comes from what the
transport proves: on a unix socket the peer's uid; on TCP from a port
below 1024, root on the client host (whose claims are believed); on TCP
from any other port, nothing (the anonymous user,
.BR \-\-anon\-uid / \-\-anon\-gid );
between nodes with
.BR \-\-tls\-dir ,
a certificate of the cluster CA naming the node's id.
.B \-\-squash
maps root or everyone to the anonymous user, as NFS exports do.
Without
.B \-\-tls\-dir
a node keeps its export and gossip on loopback; across machines give
every node
.B \-\-tls\-dir
(certificates made by
.BR "mfs tls" )
and a gossip key
.RB ( MFS_ENCRYPT ).
.SH COMMANDS
{{.Commands}}
.SH OPTIONS
Each option is described once, under the first command that takes it;
the later commands that take it name it.
{{.Options}}
.SH ENVIRONMENT
Every option of
.BR "mfs node" ,
.BR "mfs export" ,
.B mfs demo
and the connection options of
.BR "mfs 9p" " and " "mfs members"
can come from the environment instead; a list (MFS_JOIN, MFS_LISTEN) is
comma-separated. An option given on the command line wins.
{{.Environment}}
.TP
.B NOTIFY_SOCKET
set by systemd for a Type=notify unit:
.B mfs node
sends READY=1 there once it serves and has joined, STOPPING=1 when it
stops.
.TP
.B XDG_RUNTIME_DIR
where the local socket of a node not run by root lives.
.TP
.BR GOGC ", " GOMEMLIMIT
the Go collector's settings; mfs sets 400 and 512 MiB unless they are set.
.SH FILES
.TP
.I /run/mfs/mfs.sock
the local node's namespace socket (root's node), where
.B mfs 9p
and
.B mfs members
connect without
.BR \-\-addr ;
.I $XDG_RUNTIME_DIR/mfs.sock
for a node run by another user.
.TP
.I /etc/default/mfs
the environment of
.B mfs node
under systemd
.RB ( "mfs gen env"
prints an example; keep it mode 600 if it holds MFS_ENCRYPT).
.TP
.I PREFIX/lib/systemd/system/mfs.service
the unit
.RB ( "mfs gen systemd" ,
installed by
.BR "mk install" ).
.TP
.IR /etc/mfs/tls/ca.pem ", " node\-N.pem ", " node\-N\-key.pem
the cluster CA and node N's certificate and key
.RB ( "mfs tls" ,
.BR \-\-tls\-dir ).
.SH EXIT STATUS
.TP
.B 0
success; for
.B mfs node
and
.BR "mfs export" ,
stopped by SIGINT or SIGTERM.
.TP
.B 1
the operation failed: one line on standard error, starting
.RI \(lqmfs " command" :\(rq
(for example
.RI \(lq "mfs 9p: ls /7: no such file or directory" \(rq).
.TP
.B 2
a mistake in the command line or the MFS_ variables; a systemd unit does
not restart a node that exits so.
.SH EXAMPLES
A cluster of two machines: once, a CA, a certificate per node and a
gossip key; then a node on each.
.PP
.nf
.RS
mfs tls ca \-\-dir /etc/mfs/tls
mfs tls cert \-\-dir /etc/mfs/tls \-\-id 1
mfs tls cert \-\-dir /etc/mfs/tls \-\-id 2
export MFS_ENCRYPT="$(openssl rand \-base64 32)"   # the same on every node
mfs node \-\-id 1 \-\-tls\-dir /etc/mfs/tls \-\-gossip 10.0.0.1:7946
mfs node \-\-id 2 \-\-tls\-dir /etc/mfs/tls \-\-gossip 10.0.0.2:7946 \-\-join 10.0.0.1:7946
.RE
.fi
.PP
As a service: the unit, its environment, then start it.
.PP
.nf
.RS
mfs gen systemd > /etc/systemd/system/mfs.service
mfs gen env > /etc/default/mfs; chmod 600 /etc/default/mfs
systemctl daemon\-reload && systemctl enable \-\-now mfs
.RE
.fi
.PP
A cluster of three nodes on this machine, to try:
.PP
.nf
.RS
mfs demo
.RE
.fi
.PP
Files from a shell:
.PP
.nf
.RS
echo hello | mfs 9p write /2/tmp/greeting
mfs 9p read /2/tmp/greeting
mfs 9p ls /7 || echo "exit status $?"
mfs 9p \-\-addr 10.0.0.7:564 read /2/tmp/greeting
mfs 9p cp \-r /1/etc/ssh /2/tmp/ssh
mfs members
.RE
.fi
.PP
The namespace mounted with FUSE, and with the kernel's v9fs:
.PP
.nf
.RS
mfs node \-\-id 1 \-\-mount /mfs
mount \-t 9p \-o trans=unix,version=9p2000.L,access=client /run/mfs/mfs.sock /mnt
.RE
.fi
.SH SEE ALSO
.BR mount (8),
.BR diod (8),
.BR 9p (1),
.BR systemd.exec (5),
.BR fusermount3 (1)
`

// Man writes mfs(1) (manPage) for app. Characters beyond ASCII (the
// help's "…", "≥") become groff's \[uXXXX] escapes, which every troff
// reads whatever its input encoding.
func Man(w io.Writer, app *cli.App) error {
	tmpl, err := template.New("mfs.1").Parse(manPage)
	if err != nil {
		return fmt.Errorf("man page: %w", err)
	}
	var b strings.Builder
	err = tmpl.Execute(&b, map[string]string{
		"Version":     app.Version,
		"Commands":    manCommands(app),
		"Options":     manOptions(app),
		"Environment": manEnvironment(app),
	})
	if err != nil {
		return fmt.Errorf("man page: %w", err)
	}
	var ascii strings.Builder
	for _, r := range b.String() {
		if r < utf8.RuneSelf {
			ascii.WriteRune(r)
		} else {
			fmt.Fprintf(&ascii, `\[u%04X]`, r)
		}
	}
	_, err = io.WriteString(w, ascii.String())
	return err
}

// manCommand is one command of the page: its path ("9p ls") and itself.
type manCommand struct {
	path string
	cmd  *cli.Command
}

// manCommandList lists the app's commands, each followed by its
// subcommands, leaving out hidden ones and urfave/cli's help.
func manCommandList(app *cli.App) []manCommand {
	var out []manCommand
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			out = append(out, manCommand{prefix + c.Name, c})
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", app.Commands)
	return out
}

// manCommands is the COMMANDS section's body: each command with its one
// line of usage and its description.
func manCommands(app *cli.App) string {
	var b strings.Builder
	for _, mc := range manCommandList(app) {
		head := "mfs " + mc.path
		if u := mc.cmd.UsageText; strings.HasPrefix(u, head+" ") && !strings.Contains(u, "\n") {
			head = u // a verb's synopsis: mfs 9p [connection flags] read PATH
		}
		b.WriteString(".TP\n.B " + roff(head))
		b.WriteString("\n" + roff(mc.cmd.Usage) + ".\n")
		if d := strings.TrimSpace(mc.cmd.Description); d != "" && !strings.Contains(mc.path, " ") {
			b.WriteString(roffParagraphs(d))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// roffParagraphs sets text (help prose: paragraphs apart by blank lines,
// indented lines as examples) as roff paragraphs inside a .TP item.
func roffParagraphs(text string) string {
	var b strings.Builder
	inExample := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			if inExample {
				b.WriteString(".fi\n")
				inExample = false
			}
			b.WriteString(".IP\n")
		case strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t"):
			if !inExample {
				b.WriteString(".IP\n.nf\n")
				inExample = true
			}
			b.WriteString(roff(strings.TrimSpace(line)) + "\n")
		default:
			if inExample {
				b.WriteString(".fi\n")
				inExample = false
			}
			b.WriteString(roff(line) + "\n")
		}
	}
	if inExample {
		b.WriteString(".fi\n")
	}
	return ".IP\n" + b.String()
}

// manFlag is one option as the page describes it: its names, value
// placeholder, usage, default and environment variable.
type manFlag struct {
	names       []string
	placeholder string
	usage       string
	def         string
	env         []string
}

// key identifies an option across commands: the same name, usage and
// default are the same option, described once (its short name and
// environment variable may differ: mfs 9p --addr is -a and $MFS_ADDR, a
// verb's --addr neither).
func (f manFlag) key() string { return f.names[0] + "\x00" + f.usage + "\x00" + f.def }

// flagOf describes f for the page.
func flagOf(f cli.Flag) manFlag {
	mf := manFlag{names: f.Names()}
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return mf
	}
	mf.placeholder, mf.usage = unquoteUsage(df.GetUsage())
	mf.env = df.GetEnvVars()
	if !df.TakesValue() {
		return mf
	}
	if mf.placeholder == "" {
		switch f.(type) {
		case *cli.IntFlag, *cli.UintFlag, *cli.Int64Flag, *cli.Uint64Flag, *cli.Float64Flag:
			mf.placeholder = "N"
		case *cli.DurationFlag:
			mf.placeholder = "DURATION"
		default:
			mf.placeholder = placeholders[mf.names[0]]
			if mf.placeholder == "" {
				parts := strings.Split(mf.names[0], "-")
				mf.placeholder = strings.ToUpper(parts[len(parts)-1])
			}
		}
	}
	def := df.GetDefaultText()
	if def == `""` || def == "[]" || def == "0" || def == "0s" && strings.Contains(mf.usage, "0:") {
		def = ""
	}
	if def != "" && !strings.Contains(mf.usage, "(default") {
		mf.def = strings.Trim(def, `"`)
	}
	return mf
}

// placeholders name the values of string options whose usage names none
// in backquotes; any other is its name's last word in capitals.
var placeholders = map[string]string{
	"listen": "ADDR", "export-listen": "ADDR", "gossip": "ADDR", "advertise": "ADDR",
	"join": "ADDR", "addr": "ADDR", "aname": "SPEC", "encrypt": "KEY",
	"squash": "MODE", "export-squash": "MODE", "tcp-trust": "WHO", "key": "TYPE",
	"user": "USER", "exclude": "PATH", "log-format": "FORMAT", "log-level": "LEVEL",
}

// item is the option's .TP entry.
func (f manFlag) item() string {
	var names []string
	for _, n := range f.names {
		if len(n) == 1 {
			names = append(names, `\fB\-`+roff(n)+`\fR`)
		} else {
			names = append(names, `\fB\-\-`+roff(n)+`\fR`)
		}
	}
	head := strings.Join(names, ", ")
	if f.placeholder != "" {
		head += ` \fI` + roff(f.placeholder) + `\fR`
	}
	body := roff(f.usage)
	if f.def != "" {
		body += " (default " + roff(f.def) + ")"
	}
	return ".TP\n" + head + "\n" + body + "\n"
}

// manOptions is the OPTIONS section's body: a subsection per command with
// options; an option another command already described is only named.
// The connection options, which mfs 9p, each of its verbs and mfs members
// share, are described once under mfs 9p.
func manOptions(app *cli.App) string {
	described := map[string]string{} // key → the command that describes it
	var b strings.Builder
	for _, mc := range manCommandList(app) {
		var fresh, seen []string
		var items strings.Builder
		for _, f := range mc.cmd.Flags {
			mf := flagOf(f)
			if slices.Contains(mf.names, "help") {
				continue
			}
			if by, ok := described[mf.key()]; ok {
				if !slices.Contains(seen, by) {
					seen = append(seen, by)
				}
				continue
			}
			described[mf.key()] = mc.path
			fresh = append(fresh, mf.names[0])
			items.WriteString(mf.item())
		}
		if len(fresh) == 0 {
			continue // only options described above: nothing to say
		}
		b.WriteString(".SS mfs " + roff(mc.path) + "\n")
		if len(seen) > 0 {
			var from []string
			for _, s := range seen {
				from = append(from, `\fBmfs `+roff(s)+`\fR`)
			}
			b.WriteString("The options of " + strings.Join(from, ", ") + " it shares (above)")
			if len(fresh) > 0 {
				b.WriteString(", and:")
			} else {
				b.WriteString(".")
			}
			b.WriteString("\n")
		}
		b.WriteString(items.String())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// manEnvironment is the ENVIRONMENT section's list: each MFS_ variable
// with the options it sets.
func manEnvironment(app *cli.App) string {
	byVar := map[string][]string{}
	var vars []string
	for _, mc := range manCommandList(app) {
		for _, f := range mc.cmd.Flags {
			df, ok := f.(cli.DocGenerationFlag)
			if !ok {
				continue
			}
			for _, v := range df.GetEnvVars() {
				opt := `\fBmfs ` + roff(mc.path) + ` \-\-` + roff(f.Names()[0]) + `\fR`
				if _, ok := byVar[v]; !ok {
					vars = append(vars, v)
				}
				if !slices.Contains(byVar[v], opt) {
					byVar[v] = append(byVar[v], opt)
				}
			}
		}
	}
	slices.Sort(vars)
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(".TP\n.B " + roff(v) + "\n" + strings.Join(byVar[v], ", ") + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// roff escapes text for a roff line: backslashes, hyphens (as \-, so
// options copy and paste as ASCII), and a leading dot or quote, which
// would make the line a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
