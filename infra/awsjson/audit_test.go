package awsjson_test

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/edge"
	"github.com/kmsless/kmsless/internal/syncbuf"
)

// Sign's and Verify's audit records keep the MessageType the caller sent
// (RAW when it sent none), as CloudTrail's do: core is handed a digest
// either way, so without it a message the service hashed and a digest the
// caller made would leave the same record.
func TestSignAndVerifyRecordTheirMessageType(t *testing.T) {
	var trail syncbuf.Buffer
	chainKey := []byte("0123456789abcdef0123456789abcdef")
	ed := edge.New(nil)
	e := newEnv(t, func(s *setup) { s.edge = ed })
	ed.Record(audit.New(&trail, chainKey), e.kms, nil)
	id, err := signingKey(types.KeySpecEccNistP256)(e.aws)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("the message")
	digest := sha256.Sum256(msg)
	sent := []struct {
		mt   types.MessageType
		body []byte
		want string
	}{{"", msg, "RAW"}, {types.MessageTypeRaw, msg, "RAW"}, {types.MessageTypeDigest, digest[:], "DIGEST"}}
	var want []string
	for _, s := range sent {
		sig, err := e.aws.Sign(bg, &kms.SignInput{KeyId: id, Message: s.body, MessageType: s.mt, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		if err != nil {
			t.Fatalf("Sign %q: %v", s.mt, err)
		}
		v, err := e.aws.Verify(bg, &kms.VerifyInput{KeyId: id, Message: s.body, MessageType: s.mt, Signature: sig.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		if err != nil || !v.SignatureValid {
			t.Fatalf("Verify %q: %v", s.mt, err)
		}
		want = append(want, "AsymmetricSign "+s.want, "AsymmetricVerify "+s.want)
	}
	var got []string
	v := audit.NewVerifier(chainKey)
	v.Each = func(r audit.Record) {
		if strings.HasPrefix(r.EventName, "Asymmetric") {
			mt, _ := r.RequestParameters["messageType"].(string)
			got = append(got, r.EventName+" "+mt)
		}
	}
	if err := v.Read("trail", strings.NewReader(trail.String())); err != nil {
		t.Fatal(err)
	}
	if problems, _, _ := v.Result(); len(problems) > 0 {
		t.Fatalf("the trail does not verify: %v", problems)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("records %q, want %q", got, want)
	}
}
