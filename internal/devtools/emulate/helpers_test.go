package emulate_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kmsless/kmsless/infra/config"
)

func cut(kv string) (string, string, bool) { return strings.Cut(kv, "=") }

// wireEnv wires a service as a function would from env.
func wireEnv(t *testing.T, env map[string]string) *config.Service {
	t.Helper()
	set, err := config.Read(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := config.Wire(context.Background(), set, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}
