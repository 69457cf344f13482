package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
)

// PurgeName is the purge function's folder under functions/.
const PurgeName = "purge"

// Purged is the purge function's answer: what it destroyed.
type Purged struct {
	DestroyedKeys    []string
	DestroyedSecrets []string
}

// Purge is the purge function, for the platforms on which nothing runs
// between requests: each invocation (an EventBridge schedule's on Lambda, a
// timer trigger's on Function Compute, or a direct one with any JSON object)
// destroys the keys and secrets past their deletion dates that the store
// still holds (core's Purge) and answers what it destroyed. The event is
// read for nothing but its shape: permission to invoke the function is
// permission to destroy what no caller can reach any more, and no more.
func Purge(svc *config.Service) Function {
	return Function{Name: PurgeName, Handler: func(ctx context.Context, event json.RawMessage) (any, error) {
		if e := bytes.TrimSpace(event); len(e) == 0 || e[0] != '{' || !json.Valid(e) {
			return nil, core.Errorf(core.CodeInvalidParameter, "The purge function takes a JSON object: a schedule's or a timer's event, or {}.")
		}
		p, err := svc.KMS.Purge(ctx)
		logPurged(svc.Logger, p)
		if err != nil {
			svc.Logger.Error("purge of what is past its deletion date failed; the next run goes on", "cause", err.Error())
			return nil, err
		}
		return Purged{DestroyedKeys: orEmpty(p.Keys), DestroyedSecrets: orEmpty(p.Secrets)}, nil
	}}
}

// PurgeEvery destroys the keys and secrets past their deletion dates that
// the store still holds (core's Purge) at once and then every interval,
// until ctx ends; a zero interval never. A server runs it beside its
// requests, as the functions of a serverless platform cannot: it destroys
// only what no caller can reach, and holds to each record as it read it.
// A failed run is logged and the next one goes on.
func PurgeEvery(ctx context.Context, svc *config.Service, interval time.Duration) {
	if interval <= 0 {
		return
	}
	for {
		p, err := svc.KMS.Purge(ctx)
		logPurged(svc.Logger, p)
		if err != nil && ctx.Err() == nil {
			svc.Logger.Warn("purge of what is past its deletion date failed; it runs again", "cause", err.Error(), "in", interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// logPurged names what a purge destroyed, if anything.
func logPurged(log *slog.Logger, p core.Purged) {
	if len(p.Keys)+len(p.Secrets) > 0 {
		log.Info("destroyed what was past its deletion date", "keys", p.Keys, "secrets", p.Secrets)
	}
}

// orEmpty is s, or an empty list where it is nil, so that JSON says [].
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
