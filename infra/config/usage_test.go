package config

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/store/storetest"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// A key's use that PostgreSQL cannot record (its table gone) leaves the
// request served and is logged, naming the key and the store's error:
// GetKeyLastUsage would otherwise answer an older use without a word.
func TestAKeyUseTheStoreCannotRecordIsLogged(t *testing.T) {
	set := localSettings(t)
	set.Store = storetest.PostgresDatabase(t, "kmsless_uselost_")
	var logs syncbuf.Buffer
	svc, err := Wire(context.Background(), set, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	do := func(action string, p core.Params) (any, error) {
		return svc.KMS.Handle(ctx, &core.Request{ID: core.NewRequestID(), Action: action, Params: p, Caller: svc.DevPrincipal})
	}
	created, err := do("CreateKey", core.Params{})
	if err != nil {
		t.Fatal(err)
	}
	key := created.(core.Key).ID
	db, err := pgx.Connect(ctx, set.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, "ALTER TABLE key_usage RENAME TO key_usage_gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := do("GenerateDataKeyWithoutPlaintext", core.Params{"KeyId": key}); err != nil {
		t.Fatalf("the request failed with the use: %v", err)
	}
	line := ""
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "key use not recorded") {
			line = l
		}
	}
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "keyId="+key) || !strings.Contains(line, "key_usage") {
		t.Fatalf("no warning names the key and the store's error:\n%s", logs.String())
	}
}
