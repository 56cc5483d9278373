package membership

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/serf/serf"
)

// mergeCheck is serf's merge delegate. serf asks it about the member list
// a joining node and the member it joins exchange, and about every alive
// message; refusing makes memberlist drop the merge or the message.
//
// It enforces one live member per node number (= serf node name):
//   - a member claiming our own number from another address is refused;
//     while we are joining, that means our number is taken (if something
//     answers there) and Join fails with ErrDuplicateID;
//   - a member claiming the number of a member we know alive at another
//     address is refused.
type mergeCheck struct{ m *Membership }

// NotifyMerge implements serf.MergeDelegate.
func (d mergeCheck) NotifyMerge(members []*serf.Member) error {
	for _, o := range members {
		if o.Status == serf.StatusLeft {
			continue
		}
		if err := d.m.checkClaim(o); err != nil {
			return err
		}
	}
	return nil
}

// checkClaim decides whether member o may be merged.
func (m *Membership) checkClaim(o *serf.Member) error {
	addr := net.JoinHostPort(o.Addr.String(), strconv.Itoa(int(o.Port)))
	m.mu.Lock()
	self, joined := m.self, m.joined
	known, ok := m.members[o.Name]
	m.mu.Unlock()
	if self == "" || addr == self {
		return nil // serf announcing us during New, or our own record
	}
	if o.Name == m.name {
		if joined {
			m.log.Warn("refusing a node that claims our id", slog.String("addr", addr))
			return fmt.Errorf("%w: id %d belongs to %s", ErrDuplicateID, m.cfg.ID, self)
		}
		// The cluster remembers our id at another address: a previous
		// life of ours if nothing answers there any more.
		if !answers(addr, m.cfg.Timings.ProbeTimeout*5) {
			return nil
		}
		err := fmt.Errorf("%w: id %d is held by the live member at %s", ErrDuplicateID, m.cfg.ID, addr)
		m.mu.Lock()
		m.conflict = err
		m.mu.Unlock()
		return err
	}
	if ok && known.State == Alive && known.Gossip != addr {
		m.log.Warn("refusing a second node with a live id", slog.String("name", o.Name), slog.String("addr", addr), slog.String("holder", known.Gossip))
		return fmt.Errorf("%w: %s is alive at %s", ErrDuplicateID, o.Name, known.Gossip)
	}
	return nil
}

// answers reports whether something accepts TCP connections at addr
// (memberlist listens on TCP and UDP at the gossip address).
func answers(addr string, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, max(timeout, 200*time.Millisecond))
	if err != nil {
		return false
	}
	c.Close()
	return true
}
