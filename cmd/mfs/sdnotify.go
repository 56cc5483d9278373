package main

import (
	"net"
	"os"
)

// sdNotify tells the service manager that started this process how it is
// (systemd's sd_notify protocol: one datagram of "NAME=value" lines to the
// unix socket named by $NOTIFY_SOCKET; a name starting with '@' is an
// abstract socket). Without $NOTIFY_SOCKET it does nothing: the process
// was not started by a Type=notify unit. A failure is returned for the
// caller to log; the service manager then sees no notice, which it treats
// as a start timeout, not something to stop the node for.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}
