package rootkey

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

func TestFromPlaintextZeroesWhatTheKMSReturned(t *testing.T) {
	key := bytes.Repeat([]byte{0xA5}, 32)
	for name, plaintext := range map[string][]byte{
		"raw bytes":   bytes.Clone(key),
		"base64 text": []byte(base64.StdEncoding.EncodeToString(key) + "\n"),
		"wrong size":  bytes.Clone(key[:16]),
	} {
		_, err := fromPlaintext(plaintext)
		if (err != nil) != (name == "wrong size") {
			t.Errorf("%s: %v", name, err)
		}
		if !bytes.Equal(plaintext, make([]byte, len(plaintext))) {
			t.Errorf("%s: the plaintext was not zeroed", name)
		}
	}
}

func TestFromAlibabaKMSRefusesAnEndpointWithAPath(t *testing.T) {
	w := Wrapped{Blob: "AQID"}
	for _, endpoint := range []string{"ftp://kms.example", "https://kms.example/v1", "https://"} {
		_, err := FromAlibabaKMS(context.Background(), w, Alibaba{Endpoint: endpoint, AccessKeyID: "id", AccessKeySecret: "s"})
		if err == nil || !strings.Contains(err.Error(), "endpoint") {
			t.Errorf("%s: got %v, want an error about the endpoint", endpoint, err)
		}
	}
}
