package dial

import (
	"errors"
	"net"
	"time"
)

// ErrNoReply is the error every pending call of a connection gets when the
// server sent nothing for Options.ReplyTimeout while a reply was due.
var ErrNoReply = errors.New("server sent no reply in time")

// replyDeadlineConn bounds how long the p9 client waits for a reply: the
// client reads only while a reply is due, so a deadline set before each
// Read measures silence while waiting, never idle time between calls. A
// long transfer keeps going as long as bytes keep coming.
//
// The p9 client has no timeouts of its own: without this a server that
// stops answering (a frozen process, a cut link) makes every call hang.
type replyDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

// Read implements io.Reader.
func (c *replyDeadlineConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	n, err := c.Conn.Read(p)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		// The p9 client fails every pending call with this error (inside
		// its ConnError, which errors.Is sees through).
		return n, ErrNoReply
	}
	return n, err
}
