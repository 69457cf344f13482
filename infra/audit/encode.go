package audit

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/kmsless/kmsless/internal/jsonstr"
)

// appendJSON appends rec as a JSON object without its chain fields: the
// fields and names of its tags, empty ones left out alike. It is what
// json.Marshal makes of it (TestEncodingMatchesEncodingJSON), at a third of
// the cost, which is most of what a record costs a request.
func (rec *Record) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"eventVersion":`...)
	dst = jsonstr.Append(dst, rec.EventVersion)
	dst = field(dst, "eventTime", rec.EventTime, true)
	dst = field(dst, "eventSource", rec.EventSource, true)
	dst = field(dst, "eventName", rec.EventName, true)
	dst = field(dst, "requestId", rec.RequestID, true)
	dst = field(dst, "entry", rec.Entry, false)
	dst = field(dst, "messageId", rec.MessageID, false)
	dst = append(dst, `,"userIdentity":{`...)
	n := len(dst)
	dst = field(dst, "principal", rec.UserIdentity.Principal, false)
	dst = field(dst, "accessKeyId", rec.UserIdentity.AccessKeyID, false)
	if len(dst) > n {
		dst = append(dst[:n], dst[n+1:]...) // the first member's comma
	}
	dst = append(dst, '}')
	dst = field(dst, "sourceIPAddress", rec.SourceIPAddress, false)
	dst = field(dst, "userAgent", rec.UserAgent, false)
	dst = appendMembers(dst, "requestParameters", rec.RequestParameters, appendValue)
	dst = appendMembers(dst, "responseElements", rec.ResponseElements, jsonstr.Append)
	dst = appendMembers(dst, "additionalEventData", rec.AdditionalEventData, jsonstr.Append)
	if len(rec.Resources) > 0 {
		dst = append(dst, `,"resources":[`...)
		for i, r := range rec.Resources {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"ARN":`...)
			dst = jsonstr.Append(dst, r.ARN)
			dst = append(dst, `,"type":`...)
			dst = jsonstr.Append(dst, r.Type)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"readOnly":`...)
	dst = strconv.AppendBool(dst, rec.ReadOnly)
	dst = field(dst, "errorCode", rec.ErrorCode, false)
	dst = field(dst, "errorMessage", rec.ErrorMessage, false)
	return append(dst, '}')
}

func field(dst []byte, name, v string, always bool) []byte {
	if v == "" && !always {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return jsonstr.Append(dst, v)
}

// appendMembers appends `,"name":{…}` with m's members in the order of
// their names, as encoding/json sorts a map's keys, each value rendered by
// value; nothing when m is empty.
func appendMembers[V any](dst []byte, name string, m map[string]V, value func([]byte, V) []byte) []byte {
	if len(m) == 0 {
		return dst
	}
	var few [8]string // a record's maps hold a few members
	names := few[:0]
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	dst = append(dst, `,"`+name+`":{`...)
	for i, k := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.Append(dst, k)
		dst = append(dst, ':')
		dst = value(dst, m[k])
	}
	return append(dst, '}')
}

func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return jsonstr.Append(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case json.RawMessage: // compacted when kept
		return append(dst, v...)
	}
	b, _ := json.Marshal(v)
	return append(dst, b...)
}
