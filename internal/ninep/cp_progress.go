package ninep

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// cpShowProgress decides whether a copy of files regular files holding
// bytes shows a progress bar: only on a terminal, and only for a copy that
// takes long enough to watch.
func cpShowProgress(tty bool, files int, bytes int64) bool {
	return tty && (files > cpBarFiles || bytes > cpBarBytes)
}

// cpIsTerminal reports whether w is a terminal.
func cpIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// cpProgress is the progress bar of a copy: bytes copied, files done in
// its description. A nil bar draws nothing.
type cpProgress struct {
	bar     *progressbar.ProgressBar
	files   int
	done    atomic.Int64
	stopped bool
}

// newCpProgress returns the progress of a copy to draw on w, silent
// unless cpShowProgress says otherwise.
func newCpProgress(w io.Writer, files int, bytes int64) *cpProgress {
	p := &cpProgress{files: files}
	if !cpShowProgress(cpIsTerminal(w), files, bytes) {
		return p
	}
	// One more than the bytes: the bar is full when finish says so, not
	// when the last byte is written while files are still being finished.
	p.bar = progressbar.NewOptions64(bytes+1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("0/%d files", files)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return p
}

func (p *cpProgress) add(n int) {
	if p != nil && p.bar != nil {
		p.bar.Add(n)
	}
}

func (p *cpProgress) fileDone() {
	if p != nil && p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%d/%d files", p.done.Add(1), p.files))
	}
}

func (p *cpProgress) clear() {
	if p != nil && p.bar != nil {
		p.bar.Clear()
	}
}

func (p *cpProgress) finish() {
	if p != nil && p.bar != nil && !p.stopped {
		p.bar.Finish()
	}
}

// stop leaves the bar where the copy stopped short (finish would fill it).
func (p *cpProgress) stop() {
	if p != nil && p.bar != nil && !p.stopped {
		p.stopped = true
		p.bar.Exit()
	}
}
