package config

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/kmsless/kmsless/infra/rootkey/rootkeytest"
	"github.com/kmsless/kmsless/internal/benchfloor"
)

// BenchmarkLoadRootKey measures what an instance does at init, reading the
// settings and wiring the service on the embedded store, with each root key
// source. The cloud sources unwrap against local KMSes on loopback (local-kms,
// an in-process kmsless), so the figure is the client's cost plus one HTTP
// round trip with no network in between; x-env is the ratio to env, measured
// in alternating chunks in the same run.
func BenchmarkLoadRootKey(b *testing.B) {
	raw := randomRootKey(b)
	text := base64.StdEncoding.EncodeToString(raw)
	dir := b.TempDir()
	l := rootkeytest.StartLocalKMS(b)
	rootkeytest.UseAWS(b, l.Endpoint)
	awsKey := l.CreateKey(b)
	k := rootkeytest.StartKmsless(b)
	aliKey := k.CreateKey(b)
	sources := map[string]map[string]string{
		"env": {"KMS_DATA_DIR": dir, "KMS_ROOT_KEY": text},
		"aws-kms": {"KMS_DATA_DIR": dir, "KMS_ROOT_KEY_SOURCE": SourceAWSKMS,
			"KMS_ROOT_KEY": l.Encrypt(b, awsKey, raw, nil), "KMS_ROOT_KEY_CMK": awsKey},
		"alibaba-kms": {"KMS_DATA_DIR": dir, "KMS_ROOT_KEY_SOURCE": SourceAlibabaKMS,
			"KMS_ROOT_KEY": k.Encrypt(b, aliKey, text, nil), "KMS_ROOT_KEY_CMK": aliKey, "KMS_ROOT_KEY_ENDPOINT": k.Endpoint,
			"ALIBABA_CLOUD_ACCESS_KEY_ID": k.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": k.AccessKeySecret},
	}
	start := func(b *testing.B, vars map[string]string) {
		set, err := Read(env(vars))
		if err != nil {
			b.Fatal(err)
		}
		svc, err := Wire(context.Background(), set, quiet())
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.Close(); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"env", "aws-kms", "alibaba-kms"} {
		b.Run(name, func(b *testing.B) {
			real, floor := benchfloor.Alternate(b, 8,
				func() { start(b, sources[name]) }, func() { start(b, sources["env"]) })
			b.ReportMetric(float64(real)/float64(floor), "x-env")
		})
	}
}
