package app

import (
	"context"
	"time"

	"gatehouse/internal/store"
)

// activityFlushInterval is how often key activity counted in memory is
// written. Each write costs about one page per key used since the last
// (keys drawn from a large set rarely share a page), so a longer interval
// gathers more uses of each key, and of each page, into one write: with 1M
// keys in use, 10 s instead of 1 s writes ≈ 3.5 times fewer pages
// (docs/BENCHMARKS.md). Reads on this node add what is pending, so they are
// exact; a crash loses at most this much activity, and other nodes of a
// cluster see it this much later.
const activityFlushInterval = 10 * time.Second

// startBackground runs the periodic work: activity flushes, signing-key
// maintenance, and tailing the change log so caches follow changes made
// elsewhere (other nodes of a shared database).
func (a *App) startBackground(ctx context.Context) {
	a.every(ctx, activityFlushInterval, "flush key activity", a.iam.FlushActivity)
	a.every(ctx, time.Minute, "signing-key maintenance", a.keyring.Maintain)
	a.every(ctx, time.Hour, "prune change log", func(ctx context.Context) error {
		return a.store.PruneChanges(ctx, a.opts.Now().Add(-24*time.Hour))
	})
	a.every(ctx, time.Hour, "analytics retention", func(ctx context.Context) error {
		_, err := a.store.DeleteEventsBefore(ctx, a.opts.Now().Add(-a.cfg.AnalyticsRetention))
		return err
	})
	a.every(ctx, time.Minute, "rate-limit sweep", func(context.Context) error {
		a.limiter.Sweep()
		return nil
	})
	a.bgDone.Add(1)
	go func() {
		defer a.bgDone.Done()
		a.gateway.Run(ctx)
	}()
	a.bgDone.Add(1)
	go func() {
		defer a.bgDone.Done()
		start := time.Now()
		n, err := a.iam.WarmDigests(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("warm the key digest cache failed", "err", err)
		}
		a.keysWarm.Store(true)
		a.log.Debug("key digest cache warmed", "keys", n, "took", time.Since(start))
	}()
	last, err := a.store.LastChange(ctx)
	synced := err == nil
	if !synced {
		a.log.Warn("change log: start position unknown; caches will be dropped once the store answers", "err", err)
	}
	var wake <-chan struct{}
	if n, ok := a.store.(store.Notifier); ok {
		wake = n.Changed()
	}
	a.watch(ctx, a.opts.WatchInterval, wake, "follow change log", func(ctx context.Context) error {
		var err error
		if !synced {
			// Changes made meanwhile cannot be listed: start afresh from now.
			if last, err = a.store.LastChange(ctx); err != nil {
				return err
			}
			a.iam.InvalidateAll()
			a.apim.Invalidate(store.Change{Kind: store.ChangeAccount})
			a.gateway.Refresh()
			synced = true
			return a.keyring.Refresh(ctx)
		}
		last, err = a.applyChanges(ctx, last)
		return err
	})
}

// applyChanges invalidates what the changes after seq touched and returns the
// new position.
func (a *App) applyChanges(ctx context.Context, seq int64) (int64, error) {
	for {
		changes, err := a.store.Changes(ctx, seq, 1000)
		if err != nil {
			return seq, err
		}
		signing := false
		for _, c := range changes {
			a.iam.Invalidate(c)
			a.apim.Invalidate(c)
			switch c.Kind {
			case store.ChangeSigningKey:
				signing = true
			case store.ChangePublish, store.ChangeConsumer, store.ChangeOrg, store.ChangeEnv:
				a.gateway.Refresh()
			}
			seq = c.Seq
		}
		if signing {
			if err := a.keyring.Refresh(ctx); err != nil {
				return seq, err
			}
		}
		if len(changes) < 1000 {
			return seq, nil
		}
	}
}

// every runs fn every interval until ctx ends, logging failures.
func (a *App) every(ctx context.Context, interval time.Duration, what string, fn func(context.Context) error) {
	a.watch(ctx, interval, nil, what, fn)
}

// watch runs fn every interval, and also whenever wake fires, until ctx ends.
func (a *App) watch(ctx context.Context, interval time.Duration, wake <-chan struct{}, what string, fn func(context.Context) error) {
	a.bgDone.Add(1)
	go func() {
		defer a.bgDone.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-wake:
			}
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn(what+" failed", "err", err)
			}
		}
	}()
}
