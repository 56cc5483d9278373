package clierr

import (
	"errors"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestSuggest(t *testing.T) {
	cmds := []string{"export", "node", "demo", "9p", "members", "tls", "version", "gen", "run"}
	for word, want := range map[string]string{
		"nod": "node", "noed": "node", "membres": "members", "exprot": "export",
		"ver": "version", "xyzzy": "", "n": "", "node": "",
	} {
		if got := Suggest(word, cmds); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestFlagMessage(t *testing.T) {
	flags := []cli.Flag{&cli.StringFlag{Name: "addr", Aliases: []string{"a"}}, &cli.BoolFlag{Name: "l"}}
	for in, want := range map[string]string{
		"flag provided but not defined: -adr":   "unknown flag --adr: did you mean --addr?",
		"flag provided but not defined: -z":     "unknown flag -z",
		"flag provided but not defined: -bogus": "unknown flag --bogus",
		`invalid value "x" for flag -n: parse`:  `invalid value "x" for flag -n: parse`,
	} {
		if got := FlagMessage(errors.New(in), flags); got != want {
			t.Errorf("FlagMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
