package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmbatch/crmbatch/crm"
	"github.com/crmbatch/crmbatch/fault"
	"github.com/crmbatch/crmbatch/pacer"
)

// Session is a logged-in connection for the commands that read (promotions,
// show, charges export): the run's pacing, retries and token renewal, without
// a job file.
type Session struct {
	x *executor
}

// Connect logs in with cfg.API, paced by cfg.Rate and retried cfg.Attempts times.
func Connect(ctx context.Context, cfg Config) (*Session, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	x, err := login(ctx, cfg, "")
	if err != nil {
		return nil, err
	}
	return &Session{x: x}, nil
}

// defaultMaxWait is the longest Retry-After a run waits out unless told.
const defaultMaxWait = 5 * time.Minute

// login builds the client of a run or a session, paced by one pacer that stops
// with ctx, and logs in with retries. Its calls and retries count from zero
// after the login: summaries count the job's calls. runID, "" outside a run,
// is told on the log lines of every attempt, the login's included.
func login(ctx context.Context, cfg Config, runID string) (*executor, error) {
	progress := cfg.Progress
	if progress == nil {
		progress = silent{}
	}
	maxWait := cfg.MaxWait
	if maxWait <= 0 {
		maxWait = defaultMaxWait
	}
	x := &executor{log: cfg.Log, progress: progress, runID: runID}
	pace := pacer.New(pacer.Options{Rate: cfg.Rate, Backoff: cfg.Backoff, Attempts: cfg.Attempts, MaxWait: maxWait,
		Now: cfg.Now, Stop: ctx.Done(), Fatal: x.fail, Watch: x})
	api := cfg.API
	api.Wait = pace.Wait
	if api.Now == nil {
		api.Now = cfg.Now
	}
	client, err := crm.New(api)
	if err != nil {
		return nil, &fault.UsageError{Err: err}
	}
	x.client, x.pace = client, pace
	if _, err := x.Call(ctx, pacer.Attempt{Send: client.Login}); err != nil {
		var ce *crm.Error
		var we *pacer.WaitError
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("interrupted: %w", ctx.Err())
		case errors.As(err, &we):
			err = we
		case errors.As(err, &ce):
			err = ce // the login's own answer, not how the run took it
		}
		return nil, &fault.FatalError{Err: err}
	}
	x.calls.Store(0)
	x.retried.Store(0)
	return x, nil
}

// Read makes a read-only call with the run's retries.
func (s *Session) Read(ctx context.Context, call func(context.Context) error) error {
	_, err := s.x.Call(ctx, pacer.Attempt{Send: call})
	return err
}

// Promotions lists the operator's promotions (netflix/promotions/list).
func (s *Session) Promotions(ctx context.Context) ([]crm.Promotion, error) {
	var p []crm.Promotion
	err := s.Read(ctx, func(ctx context.Context) (err error) {
		p, err = s.x.client.Promotions(ctx)
		return err
	})
	return p, err
}

// Show reads a customer's subscription (netflix/subscriptions/show).
func (s *Session) Show(ctx context.Context, customer string) (*crm.Subscription, error) {
	var sub *crm.Subscription
	err := s.Read(ctx, func(ctx context.Context) (err error) {
		sub, err = s.x.client.ShowSubscription(ctx, customer)
		return err
	})
	return sub, err
}

// promotionCodes fetches the operator's promotion codes, for checking a create
// job before it sends anything.
func promotionCodes(ctx context.Context, cfg Config) (map[string]bool, error) {
	sess, err := Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	promos, err := sess.Promotions(ctx)
	if err != nil {
		return nil, &fault.FatalError{Err: fmt.Errorf("checking the promotion codes: %w", err)}
	}
	codes := make(map[string]bool, len(promos))
	for _, p := range promos {
		codes[p.Code] = true
	}
	return codes, nil
}

// Client is the session's logged-in client, for calls made through Read.
func (s *Session) Client() *crm.Client { return s.x.client }
