package mount

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// context is what a process chose: home and selected, 0 where it chose
// nothing.
type context struct {
	home, selected int
}

// attachName is the namespace attach name that gives ctx, as
// "home=H/selected=S" with the unset keys left out (the namespace's
// defaults then apply: home is here, selected follows home).
func (c context) attachName() string {
	var el []string
	if c.home != 0 {
		el = append(el, "home="+strconv.Itoa(c.home))
	}
	if c.selected != 0 {
		el = append(el, "selected="+strconv.Itoa(c.selected))
	}
	return strings.Join(el, "/")
}

// procKey names a process for good: a pid and its start time.
type procKey struct {
	pid   int
	start uint64
}

// contexts holds the settings processes wrote to ctl. A process's
// context is its own setting, else its nearest ancestor's, key by key.
//
// Concurrency: mu guards set and swept.
type contexts struct {
	mu     sync.Mutex
	set    map[procKey]context
	swept  time.Time
	readFn func(pid int) (proc, error)
}

func newContexts() *contexts {
	return &contexts{set: map[procKey]context{}, readFn: readProc}
}

// sweepEvery is how often settings of processes that are gone are
// dropped (checked when a context is resolved or set).
const sweepEvery = 5 * time.Second

// maxDepth bounds the walk up the parent chain (a loop in /proc cannot
// happen, a very deep tree can).
const maxDepth = 512

// resolve returns the context of process pid and the pid whose setting
// gave selected (or home, if only home is set anywhere); from is 0 when
// the defaults apply.
func (cs *contexts) resolve(pid int) (ctx context, from int) {
	cs.mu.Lock()
	cs.sweepLocked()
	empty := len(cs.set) == 0
	cs.mu.Unlock()
	if empty {
		return context{}, 0
	}
	for depth := 0; pid > 0 && depth < maxDepth; depth++ {
		p, err := cs.readFn(pid)
		if err != nil {
			break
		}
		cs.mu.Lock()
		c, ok := cs.set[procKey{p.pid, p.start}]
		cs.mu.Unlock()
		if ok {
			if ctx.home == 0 && c.home != 0 {
				ctx.home = c.home
				if from == 0 {
					from = p.pid
				}
			}
			if ctx.selected == 0 && c.selected != 0 {
				ctx.selected = c.selected
				from = p.pid
			}
			if ctx.home != 0 && ctx.selected != 0 {
				break
			}
		}
		if p.ppid == p.pid {
			break
		}
		pid = p.ppid
	}
	return ctx, from
}

// write applies a ctl command ("select N" or "home N") for process pid.
// check says whether node n may be chosen.
func (cs *contexts) write(pid int, cmd string, check func(n int) error) error {
	f := strings.Fields(cmd)
	if len(f) != 2 {
		return fmt.Errorf("ctl: %q: want \"select N\" or \"home N\": %w", strings.TrimSpace(cmd), syscall.EINVAL)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || f[1] != strconv.Itoa(n) {
		return fmt.Errorf("ctl: %q: bad node number: %w", f[1], syscall.EINVAL)
	}
	if f[0] != "select" && f[0] != "home" {
		return fmt.Errorf("ctl: %q: unknown command (select, home): %w", f[0], syscall.EINVAL)
	}
	if err := check(n); err != nil {
		return err
	}
	p, err := cs.readFn(pid)
	if err != nil {
		return fmt.Errorf("ctl: process %d: %w", pid, err)
	}
	k := procKey{p.pid, p.start}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.set[k]
	if f[0] == "select" {
		c.selected = n
	} else {
		c.home = n
	}
	cs.set[k] = c
	cs.sweepLocked()
	return nil
}

// sweepLocked drops the settings of processes that are gone, at most
// every sweepEvery.
func (cs *contexts) sweepLocked() {
	now := time.Now()
	if now.Sub(cs.swept) < sweepEvery {
		return
	}
	cs.swept = now
	for k := range cs.set {
		if p, err := cs.readFn(k.pid); err != nil || p.start != k.start {
			delete(cs.set, k)
		}
	}
}

// len returns how many processes have a setting.
func (cs *contexts) len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.set)
}
