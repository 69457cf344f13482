package trigger

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kmsless/kmsless/internal/strictjson"
)

// Every sample HTTP trigger event reads as encoding/json read it before
// strictjson took over: the stricter rules refuse events no trigger sends, and
// change nothing in those it does.
func TestDecodeReadsEverySampleAsEncodingJSONDid(t *testing.T) {
	read := 0
	for name, b := range sampleEvents(t) {
		k, err := Detect(b)
		if err != nil {
			continue // a partition batch, read by infra/provision
		}
		var was, is any
		switch k {
		case RESTAPI:
			was, is = new(events.APIGatewayProxyRequest), new(events.APIGatewayProxyRequest)
		case HTTPAPI:
			was, is = new(events.APIGatewayV2HTTPRequest), new(events.APIGatewayV2HTTPRequest)
		case FCHTTP:
			was, is = new(fcHTTPEvent), new(fcHTTPEvent)
		default:
			continue
		}
		if err := json.Unmarshal(b, was); err != nil {
			t.Fatalf("%s: encoding/json: %v", name, err)
		}
		if err := strictjson.Unmarshal(b, is); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(was, is) {
			t.Errorf("%s reads differently:\nencoding/json %+v\ndecode        %+v", name, was, is)
		}
		read++
	}
	if read < 6 {
		t.Fatalf("only %d HTTP trigger samples under events/", read)
	}
}
