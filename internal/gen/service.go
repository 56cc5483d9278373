package gen

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// DefaultBin is where `mk install` puts mfs with its default PREFIX, and
// so the ExecStart of `mfs gen systemd` without --bin.
const DefaultBin = "/usr/local/bin/mfs"

// envFile is the file the unit reads MFS_ variables from
// (`mfs gen env` prints an example).
const envFile = "/etc/default/mfs"

// unitTemplate is the systemd unit of `mfs node`; %[1]s is the binary,
// %[2]s the environment file. Every hardening option set, and the common
// ones left out, say why: the node exports / (less /proc, /sys and /dev)
// to the whole cluster, acting as each client's user, so nothing that
// hides, or makes read-only, part of the tree it serves may be set; and
// an option that gives the service a mount namespace of its own would
// hide its --mount from everyone else on the machine.
const unitTemplate = `# mfs(1) node as a systemd service, made by 'mfs gen systemd'.
# Install as /etc/systemd/system/mfs.service (mk install: $PREFIX/lib/systemd/system);
# configure in %[2]s ('mfs gen env' prints every variable), then
#   systemctl daemon-reload && systemctl enable --now mfs
[Unit]
Description=mfs cluster file system node
Documentation=man:mfs(1)
# Peers are reached over the network; wait for it to be configured.
Wants=network-online.target
After=network-online.target

[Service]
# mfs node says READY=1 (sd_notify) once it serves and has joined the
# cluster, and STOPPING=1 when it leaves.
Type=notify
# MFS_ID=… at least; every flag of mfs node has an MFS_ variable. The '-'
# lets the unit start without the file (then mfs node says --id is missing).
EnvironmentFile=-%[2]s
ExecStart=%[1]s node
# SIGTERM makes the node leave the cluster gracefully before it exits.
KillSignal=SIGTERM
TimeoutStopSec=30
# Joining retries until a member answers; bound it with MFS_JOIN_TIMEOUT
# (the node then exits 1 and is restarted) rather than with a start timeout.
TimeoutStartSec=infinity
Restart=on-failure
RestartSec=5
# Exit status 2 is a mistake in the flags or MFS_ variables: restarting
# cannot fix it.
RestartPreventExitStatus=2
# /run/mfs holds the local socket (mfs.sock) that mfs 9p and mounts use;
# others need to reach it, and the node checks who they are.
RuntimeDirectory=mfs
RuntimeDirectoryMode=0755
# The export serves many clients' open files.
LimitNOFILE=1048576

# Hardening that leaves the exported tree whole.
# No setuid-root helper gains anything from a process of this unit: the
# node changes identity with setfsuid/setgroups and capset, which need no
# new privileges, and as root it mounts FUSE itself.
NoNewPrivileges=yes
# Of root's capabilities, only those serving files as any user needs:
# owners and modes (CHOWN, FOWNER, FSETID, DAC_*), acting as a user
# (SETUID, SETGID), device files (MKNOD), port 564 (NET_BIND_SERVICE),
# the FUSE mount and trusted/security xattrs (SYS_ADMIN), root's reserved
# disk blocks (SYS_RESOURCE). Gone: modules, ptrace, raw I/O, net admin,
# reboot, setting the clock, and the rest.
CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_SETUID CAP_SETGID CAP_MKNOD CAP_NET_BIND_SERVICE CAP_SYS_ADMIN CAP_SYS_RESOURCE
# Sockets: unix (local socket), IPv4 and IPv6 (peers, gossip), netlink
# (finding this host's address for --advertise).
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
# No personality changes, no realtime scheduling, no writable and
# executable memory (Go needs none), native system calls only.
LockPersonality=yes
RestrictRealtime=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
# Not set, on purpose:
# ProtectSystem=, ProtectHome=, ReadOnlyPaths=: the node exports / and
#   clients write /usr, /etc and /home through it as they may locally.
# PrivateTmp=: clients of the cluster see this machine's /tmp.
# ProtectKernelModules=: hides /usr/lib/modules from the export.
# PrivateDevices=, ProtectClock=, DevicePolicy=: --mount opens /dev/fuse;
#   ProtectClock= implies a device allow-list.
# RestrictSUIDSGID=: a client may set the setuid bit on its own files.
# ProtectKernelTunables=, ProtectControlGroups=, ProtectKernelLogs=,
# ProtectHostname=: harmless to the export (no /proc, /sys or /dev in it),
#   but each gives the service a mount namespace of its own, where
#   --mount would be seen by the node alone.
# SystemCallFilter=: the export uses mount, xattr, mknod and capset calls
#   that a filter would have to list exactly; a miss kills the node.

[Install]
WantedBy=multi-user.target
`

// Systemd writes the unit of `mfs node` that runs bin.
func Systemd(w io.Writer, bin string) error {
	_, err := fmt.Fprintf(w, unitTemplate, bin, envFile)
	return err
}

// Env writes an example environment file for the unit: every flag of
// `mfs node` as its MFS_ variable, commented out with its usage and
// default, MFS_ID first (the one a node needs).
func Env(w io.Writer, app *cli.App) error {
	var node *cli.Command
	for _, c := range app.Commands {
		if c.Name == "node" {
			node = c
		}
	}
	if node == nil {
		return fmt.Errorf("no node command")
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# %s: the environment of mfs node under systemd (mfs.service),
# made by 'mfs gen env'. One VARIABLE=value a line, no quotes needed;
# a list (MFS_JOIN, MFS_LISTEN) is comma-separated. Uncomment what you set.
# The gossip key: put it here (this file should be mode 600), not on a
# command line, where ps shows it.

`, envFile)
	for _, f := range node.Flags {
		df, ok := f.(cli.DocGenerationFlag)
		if !ok || len(df.GetEnvVars()) == 0 {
			continue
		}
		_, usage := unquoteUsage(df.GetUsage())
		fmt.Fprintf(&b, "# --%s: %s\n", f.Names()[0], usage)
		value := ""
		if df.TakesValue() {
			value = strings.Trim(df.GetDefaultText(), `"`)
		}
		env := df.GetEnvVars()[0]
		if env == "MFS_ID" {
			fmt.Fprintf(&b, "MFS_ID=1\n\n")
			continue
		}
		fmt.Fprintf(&b, "#%s=%s\n\n", env, value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unquoteUsage splits a flag's usage into the placeholder it names in
// backquotes ("at `DIR`": DIR, "") and the text without the backquotes.
func unquoteUsage(usage string) (placeholder, text string) {
	i := strings.IndexByte(usage, '`')
	if i < 0 {
		return "", usage
	}
	j := strings.IndexByte(usage[i+1:], '`')
	if j < 0 {
		return "", usage
	}
	placeholder = usage[i+1 : i+1+j]
	return placeholder, usage[:i] + placeholder + usage[i+1+j+1:]
}
