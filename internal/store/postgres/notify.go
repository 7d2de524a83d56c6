package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Timing of the change listener.
const (
	// listenIdle is how long the listener waits for a notification before it
	// pings its connection, so that a connection that died silently (a
	// network cut, not a server that closed it) is noticed and replaced.
	listenIdle = 30 * time.Second
	// listenRetryMin and listenRetryMax bound the backoff between attempts
	// to re-establish a lost listening connection.
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 2 * time.Second
)

// Changed returns a channel that receives a value after changes commit on
// any node sharing the database, and after the listening connection was
// (re-)established, when notifications may have been missed. Values are
// coalesced: one pending value stands for any number of changes. The
// channel is never closed.
//
// The first call starts the listener: a goroutine with a connection of its
// own (outside the pool, which must not hold a LISTEN) that runs LISTEN
// gatehouse_changes and reconnects with backoff whenever the connection is
// lost, until Close. Readers should still poll now and then: a notification
// sent while the listener was reconnecting is lost (the signal after the
// reconnect stands for it).
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.listening && !s.closed.Load() {
		ctx, cancel := context.WithCancel(context.Background())
		s.listening, s.stopListen, s.listenDone = true, cancel, make(chan struct{})
		go func() {
			defer close(s.listenDone)
			s.listen(ctx)
		}()
	}
	return s.changed
}

// signal wakes the readers of Changed without ever blocking: a value that is
// already pending stands for this one too.
func (s *Store) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// listen keeps a listening connection until ctx ends.
func (s *Store) listen(ctx context.Context) {
	wait := listenRetryMin
	for ctx.Err() == nil {
		if s.listenOnce(ctx) {
			wait = listenRetryMin // it worked for a while: retry promptly
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce connects, listens and relays notifications until the
// connection fails or ctx ends. It reports whether it got as far as
// listening.
func (s *Store) listenOnce(ctx context.Context) bool {
	conn, err := pgx.ConnectConfig(ctx, s.cfg.Copy())
	if err != nil {
		return false
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return false
	}
	// Changes may have committed while there was no listener.
	s.signal()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			s.signal()
		case ctx.Err() != nil:
			return true
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Quiet for a while: make sure the connection still works. (The
			// pool's default context handling interrupts a wait by a
			// deadline on the socket, which leaves the connection usable.)
			pctx, cancel := context.WithTimeout(ctx, connectTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true
			}
		default:
			return true
		}
	}
}
