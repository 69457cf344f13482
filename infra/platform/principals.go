package platform

import (
	"context"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
)

// principalsPoll is how often the api server looks at its principals file.
const principalsPoll = 5 * time.Second

// WatchPrincipals follows the principals file until ctx ends: every interval
// it looks at the file's size and modification time, and when either moved
// it reads the file and puts its principals in place of those in service.
// So a caller added may sign, and one taken out, or whose secret, policy or
// client keys changed, is held to the file from its next request on,
// without a restart. A file that does not read, such as one caught half
// written, leaves the principals in service, and is logged once. A server
// runs it beside its requests; a function on a serverless platform is
// deployed again instead. Without a principals file it does nothing.
func WatchPrincipals(ctx context.Context, svc *config.Service, interval time.Duration) {
	if svc.Settings.PrincipalsFile == "" || interval <= 0 {
		return
	}
	file := &reloaded[*core.Directory]{
		setting: "KMS_PRINCIPALS_FILE", files: []string{svc.Settings.PrincipalsFile}, read: svc.ReadPrincipals, log: svc.Logger,
		done: "principals reloaded", kept: "principals file not reloaded: keeping the principals loaded before",
	}
	// The file as it is now, which is the one start-up read unless it has
	// changed since: the principals in service become its.
	if err := file.start(); err != nil {
		svc.Logger.Warn(file.kept, "err", err)
	}
	var inService *core.Directory
	for {
		if d := file.current(); d != nil && d != inService {
			svc.ReplacePrincipals(ctx, d)
			inService = d
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
