package rpc

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/alibaba"
	"github.com/kmsless/kmsless/infra/edge"
)

// format is the response encoding a request asked for with Format.
type format uint8

const (
	formatJSON format = iota
	formatXML
)

func responseFormat(params url.Values) (format, error) {
	switch v := params.Get("Format"); {
	case v == "", strings.EqualFold(v, "JSON"):
		return formatJSON, nil
	case strings.EqualFold(v, "XML"):
		return formatXML, nil
	}
	return formatJSON, core.Errorf(core.CodeInvalidParameter, "The parameter Format is invalid: it must be JSON or XML.")
}

// formatAsked is the Format the query string asks for, read before (and
// whether or not) the parameters parse, so that the errors found on the way are
// written as the caller asked too. Only the first Format counts; anything but
// XML is JSON, and responseFormat has the last word once the parameters are
// known.
func formatAsked(rawQuery string) format {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k != "Format" {
			if !strings.ContainsAny(k, "%+") {
				continue
			}
			if uk, err := url.QueryUnescape(k); err != nil || uk != "Format" {
				continue
			}
		}
		if uv, err := url.QueryUnescape(v); err == nil && strings.EqualFold(uv, "XML") {
			return formatXML
		}
		return formatJSON
	}
	return formatJSON
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encode renders v into a pooled buffer; the caller returns it with release.
func encode(f format, root string, v any) (*bytes.Buffer, error) {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	var err error
	switch f {
	case formatXML:
		buf.WriteString(xml.Header)
		err = xml.NewEncoder(buf).EncodeElement(v, xml.StartElement{Name: xml.Name{Local: root}})
	default:
		err = json.NewEncoder(buf).Encode(v)
	}
	if err != nil {
		release(buf)
		return nil, err
	}
	return buf, nil
}

// release zeroes a buffer, which may hold a plaintext in base64, and returns
// it to the pool, unless it grew large (a big listing): keeping it would pin
// that memory for good.
func release(buf *bytes.Buffer) {
	clear(buf.Bytes())
	if buf.Cap() <= 64<<10 {
		buffers.Put(buf)
	}
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, x *exchange, ke *core.Error) {
	if ke.Code == core.CodeThrottling {
		w.Header().Set("Retry-After", edge.RetryAfter(ke.RetryAfter))
	}
	body := &alibaba.ErrorBody{RequestId: x.ID, HostId: r.Host, Code: ke.Code, Message: ke.Message}
	buf, err := encode(x.format, "Error", body)
	if err != nil {
		panic(err) // strings only: encoding cannot fail
	}
	defer release(buf)
	write(w, x, alibaba.Status(ke.Code), buf.Bytes())
}

func write(w http.ResponseWriter, x *exchange, status int, body []byte) {
	hd := w.Header()
	if x.format == formatXML {
		hd.Set("Content-Type", xmlContentType)
	} else {
		hd.Set("Content-Type", jsonContentType)
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("X-Acs-Request-Id", x.ID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Content types as Alibaba's gateway sends them; the SDK recognises XML errors
// by this exact value.
const (
	jsonContentType = "application/json;charset=utf-8"
	xmlContentType  = "text/xml;charset=utf-8"
)
