// Command hello-fc is the floor of the Function Compute per-invocation
// benchmark: the smallest Go function on fc-runtime-go-sdk, answering any
// event with a constant.
package main

import (
	"context"
	"encoding/json"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
)

func main() {
	fc.Start(func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`"hello"`), nil
	})
}
