package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Query selects records; empty fields match everything.
type Query struct {
	Key       string // a key ID or key ARN the request named or touched
	Alias     string // alias/… the request named
	Principal string // principal name or AccessKeyId
	Partition string // partition ID
	Grant     string // grant ID: the grant's creation, every use of it, its end
	Request   string // requestId, as GetKeyLastUsage's KmsRequestId names one
	Action    string // eventName
	ErrorCode string // errorCode; "OK" selects the requests that succeeded
	Since     time.Time
	Until     time.Time
}

// Match reports whether rec answers q.
func (q Query) Match(rec Record) bool {
	if q.Request != "" && rec.RequestID != q.Request {
		return false
	}
	if q.Action != "" && !strings.EqualFold(rec.EventName, q.Action) {
		return false
	}
	switch {
	case q.ErrorCode == "":
	case strings.EqualFold(q.ErrorCode, "OK"):
		if rec.ErrorCode != "" {
			return false
		}
	case !strings.EqualFold(rec.ErrorCode, q.ErrorCode):
		return false
	}
	if q.Principal != "" && rec.UserIdentity.Principal != q.Principal && rec.UserIdentity.AccessKeyID != q.Principal {
		return false
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		t, err := time.Parse(time.RFC3339Nano, rec.EventTime)
		if err != nil || (!q.Since.IsZero() && t.Before(q.Since)) || (!q.Until.IsZero() && !t.Before(q.Until)) {
			return false
		}
	}
	if q.Key != "" && !rec.names("key", q.Key, "keyId") {
		return false
	}
	if q.Alias != "" && !rec.names("alias", q.Alias, "aliasName") {
		return false
	}
	if q.Partition != "" && !rec.names("partition", q.Partition, "partitionId") && !rec.contextNames(q.Partition) {
		return false
	}
	if q.Grant != "" && !rec.namesGrant(q.Grant) {
		return false
	}
	return true
}

// namesGrant reports whether rec made, ended or used grant id: the grantId
// of CreateGrant's response, of RevokeGrant's or RetireGrant's parameters,
// or of the grants that allowed the request (additionalEventData).
func (rec Record) namesGrant(id string) bool {
	if rec.ResponseElements["grantId"] == id || rec.RequestParameters["grantId"] == id {
		return true
	}
	for used := range strings.SplitSeq(rec.AdditionalEventData["grantId"], ",") {
		if used == id {
			return true
		}
	}
	return false
}

// names reports whether rec names the resource of type typ called id (an ID
// or ARN), as a resource, a parameter or a response element.
func (rec Record) names(typ, id, field string) bool {
	for _, r := range rec.Resources {
		if r.Type == typ && (r.ARN == id || strings.HasSuffix(r.ARN, ":"+typ+"/"+strings.TrimPrefix(id, typ+"/"))) {
			return true
		}
	}
	if v, ok := rec.RequestParameters[field].(string); ok && v == id {
		return true
	}
	return rec.ResponseElements[field] == id
}

// contextNames reports whether the request's encryption context binds it to
// partition id: a partition's data key is sealed under {"PartitionId": id},
// so that is how a Decrypt of it shows.
func (rec Record) contextNames(id string) bool {
	switch ctx := rec.RequestParameters["encryptionContext"].(type) {
	case map[string]any: // as read back
		return ctx["PartitionId"] == id
	case json.RawMessage: // as built
		var m map[string]any
		return json.Unmarshal(ctx, &m) == nil && m["PartitionId"] == id
	}
	return false
}

// Resource is the record's first resource ARN, or "".
func (rec Record) Resource() string {
	if len(rec.Resources) == 0 {
		return ""
	}
	return rec.Resources[0].ARN
}

// Table prints records as an aligned table, one per line.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table on w with its header.
func NewTable(w io.Writer) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	fmt.Fprintln(t.tw, "TIME\tACTION\tPRINCIPAL\tRESOURCE\tCONTEXT\tRESULT\tREQUEST ID")
	return t
}

// Add prints one record.
func (t *Table) Add(rec Record) {
	result := "OK"
	if rec.ErrorCode != "" {
		result = rec.ErrorCode
	}
	who := rec.UserIdentity.Principal
	if who == "" {
		who = rec.UserIdentity.AccessKeyID
	}
	ctx := ""
	if c, ok := rec.RequestParameters["encryptionContext"]; ok {
		b, _ := json.Marshal(c)
		ctx = string(b)
	}
	fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rec.EventTime, rec.EventName, orDash(who), orDash(rec.Resource()), orDash(ctx), result, rec.RequestID)
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
