// Package gen makes what `mfs gen` prints from the command tree, so it
// never drifts from the flags: the manual page mfs(1) (Man), the bash
// completion script (Bash), the systemd unit of `mfs node` (Systemd) and
// an example of its environment file (Env).
package gen
