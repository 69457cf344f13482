package rpc_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/signtest"
	"github.com/kmsless/kmsless/internal/testclock"
)

// signedAt is a ListKeys request signed by id with the given x-acs-date.
func (e *env) signedAt(id, secret string, at time.Time) *http.Request {
	e.t.Helper()
	r, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	signtest.ACS3(r, "ListKeys", id, secret, at)
	return r
}

func (e *env) wantCode(what string, r rawResponse, code string) {
	e.t.Helper()
	if code == "" {
		if r.status != http.StatusOK {
			e.t.Fatalf("%s: %d %s; want it served", what, r.status, r.body)
		}
		return
	}
	if r.status == http.StatusOK {
		e.t.Fatalf("%s: served; want %s", what, code)
	}
	if got, _ := r.errorBody(e.t.(*testing.T)); got != code {
		e.t.Fatalf("%s: %s (%d); want %s", what, got, r.status, code)
	}
}

// A request dated almost a whole skew ahead stays valid for twice the skew; its
// nonce must be remembered all that time, not only for KMS_NONCE_TTL.
func TestFutureDatedRequestIsAcceptedOnceWhileItsTimestampIsValid(t *testing.T) {
	clk := testclock.New(time.Now().Truncate(time.Second))
	e := newEnv(t, func(s *setup) { s.clock = clk })
	req := e.signedAt(adminID, adminSecret, clk.Now().Add(14*time.Minute+50*time.Second))

	e.wantCode("first send", e.do(req), "")
	e.wantCode("replay", e.do(req), core.CodeSignatureNonceUsed)
	// Past the 15-minute KMS_NONCE_TTL, the timestamp is 1m10s old: valid.
	clk.Advance(16 * time.Minute)
	e.wantCode("replay after the nonce TTL", e.do(req), core.CodeSignatureNonceUsed)
	clk.Advance(13*time.Minute + 40*time.Second) // 10 s before the window closes
	e.wantCode("replay at the end of the window", e.do(req), core.CodeSignatureNonceUsed)
	clk.Advance(20 * time.Second)
	e.wantCode("replay after the window", e.do(req), core.CodeIllegalTimestamp)
}

// A principal allowed nothing, flooding signed requests, fills only its own
// share of the nonce memory: it is then throttled, and everyone else is served.
func TestNonceFloodThrottlesOnlyTheFlooder(t *testing.T) {
	const share = 40
	const floodID, floodSecret = "LTAI5tFlood00000000001", "flood-secret-0123456789"
	clk := testclock.New(time.Now().Truncate(time.Second))
	e := newEnv(t, func(s *setup) {
		s.clock, s.nonceShare = clk, share
		s.principals = append(s.principals, core.Principal{Name: "flood", AccessKeyID: floodID,
			Secret: core.NewSecret(floodSecret), QPS: 1_000_000, Policy: allow([]string{"kms:Decrypt"}, "acs:kms:*:*:key/none")})
	})
	// Requests that fail verification cost nothing.
	for i := range 2 * share {
		e.wantCode("badly signed "+strconv.Itoa(i), e.do(e.signedAt(floodID, "wrong", clk.Now())), core.CodeSignatureDoesNotMatch)
	}
	for i := range share {
		e.wantCode("flood "+strconv.Itoa(i), e.do(e.signedAt(floodID, floodSecret, clk.Now())), core.CodeNoPermission)
	}
	throttled := e.do(e.signedAt(floodID, floodSecret, clk.Now()))
	e.wantCode("flood beyond the share", throttled, core.CodeThrottling)
	if s, err := strconv.Atoi(throttled.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds", throttled.header.Get("Retry-After"))
	}
	for i := range share {
		e.wantCode("admin during the flood "+strconv.Itoa(i), e.do(e.signedAt(adminID, adminSecret, clk.Now())), "")
	}
	// Once the flooder's nonces expire it is served again.
	clk.Advance(31 * time.Minute)
	e.wantCode("flood after its nonces expired", e.do(e.signedAt(floodID, floodSecret, clk.Now())), core.CodeNoPermission)
}
