package provision

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	fcevents "github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aws/aws-lambda-go/events"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/internal/strictjson"
)

// Source is the kind of trigger an event came from. It decides how the outcome
// is reported back (see Provisioner.Handle).
type Source string

// The sources Decode recognizes.
const (
	// Direct is an invocation with {"Partitions":[…]} or one {"PartitionId":…}.
	Direct Source = "direct"
	// SQS is an Amazon SQS batch (event source mapping).
	SQS Source = "aws:sqs"
	// SNS is an Amazon SNS notification.
	SNS Source = "aws:sns"
	// EventBridge is an Amazon EventBridge event of detail-type EventType.
	EventBridge Source = "aws:events"
	// MNSQueue is an Alibaba MNS queue trigger: one CloudEvent of type
	// mns:Queue:SendMessage, or a JSON array of them when batch push is on.
	MNSQueue Source = "mns:queue"
	// MNSTopic is an Alibaba MNS topic trigger (JSON or STREAM format).
	MNSTopic Source = "mns:topic"
	// CloudEvents is an Alibaba EventBridge custom event of type EventType, alone
	// or in a batch.
	CloudEvents Source = "acs:eventbridge"
)

// EventType is the detail-type (Amazon EventBridge) and type (Alibaba
// EventBridge) of a partition-created event; its detail (data) is one partition
// or {"Partitions":[…]}. Rules filter on it; the source is the control plane's
// own and is not checked.
const EventType = "Partition Created"

// mnsQueueType is the CloudEvents type of an MNS queue message.
const mnsQueueType = "mns:Queue:SendMessage"

// Event is a decoded trigger payload: the messages it delivered.
type Event struct {
	Source   Source
	Messages []Message
}

// Message is one delivered message: its ID as the source names it (what SQS
// batchItemFailures report) and the partitions it asks for. Err is set, and
// Requests empty, when the message could not be read at all.
type Message struct {
	ID       string
	Requests []Request
	Err      error
}

// Request is one partition a message asks for, or why that entry could not be
// read (Err, a *core.Error); the rest of its message still counts.
type Request struct {
	core.PartitionRequest
	Err error
	// messageID is the ID of the message the request came in, for its record.
	messageID string
}

// maxNesting bounds envelopes inside envelopes (SNS inside SQS, EventBridge
// inside SQS, base64 inside MNS): real deliveries nest at most two deep.
const maxNesting = 3

func invalid(format string, args ...any) *core.Error {
	return core.Errorf(core.CodeInvalidParameter, format, args...)
}

// Decode reads a trigger payload. defaultKeyID fills in partitions that name no
// KeyId. Every part of it is read by strictjson's rules, so no filter, rule or
// control plane that read the payload first can have read it another way: the
// envelopes' members by their exact names, as the sources send them and as
// Decode tells the sources apart, and a partition's, which its sender writes,
// in any case. A payload whose shape matches no source is an error (*core.Error); a
// message or entry that cannot be read fails on its own inside the Event.
func Decode(raw []byte, defaultKeyID string) (Event, error) {
	d := decoder{defaultKey: defaultKeyID}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		return d.cloudEventBatch(raw)
	}
	top, ok := object(raw)
	if !ok {
		return Event{}, invalid("The event is not a JSON object or array, or it names a member twice or holds invalid UTF-8.")
	}
	switch {
	case top["Records"] != nil:
		return d.records(raw, top["Records"])
	case top["detail-type"] != nil:
		var ev events.EventBridgeEvent
		if err := strictjson.Unmarshal(raw, &ev); err != nil {
			return Event{}, invalid("The EventBridge event is malformed.")
		}
		return Event{Source: EventBridge, Messages: []Message{d.eventBridge(ev)}}, nil
	case top["specversion"] != nil:
		m, src := d.cloudEvent(raw)
		return Event{Source: src, Messages: []Message{m}}, nil
	case top["TopicOwner"] != nil && top["Message"] != nil:
		return Event{Source: MNSTopic, Messages: []Message{d.mnsTopic(raw)}}, nil
	case top["body"] != nil && top["attrs"] != nil:
		// An MNS topic trigger in STREAM format with message attributes.
		var s struct {
			Body string `json:"body"`
		}
		if err := strictjson.Unmarshal(raw, &s); err != nil {
			return Event{}, invalid("The MNS topic message is malformed.")
		}
		return Event{Source: MNSTopic, Messages: []Message{d.message("", []byte(s.Body), true)}}, nil
	}
	// A direct invocation. partitionsOf fails only on two spellings of one
	// name, which its message reports.
	if p, err := partitionsOf(raw); err != nil || p.Partitions != nil || p.PartitionId != nil {
		return Event{Source: Direct, Messages: []Message{d.message("", raw, false)}}, nil
	}
	return Event{}, invalid("The event is not a partition-created event of any supported trigger: it has no Partitions, PartitionId, Records, detail-type or specversion.")
}

