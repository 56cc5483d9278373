package srv9p

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"

	"github.com/hugelgupf/p9/p9"
)

// Serve answers 9P2000.L on every connection ln accepts, with
// p9.NewServer(a) behind a filter that builds around the server's gaps
// (Tgetlock, blocking locks, the attaching uid, errnos, setid bits; see
// the package doc), until ctx is done: then it closes the
// listener and every live connection, waits for their handlers and returns
// nil. Any other accept error is returned.
func Serve(ctx context.Context, ln net.Listener, a p9.Attacher, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := p9.NewServer(a)
	var (
		mu    sync.Mutex
		conns = make(map[net.Conn]bool)
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			c.Close()
			return nil
		}
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			log.Debug("9p connection", "remote", c.RemoteAddr().String())
			fc := newFilterConn(c)
			srv.Handle(fc, fc)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			log.Debug("9p connection closed", "remote", c.RemoteAddr().String())
		}()
	}
}
