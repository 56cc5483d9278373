package srv9ptest

import (
	"bufio"
	"io"
	"os/exec"
	"testing"
)

// StartHelper starts cmd, a helper process that reports on one line of
// its standard output and then holds what it has until its standard input
// closes. The line comes on the channel (the rest of the output is read
// and dropped); when the test ends, its standard input is closed and it is
// waited for.
func StartHelper(t testing.TB, cmd *exec.Cmd) <-chan string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		line <- sc.Text()
		io.Copy(io.Discard, out)
	}()
	return line
}