type decoder struct {
	defaultKey string
}

// object reads a JSON object's top level, keeping its values raw.
func object(b []byte) (map[string]json.RawMessage, bool) {
	if len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := strictjson.Unmarshal(b, &m); err != nil {
		return nil, false
	}
	return m, true
}

// named is what a message body names its partitions by: a list or one.
type named struct {
	Partitions  json.RawMessage
	PartitionId json.RawMessage
}

// partitionsOf reads the members a body names its partitions by, in any case.
func partitionsOf(b []byte) (named, error) {
	var p named
	err := strictjson.UnmarshalAnyCase(b, &p)
	return p, err
}

func (d decoder) records(raw, records []byte) (Event, error) {
	var rs []map[string]json.RawMessage
	if err := strictjson.Unmarshal(records, &rs); err != nil || len(rs) == 0 {
		return Event{}, invalid("The event's Records are not a non-empty list.")
	}
	var sqsSource, snsSource string
	_ = strictjson.Unmarshal(rs[0]["eventSource"], &sqsSource)
	_ = strictjson.Unmarshal(rs[0]["EventSource"], &snsSource)
	switch {
	case sqsSource == "aws:sqs":
		var ev events.SQSEvent
		if err := strictjson.Unmarshal(raw, &ev); err != nil {
			return Event{}, invalid("The SQS event is malformed.")
		}
		out := Event{Source: SQS}
		for _, r := range ev.Records {
			out.Messages = append(out.Messages, d.message(r.MessageId, []byte(r.Body), false))
		}
		return out, nil
	case snsSource == "aws:sns":
		var ev events.SNSEvent
		if err := strictjson.Unmarshal(raw, &ev); err != nil {
			return Event{}, invalid("The SNS event is malformed.")
		}
		out := Event{Source: SNS}
		for _, r := range ev.Records {
			out.Messages = append(out.Messages, d.message(r.SNS.MessageID, []byte(r.SNS.Message), false))
		}
		return out, nil
	}
	return Event{}, invalid("The event's Records come from an unsupported source; this function takes aws:sqs and aws:sns.")
}

func (d decoder) eventBridge(ev events.EventBridgeEvent) Message {
	if ev.DetailType != EventType {
		return Message{ID: ev.ID, Err: invalid("The EventBridge event's detail-type is not %q.", EventType)}
	}
	return d.message(ev.ID, ev.Detail, false)
}

