// Command invoke builds one function for this machine, runs it under the AWS
// Lambda Runtime Interface Emulator (or, with -platform fc, the project's
// Function Compute emulator) and invokes it with an event file, printing the
// response. It runs against a workspace in .kmsless/invoke: a root key, a
// principals file whose principal re-signs HTTP trigger events, and a store
// holding the samples' demo key alias/kmsless-demo.
//
//	go run ./scripts/invoke -fn decrypt -event events/aws/direct-decrypt.json
//	go run ./scripts/invoke -fn api -event events/fc/http-encrypt-form.json -platform fc
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kmsless/kmsless/infra/platform/emulate"
)

func main() {
	fn := flag.String("fn", "", "function folder under functions/ (api, decrypt, …)")
	event := flag.String("event", "", "event file, such as events/aws/direct-decrypt.json")
	plat := flag.String("platform", "lambda", "lambda (aws-lambda-rie) or fc (the project's FC emulator)")
	dir := flag.String("workspace", ".kmsless/invoke", "workspace directory")
	resign := flag.Bool("resign", true, "re-sign HTTP trigger events with the workspace principal")
	verbose := flag.Bool("v", false, "print the emulator's and the function's logs")
	flag.Parse()
	if *fn == "" || *event == "" {
		fmt.Fprintln(os.Stderr, "usage: invoke -fn FUNCTION -event FILE [-platform lambda|fc]")
		os.Exit(2)
	}
	if err := run(*fn, *event, *plat, *dir, *resign, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "invoke: %v\n", err)
		os.Exit(1)
	}
}

func run(fn, eventFile, plat, dir string, resign, verbose bool) error {
	ctx := context.Background()
	root, err := emulate.ModuleRoot(".")
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "functions", fn, "main.go")); err != nil {
		return fmt.Errorf("no function %q: pick a folder of functions/", fn)
	}
	event, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	ws, err := emulate.Prepare(ctx, filepath.Join(root, dir))
	if err != nil {
		return err
	}
	if resign {
		if event, err = emulate.Resign(event, ws.Caller, time.Now()); err != nil {
			return fmt.Errorf("re-signing %s: %w", eventFile, err)
		}
	}
	bin := filepath.Join(root, "dist", "invoke", fn, "bootstrap")
	if err := emulate.Build(ctx, root, "./functions/"+fn, bin, runtime.GOOS, runtime.GOARCH); err != nil {
		return err
	}
	var r emulate.Runner
	switch plat {
	case "lambda":
		rie, err := emulate.FindRIE(ctx)
		if err != nil {
			return err
		}
		r, err = emulate.Lambda(ctx, rie, bin, ws.Env())
		if err != nil {
			return err
		}
	case "fc":
		if r, err = emulate.FC(ctx, fn, bin, ws.Env(), 60*time.Second); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-platform must be lambda or fc, not %q", plat)
	}
	out, err := r.Invoke(ctx, event)
	stopErr := r.Stop()
	if verbose {
		fmt.Fprint(os.Stderr, r.Logs())
	}
	if err != nil {
		return fmt.Errorf("%w\n%s", err, r.Logs())
	}
	if out.Failed() {
		fmt.Printf("function error %s: %s\n", out.ErrorType, out.ErrorMessage)
	} else {
		fmt.Println(pretty(out.Payload))
	}
	fmt.Fprintf(os.Stderr, "(%s, init %s, round trip %s)\n", plat, r.InitDuration().Round(10*time.Microsecond), out.RoundTrip.Round(10*time.Microsecond))
	return stopErr
}

// pretty indents JSON, and the JSON body of an HTTP trigger response too.
func pretty(b []byte) string {
	var v map[string]any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	if body, ok := v["body"].(string); ok {
		var inner any
		if json.Unmarshal([]byte(body), &inner) == nil {
			v["body"] = inner
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return out.String()
}
