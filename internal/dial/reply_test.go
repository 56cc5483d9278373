package dial

import (
	"context"
	"errors"
	"testing"
	"time"

	"mfs/internal/dial/dialtest"
)

// TestReplyTimeout checks that a call to a server that stops answering
// fails with ErrNoReply once ReplyTimeout passes, and that without a
// ReplyTimeout nothing times out on its own (the call is still waiting when
// the test gives up on it and closes the connection).
func TestReplyTimeout(t *testing.T) {
	addr := listenFunc(t, dialtest.AnswerVersionOnly)
	for _, plain := range []bool{false, true} {
		c, err := Dial(context.Background(), addr, Options{ReplyTimeout: 200 * time.Millisecond, Plain: plain})
		if err != nil {
			t.Fatalf("plain=%v: dial: %v", plain, err)
		}
		done := make(chan error, 1)
		go func() { _, err := c.Attach(""); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNoReply) {
				t.Errorf("plain=%v: attach to a silent server: %v, want ErrNoReply", plain, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("plain=%v: attach to a silent server still waiting after a minute", plain)
		}
		c.Close()
	}

	c, err := Dial(context.Background(), addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Attach(""); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("attach without ReplyTimeout ended on its own: %v", err)
	case <-time.After(time.Second):
	}
	c.Close()
	if err := <-done; errors.Is(err, ErrNoReply) {
		t.Errorf("attach without ReplyTimeout failed with ErrNoReply after close")
	}
}
