package gen

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// Bash writes a bash completion script for the app: a table of each
// command path's subcommands and flags, and a function that finds the
// path in the words typed so far.
func Bash(w io.Writer, app *cli.App) error {
	cmds := map[string][]string{}
	flags := map[string][]string{}
	var walk func(path string, subs []*cli.Command, fl []cli.Flag)
	walk = func(path string, subs []*cli.Command, fl []cli.Flag) {
		seen := map[string]bool{}
		add := func(f string) {
			if !seen[f] {
				seen[f] = true
				flags[path] = append(flags[path], f)
			}
		}
		for _, f := range fl {
			for _, n := range f.Names() {
				if len(n) == 1 {
					add("-" + n)
				} else {
					add("--" + n)
				}
			}
		}
		add("--help")
		for _, c := range subs {
			if c.Hidden || c.Name == "help" { // urfave/cli's own
				continue
			}
			for _, n := range c.Names() { // an alias has its command's table
				cmds[path] = append(cmds[path], n)
				walk(path+" "+n, c.Subcommands, c.Flags)
			}
		}
	}
	walk("mfs", app.Commands, append(app.Flags, &cli.BoolFlag{Name: "version"}))

	var b strings.Builder
	b.WriteString(`# bash completion for mfs (bash 4 or later), made by 'mfs gen bash'.
# Install as $PREFIX/share/bash-completion/completions/mfs, or source it.

declare -gA _mfs_cmds=(
`)
	writeTable(&b, cmds)
	b.WriteString(`)
declare -gA _mfs_flags=(
`)
	writeTable(&b, flags)
	b.WriteString(`)

# _mfs finds the command path ("mfs 9p ls") in the words before the
# cursor, then offers that command's flags after a "-", else its
# subcommands; with neither, bash completes file names.
_mfs() {
	local cur=${COMP_WORDS[COMP_CWORD]} path=mfs w i
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case " ${_mfs_cmds[$path]} " in
		*" $w "*) path="$path $w" ;;
		esac
	done
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${_mfs_flags[$path]}" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "${_mfs_cmds[$path]}" -- "$cur"))
	fi
}
complete -o bashdefault -o default -F _mfs mfs
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable writes the entries of an associative array, sorted by key.
func writeTable(b *strings.Builder, t map[string][]string) {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "\t[%q]=%q\n", k, strings.Join(t[k], " "))
	}
}
