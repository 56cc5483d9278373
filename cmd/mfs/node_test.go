package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{"a:1"}, []string{"a:1"}},
		{[]string{"a:1,b:2"}, []string{"a:1", "b:2"}},
		{[]string{"a:1, b:2", "", "c:3,"}, []string{"a:1", "b:2", "c:3"}},
	}
	for _, tt := range tests {
		if got := splitList(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		format, level string
		ok            bool
		want          string // in the output of an Info line
	}{
		{"text", "info", true, "msg=hello"},
		{"json", "debug", true, `"msg":"hello"`},
		{"json", "warn", true, ""},
		{"xml", "info", false, ""},
		{"text", "loud", false, ""},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		l, err := newLogger(&b, tt.format, tt.level)
		if (err == nil) != tt.ok {
			t.Errorf("newLogger(%q, %q): %v", tt.format, tt.level, err)
			continue
		}
		if err != nil {
			continue
		}
		l.Info("hello")
		if got := b.String(); tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("newLogger(%q, %q) wrote %q, want %q", tt.format, tt.level, got, tt.want)
		}
	}
}
