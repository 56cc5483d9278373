package clustertls

import (
	"context"
	"log/slog"
	"time"
)

// Timings of Watch.
const (
	// PollInterval is how often Watch reads the revocation list again
	// when no handshake has (a handshake looks at it anyway): the
	// longest a live connection of a newly revoked certificate lasts.
	PollInterval = 2 * time.Second
	// ExpiryWarning is how long before the node's certificate (or the
	// CA) ends that Watch starts warning.
	ExpiryWarning = 30 * 24 * time.Hour
	// WarnInterval is how often Watch repeats an expiry warning.
	WarnInterval = 24 * time.Hour
)

// Watch runs until ctx is done, logging through log: it warns once at
// once and then once every WarnInterval while the node's certificate or
// the cluster CA ends within ExpiryWarning, and reads the revocation list
// again every PollInterval (closing the connections of certificates a
// new list revokes). It calls SetLogger(log) first.
func (n *Node) Watch(ctx context.Context, log *slog.Logger) {
	n.SetLogger(log)
	n.warnExpiry(log, time.Now())
	poll := time.NewTicker(n.pollEvery)
	defer poll.Stop()
	warn := time.NewTicker(n.warnEvery)
	defer warn.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			n.rev.refresh()
		case now := <-warn.C:
			n.warnExpiry(log, now)
		}
	}
}

// warnExpiry logs a warning for the node's certificate and for the CA if
// either ends within ExpiryWarning of now.
func (n *Node) warnExpiry(log *slog.Logger, now time.Time) {
	for _, c := range []struct {
		what, fix string
		end       time.Time
	}{
		{NodeFile(n.id), "make a new one (mfs tls cert, after moving the old pair aside) and restart the node", n.cert.Leaf.NotAfter},
		{CAFile, "make a new CA and new certificates for every node", n.ca.NotAfter},
	} {
		if left := c.end.Sub(now); left < ExpiryWarning {
			log.Warn("tls: certificate expires soon: "+c.fix,
				slog.String("file", c.what), slog.Time("expires", c.end), slog.Int("days_left", int(left.Hours()/24)))
		}
	}
}

// SetLogger sets where the node's handshakes log what befalls the
// revocation list (loaded, a bad one ignored, a connection closed);
// nowhere until it is called.
func (n *Node) SetLogger(log *slog.Logger) { n.rev.log.Store(log) }