// cloudEvent is the CloudEvents envelope Alibaba EventBridge (and the MNS queue
// trigger built on it) delivers.
type cloudEvent struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (d decoder) cloudEvent(raw []byte) (Message, Source) {
	var ce cloudEvent
	if err := strictjson.Unmarshal(raw, &ce); err != nil {
		return Message{Err: invalid("The CloudEvent is malformed.")}, CloudEvents
	}
	switch ce.Type {
	case mnsQueueType:
		var ev fcevents.MnsQueueEvent
		if err := strictjson.Unmarshal(raw, &ev); err != nil || ev.Data == nil || ev.Data.MessageBody == nil {
			return Message{ID: ce.ID, Err: invalid("The MNS queue message's data is malformed.")}, MNSQueue
		}
		id := ce.ID
		if ev.Data.MessageID != nil && *ev.Data.MessageID != "" {
			id = *ev.Data.MessageID
		}
		// The trigger hands the body over raw or base64-encoded (its
		// IsBase64Decode setting); both are accepted.
		return d.message(id, []byte(*ev.Data.MessageBody), true), MNSQueue
	case EventType:
		return d.message(ce.ID, ce.Data, false), CloudEvents
	}
	return Message{ID: ce.ID, Err: invalid("The CloudEvent's type is neither %q nor %q.", EventType, mnsQueueType)}, CloudEvents
}

func (d decoder) cloudEventBatch(raw []byte) (Event, error) {
	var items []json.RawMessage
	if err := strictjson.Unmarshal(raw, &items); err != nil || len(items) == 0 {
		return Event{}, invalid("The event is not a non-empty JSON array of CloudEvents.")
	}
	out := Event{Source: CloudEvents}
	for i, it := range items {
		if top, ok := object(it); !ok || top["specversion"] == nil {
			out.Messages = append(out.Messages, Message{Err: invalid("Item %d of the batch is not a CloudEvent.", i)})
			continue
		}
		m, src := d.cloudEvent(it)
		if i == 0 {
			out.Source = src
		}
		out.Messages = append(out.Messages, m)
	}
	return out, nil
}

// mnsTopic reads an MNS topic trigger's JSON-format notification. The FC SDK's
// MnsTopicEvent is not used: it types PublishTime as a time, while the trigger
// sends epoch milliseconds, so real notifications fail to decode into it.
func (d decoder) mnsTopic(raw []byte) Message {
	var n struct {
		MessageID string `json:"MessageId"`
		Message   string `json:"Message"`
	}
	if err := strictjson.Unmarshal(raw, &n); err != nil {
		return Message{Err: invalid("The MNS topic notification is malformed.")}
	}
	return d.message(n.MessageID, []byte(n.Message), true)
}

// message reads one message body into its partition requests.
func (d decoder) message(id string, body []byte, base64OK bool) Message {
	reqs, err := d.body(body, base64OK, 0)
	if err != nil {
		return Message{ID: id, Err: err}
	}
	return Message{ID: id, Requests: reqs}
}

// body reads a message body: one partition, {"Partitions":[…]}, a bare list of
// partitions, or one of those inside an SNS notification, an EventBridge event
// or a CloudEvent (a topic or bus fanned out into a queue), or base64 where the
// source allows it.
func (d decoder) body(b []byte, base64OK bool, depth int) ([]Request, error) {
	if depth > maxNesting {
		return nil, invalid("The message nests envelopes more than %d deep.", maxNesting)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, invalid("The message body is empty.")
	}
	switch b[0] {
	case '[':
		return d.list(b)
	case '{':
	default:
		if base64OK {
			if dec, err := base64.StdEncoding.DecodeString(string(b)); err == nil {
				return d.body(dec, false, depth+1)
			}
		}
		return nil, invalid("The message body is not JSON.")
	}
	p, err := partitionsOf(b)
	if err != nil {
		return nil, invalid("The message body is not valid JSON, or it names a member twice or holds invalid UTF-8.")
	}
	switch {
	case p.Partitions != nil:
		return d.list(p.Partitions)
	case p.PartitionId != nil:
		return []Request{d.entry(b)}, nil
	}
	obj, ok := object(b)
	if !ok {
		return nil, invalid("The message body is not valid JSON.")
	}
	var s string
	switch {
	case obj["Type"] != nil && obj["Message"] != nil && strictjson.Unmarshal(obj["Type"], &s) == nil && s == "Notification":
		var n struct{ Message string }
		if err := strictjson.Unmarshal(b, &n); err != nil {
			return nil, invalid("The SNS notification in the message is malformed.")
		}
		return d.body([]byte(n.Message), false, depth+1)
	case obj["detail-type"] != nil && obj["detail"] != nil:
		if strictjson.Unmarshal(obj["detail-type"], &s) != nil || s != EventType {
			return nil, invalid("The EventBridge event in the message is not of detail-type %q.", EventType)
		}
		return d.body(obj["detail"], false, depth+1)
	case obj["specversion"] != nil && obj["data"] != nil:
		if strictjson.Unmarshal(obj["type"], &s) != nil || s != EventType {
			return nil, invalid("The CloudEvent in the message is not of type %q.", EventType)
		}
		return d.body(obj["data"], false, depth+1)
	}
	return nil, invalid("The message has no PartitionId or Partitions.")
}

