package main

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/hugelgupf/p9/linux"

	"mfs/internal/clierr"
)

func TestErrorLineAndExitCode(t *testing.T) {
	tests := []struct {
		err  error
		line string
		code int
	}{
		{clierr.In("9p", fmt.Errorf("ls /7: %w", linux.ENOENT)), "mfs 9p: ls /7: no such file or directory", 1},
		{clierr.In("9p", clierr.Usagef("unknown verb %q", "x")), `mfs 9p: unknown verb "x"`, 2},
		{clierr.In("members", clierr.Usagef("two\nlines")), "mfs members: two; lines", 2},
		{errors.New("plain"), "mfs: plain", 1},
	}
	for _, tt := range tests {
		if got := errorLine(tt.err); got != tt.line {
			t.Errorf("errorLine = %q, want %q", got, tt.line)
		}
		if got := exitCode(tt.err); got != tt.code {
			t.Errorf("exitCode(%q) = %d, want %d", tt.line, got, tt.code)
		}
	}
}

func TestErrorLinesMulti(t *testing.T) {
	err := clierr.In("9p", errors.Join(fmt.Errorf("rm /a: %w", linux.ENOENT), fmt.Errorf("rm /d: %w", linux.ENOTEMPTY)))
	want := []string{"mfs 9p: rm /a: no such file or directory", "mfs 9p: rm /d: directory not empty"}
	if got := errorLines(err); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("errorLines = %q, want %q", got, want)
	}
	if exitCode(err) != 1 {
		t.Errorf("exit code %d, want 1", exitCode(err))
	}
	if got := errorLines(clierr.In("9p", errors.Join(fmt.Errorf("rm /a: %w", linux.ENOENT)))); fmt.Sprint(got) != fmt.Sprint(want[:1]) {
		t.Errorf("one error: %q", got)
	}
}

func TestVersionText(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "mfs unknown\nrevision unknown\ngo " + runtime.Version() + " " + platform + "\n"},
		{"checkout without vcs", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "mfs", Version: "(devel)"}}, true,
			"mfs (devel)\nrevision unknown\ngo go1.26.0 " + platform + "\n"},
		{"empty version", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "mfs"}}, true,
			"mfs (devel)\nrevision unknown\ngo go1.26.0 " + platform + "\n"},
		{"tagged, clean", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "mfs", Version: "v0.3.0"},
			Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
				{Key: "vcs.revision", Value: "978b1a0492a1"}, {Key: "vcs.time", Value: "2026-12-01T02:58:25Z"}, {Key: "vcs.modified", Value: "false"}}}, true,
			"mfs v0.3.0\nrevision 978b1a0492a1 (2026-12-01T02:58:25Z)\ngo go1.26.0 linux/arm64\n"},
		{"modified", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "mfs", Version: "v0.0.0-20261201025825-978b1a0492a1+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "978b1a0492a1"}, {Key: "vcs.modified", Value: "true"}}}, true,
			"mfs v0.0.0-20261201025825-978b1a0492a1+dirty\nrevision 978b1a0492a1 (modified)\ngo go1.26.0 " + platform + "\n"},
	}
	for _, tt := range tests {
		if got := versionText(tt.bi, tt.ok); got != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}
