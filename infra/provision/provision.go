package provision

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/edge"
)

// Outcomes of one partition.
const (
	StatusCreated        = "Created"
	StatusAlreadyPresent = "AlreadyPresent"
	StatusFailed         = "Failed"
)

// Defaults for Options fields left zero.
const (
	DefaultWorkers      = 8
	DefaultThrottleWait = 30 * time.Second
)

// DeadlineMargin is how long before the invocation's deadline provisioning
// stops: no partition starts, or waits out Throttling, past it, and calls
// still in flight are cancelled. What is left of the margin is for the
// report: failing the partitions not reached (one audit record each),
// encoding the answer and posting it to the runtime API, all before Lambda
// says "Task timed out" or Function Compute refuses a late result (both then
// redeliver the whole batch, the messages that succeeded too). Cancelled
// calls return within milliseconds and the post is a loopback request, so a
// second is ample for any batch a trigger delivers, and is little of the
// provisioner's 60 s timeout. A function given less time keeps a quarter of
// what is left when Run starts, so that it still provisions something.
const DeadlineMargin = time.Second

// Result is the outcome for one partition. A failure carries the KMS error code
// and message, which never hold key material.
type Result struct {
	PartitionId  string `json:"PartitionId"`
	Status       string `json:"Status"`
	KeyId        string `json:"KeyId,omitempty"`
	KeyVersionId string `json:"KeyVersionId,omitempty"`
	Code         string `json:"Code,omitempty"`
	Message      string `json:"Message,omitempty"`
	// err keeps a failure's internal cause for the service's log.
	err error
}

// Counts sums outcomes.
type Counts struct {
	Created        int `json:"Created"`
	AlreadyPresent int `json:"AlreadyPresent"`
	Failed         int `json:"Failed"`
}

func (c *Counts) add(r Result) {
	switch r.Status {
	case StatusCreated:
		c.Created++
	case StatusAlreadyPresent:
		c.AlreadyPresent++
	default:
		c.Failed++
	}
}

// Report answers a direct invocation: one result per partition, in the order
// asked, and the counts.
type Report struct {
	Results []Result `json:"Results"`
	Counts
}

// Options configure a Provisioner. KMS and Caller are required.
type Options struct {
	KMS *core.Service
	// Caller is the principal provisioning runs as; it needs
	// kms:GenerateDataKeyWithoutPlaintext on the partition keys.
	Caller *core.Principal
	// DefaultKeyID is the CMK for partitions that name none (config's
	// PartitionKeyID).
	DefaultKeyID string
	// AllowedKeys are the keys a partition may name, spelled as the request
	// spells them (config's PartitionKeys); empty means DefaultKeyID alone.
	// Otherwise the first event for a partition could bind it to any key in
	// the service, one its sender can decrypt.
	AllowedKeys []string
	// Workers bounds how many partitions of one event are provisioned at once
	// (default 8).
	Workers int
	// ThrottleWait bounds how long one partition waits out Throttling, in
	// Retry-After steps, before it fails (default 30 s).
	ThrottleWait time.Duration
	// Logger receives one line per failed partition and one per event
	// (default: discard).
	Logger *slog.Logger
	// Edge records each partition handled, and each message that could not
	// be read, as one request (default: one logging to Logger).
	Edge *edge.Edge
}

// Provisioner provisions partitions from events.
type Provisioner struct {
	kms          *core.Service
	caller       *core.Principal
	defaultKey   string
	allowed      []string
	workers      int
	throttleWait time.Duration
	log          *slog.Logger
	edge         *edge.Edge
}

