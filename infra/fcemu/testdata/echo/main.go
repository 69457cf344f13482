// Command echo is a Function Compute function on fc-runtime-go-sdk for the
// emulator's tests: it reports what the runtime told it, fails or sleeps on
// request, waits for other invocations on request, and records its pre-stop
// hook in $ECHO_PRESTOP_FILE.
package main

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fc/messages"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type event struct {
	Fail    string `json:"fail"`
	SleepMS int    `json:"sleepMs"`
	// Together is a number of invocations that must all be in the function at
	// once before any of them answers.
	Together int `json:"together"`
}

var (
	mu      sync.Mutex
	arrived int
	all     = make(chan struct{})
)

type answer struct {
	RequestID      string `json:"requestId"`
	FunctionName   string `json:"functionName"`
	TimeoutSeconds int    `json:"timeoutSeconds"`
	DeadlineMS     int64  `json:"deadlineMs"`
}

func handle(ctx context.Context, e event) (answer, error) {
	if e.Fail != "" {
		return answer{}, messages.InvokeResponse_Error{Type: e.Fail, Message: "asked to fail"}
	}
	time.Sleep(time.Duration(e.SleepMS) * time.Millisecond)
	if e.Together > 0 {
		mu.Lock()
		if arrived++; arrived == e.Together {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-ctx.Done():
			return answer{}, errors.New("the other invocations never arrived")
		}
	}
	fcc, ok := fccontext.FromContext(ctx)
	if !ok {
		return answer{}, errors.New("no FC context")
	}
	dl, _ := ctx.Deadline()
	return answer{RequestID: fcc.RequestID, FunctionName: fcc.Function.Name, TimeoutSeconds: fcc.Function.Timeout, DeadlineMS: dl.UnixMilli()}, nil
}

func main() {
	fc.RegisterPreStopFunction(func(context.Context) {
		_ = os.WriteFile(os.Getenv("ECHO_PRESTOP_FILE"), []byte("pre-stop ran"), 0o600)
	})
	fc.Start(handle)
}
