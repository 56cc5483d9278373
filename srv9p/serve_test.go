package srv9p_test

import (
	"context"
	"net"
	"testing"
	"time"

	"mfs/internal/dial"
	"mfs/srv9p"
)

// TestServeStops checks that cancelling Serve's context closes the
// listener and live connections and makes srv9p.Serve return nil.
func TestServeStops(t *testing.T) {
	a, _ := newExport(t)
	ln, err := dial.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv9p.Serve(ctx, ln, a, nil) }()
	c, err := dial.Dial(context.Background(), ln.Addr().String(), dial.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Attach("/"); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return with a live connection open")
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("live connection not closed")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still accepts")
	}
}

// TestServeListenerError checks that an accept failure not caused by the
// context is returned.
func TestServeListenerError(t *testing.T) {
	a, _ := newExport(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := srv9p.Serve(context.Background(), ln, a, nil); err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}