// New returns a Provisioner. It panics if opts.KMS or opts.Caller is nil: that
// is a wiring mistake, not a runtime condition.
func New(opts Options) *Provisioner {
	if opts.KMS == nil || opts.Caller == nil {
		panic("provision: Options.KMS and Options.Caller are required")
	}
	p := &Provisioner{kms: opts.KMS, caller: opts.Caller, defaultKey: opts.DefaultKeyID, allowed: opts.AllowedKeys,
		workers: opts.Workers, throttleWait: opts.ThrottleWait, log: opts.Logger, edge: opts.Edge}
	if len(p.allowed) == 0 {
		p.allowed = []string{p.defaultKey}
	}
	if p.workers <= 0 {
		p.workers = DefaultWorkers
	}
	if p.throttleWait <= 0 {
		p.throttleWait = DefaultThrottleWait
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.edge == nil {
		p.edge = edge.New(p.log)
	}
	return p
}

// DefaultKeyID is the CMK used for partitions that name none.
func (p *Provisioner) DefaultKeyID() string { return p.defaultKey }

// Allows reports whether partitions may be provisioned under keyID, spelled as
// a request spells it: whether it is one of the AllowedKeys.
func (p *Provisioner) Allows(keyID string) bool { return slices.Contains(p.allowed, keyID) }

// Run provisions reqs with at most Workers at a time and returns their results
// in order. progress, if not nil, is called once per finished partition, never
// concurrently. A request that failed to decode (Err set) fails without
// reaching the KMS. Each partition is one request at the edge, whose ID is the
// invocation's with the partition's place in it ("…/3").
//
// When ctx has a deadline, Run stops DeadlineMargin before it (or a quarter
// of the time left, when that is less): partitions not provisioned by then
// fail with ServiceUnavailableTemporary (or Throttling, when they were
// waiting it out), so the caller still has time to report them. A partition is either stored or failed, never reported
// provisioned before its record is.
func (p *Provisioner) Run(ctx context.Context, reqs []Request, progress func(Result)) Report {
	rep := Report{Results: make([]Result, len(reqs))}
	invocation := edge.RequestID(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		margin := min(DeadlineMargin, time.Until(deadline)/4)
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-margin))
		defer cancel()
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(p.workers)
	for i, r := range reqs {
		g.Go(func() error {
			res := p.handle(ctx, invocation+"/"+strconv.Itoa(i+1), r)
			rep.Results[i] = res
			if progress != nil {
				mu.Lock()
				progress(res)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	for _, r := range rep.Results {
		rep.add(r)
	}
	return rep
}

// handle provisions one partition as a request of its own at the edge, which
// records it.
func (p *Provisioner) handle(ctx context.Context, id string, r Request) Result {
	x := p.edge.Begin(ctx)
	x.ID, x.Entry, x.Action, x.MessageID = id, "event", audit.ProvisionPartition, r.messageID
	x.Principal, x.AccessKeyID = p.caller.Name, p.caller.AccessKeyID
	x.Params = core.Params{"PartitionId": r.PartitionID, "KeyId": r.KeyID}
	if len(r.EncryptionContext) > 0 {
		if b, err := json.Marshal(r.EncryptionContext); err == nil {
			x.Params["EncryptionContext"] = string(b)
		}
	}
	r.PartitionRequest.RequestID = id
	var res Result
	_, ke := p.edge.Run(ctx, x, func() (any, error) {
		res = p.one(ctx, r)
		if res.Status == StatusFailed {
			return nil, res.err
		}
		x.Result = core.Partition{ID: res.PartitionId, KeyID: res.KeyId, KeyVersionID: res.KeyVersionId}
		return nil, nil
	})
	if ke != nil && res.Status != StatusFailed {
		res = failed(r.PartitionID, ke)
	}
	return res
}

// unreadable records a message that named no partition it could read.
func (p *Provisioner) unreadable(ctx context.Context, id string, m Message) {
	x := p.edge.Begin(ctx)
	x.ID, x.Entry, x.Action, x.MessageID = id, "event", audit.ProvisionPartition, m.ID
	x.Principal, x.AccessKeyID = p.caller.Name, p.caller.AccessKeyID
	_, _ = p.edge.Run(ctx, x, func() (any, error) { return nil, m.Err })
}

// one provisions a partition, waiting out Throttling for up to ThrottleWait,
// and never past ctx's deadline, so a bulk run keeps to the caller's QPS
// instead of failing past it.
func (p *Provisioner) one(ctx context.Context, r Request) Result {
	if r.Err != nil {
		return failed(r.PartitionID, r.Err)
	}
	if !p.Allows(r.KeyID) {
		return failed(r.PartitionID, core.Errorf(core.CodeNoPermission,
			"The key %q is not one partitions may be provisioned under; the allowed keys are set by KMS_PARTITION_KEYS.", bound(r.KeyID)))
	}
	// The ARNs the AWS protocol names keys by read as it reads them; core
	// reads the rest, acs: ARNs included.
	keyID, err := awsjson.KeyRef(p.kms, r.KeyID)
	if err != nil {
		return failed(r.PartitionID, err)
	}
	req := r.PartitionRequest
	req.KeyID = keyID
	deadline := time.Now().Add(p.throttleWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		if ctx.Err() != nil {
			return failed(r.PartitionID, ended())
		}
		rec, created, err := p.kms.ProvisionPartition(ctx, p.caller, req)
		if err != nil && ctx.Err() != nil {
			// Most likely cancelled on the way: the conditional create
			// either stored the record or not, and a redelivery finds out
			// which.
			return failed(r.PartitionID, ended())
		}
		if err == nil {
			res := Result{PartitionId: rec.ID, Status: StatusAlreadyPresent, KeyId: rec.KeyID, KeyVersionId: rec.KeyVersionID}
			if created {
				res.Status = StatusCreated
			}
			return res
		}
		ke := core.AsError(err)
		if ke.Code != core.CodeThrottling || !time.Now().Add(ke.RetryAfter).Before(deadline) {
			return failed(r.PartitionID, err)
		}
		wait := min(max(ke.RetryAfter, time.Millisecond), time.Second)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// ended fails a partition the invocation had no time left for.
func ended() error {
	return core.Errorf(core.CodeServiceUnavailableTemporary, "The invocation ended before the partition was provisioned.")
}

func failed(id string, err error) Result {
	ke := core.AsError(err)
	return Result{PartitionId: id, Status: StatusFailed, Code: ke.Code, Message: ke.Message, err: ke}
}

// Handle provisions the partitions of one trigger payload and answers as its
// source expects:
//
//   - Direct: a Report with every result and the counts.
//   - SQS: an SQSEventResponse whose batchItemFailures name exactly the
//     messages with a failed partition, so only those are redelivered (the
//     event source mapping needs ReportBatchItemFailures).
//   - SNS, EventBridge, MNS queue and topic, Alibaba EventBridge: the counts,
//     or an error when any partition failed, so the platform retries the event
//     and finally dead-letters it. Retrying is safe: provisioned partitions
//     answer AlreadyPresent and mint nothing.
//
// A payload of no known shape is an InvalidParameter error.
func (p *Provisioner) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	ev, err := Decode(raw, p.defaultKey)
	if err != nil {
		p.log.WarnContext(ctx, "event not decoded", "code", core.AsError(err).Code, "reason", core.AsError(err).Message)
		p.unreadable(ctx, edge.RequestID(ctx), Message{Err: err})
		return nil, err
	}
	var reqs []Request
	owner := []int{} // message index of each request
	for mi, m := range ev.Messages {
		for _, r := range m.Requests {
			r.messageID = m.ID
			reqs = append(reqs, r)
			owner = append(owner, mi)
		}
	}
	rep := p.Run(ctx, reqs, nil)
	invocation := edge.RequestID(ctx)
	for mi, m := range ev.Messages {
		if m.Err != nil {
			p.unreadable(ctx, invocation+"/message-"+strconv.Itoa(mi+1), m)
		}
	}

	msgFailed := make([]bool, len(ev.Messages))
	for mi, m := range ev.Messages {
		if m.Err != nil {
			msgFailed[mi] = true
			rep.Failed++
			p.logFailure(ctx, ev.Source, m.ID, "", m.Err)
		}
	}
	for i, res := range rep.Results {
		if res.Status == StatusFailed {
			msgFailed[owner[i]] = true
			p.logFailure(ctx, ev.Source, ev.Messages[owner[i]].ID, res.PartitionId, res.err)
		}
	}
	p.log.InfoContext(ctx, "partitions provisioned", "source", string(ev.Source), "messages", len(ev.Messages),
		"created", rep.Created, "alreadyPresent", rep.AlreadyPresent, "failed", rep.Failed)

	switch ev.Source {
	case Direct:
		if ev.Messages[0].Err != nil {
			return nil, ev.Messages[0].Err
		}
		return rep, nil
	case SQS:
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		for mi, f := range msgFailed {
			if f {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Messages[mi].ID})
			}
		}
		return resp, nil
	}
	if rep.Failed > 0 {
		return nil, batchError(rep, ev, msgFailed)
	}
	return rep.Counts, nil
}

// batchError reports a partly failed event with the code of its first failure.
func batchError(rep Report, ev Event, msgFailed []bool) error {
	first := (*core.Error)(nil)
	for mi, m := range ev.Messages {
		if m.Err != nil && msgFailed[mi] {
			first = core.AsError(m.Err)
			break
		}
	}
	if first == nil {
		for _, r := range rep.Results {
			if r.Status == StatusFailed {
				first = &core.Error{Code: r.Code, Message: r.Message}
				break
			}
		}
	}
	failedMsgs := 0
	for _, f := range msgFailed {
		if f {
			failedMsgs++
		}
	}
	return core.Errorf(first.Code, "%d of %d messages were not fully provisioned (%d created, %d already present, %d failed); first failure: %s",
		failedMsgs, len(ev.Messages), rep.Created, rep.AlreadyPresent, rep.Failed, first.Message)
}

// logFailure records why a message or partition failed. Core's messages and
// causes carry no key material; the IDs are the event's own and bounded here.
func (p *Provisioner) logFailure(ctx context.Context, src Source, messageID, partitionID string, err error) {
	ke := core.AsError(err)
	attrs := []slog.Attr{slog.String("source", string(src)), slog.String("messageId", bound(messageID)),
		slog.String("partitionId", bound(partitionID)), slog.String("code", ke.Code), slog.String("reason", ke.Message)}
	// A server fault's cause is logged once, by the edge that ran the
	// partition; this line says which message and partition it cost.
	p.log.LogAttrs(ctx, slog.LevelWarn, "partition not provisioned", attrs...)
}

// bound keeps a caller-chosen ID from flooding a log line.
func bound(s string) string {
	const max = 160
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