func (d decoder) list(b []byte) ([]Request, error) {
	var items []json.RawMessage
	if err := strictjson.Unmarshal(b, &items); err != nil {
		return nil, invalid("Partitions must be a list of partition objects.")
	}
	if len(items) == 0 {
		return nil, invalid("Partitions is empty.")
	}
	out := make([]Request, len(items))
	for i, it := range items {
		out[i] = d.entry(it)
	}
	return out, nil
}

// entry reads one partition object. Its failure is its own: the other entries
// of the message are still provisioned.
func (d decoder) entry(b []byte) Request {
	var e struct {
		PartitionId       string
		KeyId             string
		EncryptionContext json.RawMessage
	}
	if err := strictjson.UnmarshalAnyCase(b, &e); err != nil {
		// Name the partition in the report if its ID at least is readable,
		// and named once.
		var id struct{ PartitionId string }
		if strictjson.UnmarshalAnyCase(b, &id) != nil {
			id.PartitionId = ""
		}
		return Request{PartitionRequest: core.PartitionRequest{PartitionID: reported(id.PartitionId)},
			Err: invalid("The partition entry must be an object with string PartitionId and KeyId and an EncryptionContext object, each named once.")}
	}
	r := Request{PartitionRequest: core.PartitionRequest{PartitionID: e.PartitionId, KeyID: e.KeyId}}
	if err := checkPartitionID(e.PartitionId); err != nil {
		r.PartitionID, r.Err = reported(e.PartitionId), err
		return r
	}
	if r.KeyID == "" {
		r.KeyID = d.defaultKey
	}
	ctx, err := decodeContext(e.EncryptionContext)
	if err != nil {
		r.Err = err
		return r
	}
	r.EncryptionContext = ctx
	return r
}

// checkPartitionID refuses an entry's ID by core's rule (ValidPartitionID),
// as core would refuse it, so that an entry that cannot be provisioned fails
// here, on its own, and never reaches the KMS: it costs the provisioner no
// QPS, and its ID is recorded only as reported gives it.
func checkPartitionID(id string) error {
	if id == "" {
		return core.Errorf(core.CodeMissingParameter, "The parameter PartitionId is required.")
	}
	if !core.ValidPartitionID(id) {
		return invalid("The parameter PartitionId is invalid: it must be 1 to %d letters, digits, -, _ or ..", core.MaxPartitionIDLen)
	}
	return nil
}

// reported is the ID a failed entry is reported and recorded by: the sender's
// own when it is one, else a bounded prefix of it (core.ClipText), as a
// refusal quotes what a caller sent.
func reported(id string) string {
	if core.ValidPartitionID(id) {
		return id
	}
	return core.ClipText(id)
}

// decodeContext accepts the context as a JSON object or, as the RPC API passes
// it, a string holding the object's JSON text.
func decodeContext(raw json.RawMessage) (core.EncryptionContext, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := strictjson.Unmarshal(raw, &text); err != nil {
			return nil, invalid("The EncryptionContext is not a valid JSON string.")
		}
	}
	return core.ParseEncryptionContext("EncryptionContext", text)
}
