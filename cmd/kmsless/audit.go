package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kmsless/kmsless/infra/audit"
	"github.com/kmsless/kmsless/infra/config"
)

// auditCommand runs "audit verify" or "audit query" and returns the exit
// status: 0 when every chain checks, 1 when a problem was found, 2 on misuse.
func auditCommand(sub string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if sub != "verify" && sub != "query" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var q audit.Query
	var since, until string
	fs.StringVar(&q.Key, "key", "", "key ID or ARN")
	fs.StringVar(&q.Alias, "alias", "", "alias name (alias/…)")
	fs.StringVar(&q.Principal, "principal", "", "principal name or AccessKeyId")
	fs.StringVar(&q.Partition, "partition", "", "partition ID")
	fs.StringVar(&q.Grant, "grant", "", "grant ID: its creation, every request it allowed, its end")
	fs.StringVar(&q.Request, "request", "", "request ID (requestId), as GetKeyLastUsage's KmsRequestId")
	fs.StringVar(&q.Action, "action", "", "action (eventName), e.g. Decrypt")
	fs.StringVar(&q.ErrorCode, "error", "", "error code; OK for the requests that succeeded")
	fs.StringVar(&since, "since", "", "from this time: RFC 3339, or a duration back from now (7d, 36h)")
	fs.StringVar(&until, "until", "", "before this time: RFC 3339, or a duration back from now")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	now := time.Now()
	var err error
	if q.Since, err = when(since, now); err != nil {
		fmt.Fprintf(stderr, "-since: %v\n", err)
		return 2
	}
	if q.Until, err = when(until, now); err != nil {
		fmt.Fprintf(stderr, "-until: %v\n", err)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "name at least one audit log file (- for standard input)")
		return 2
	}
	set, err := config.Read(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless: %v\n", err)
		return 2
	}
	key, err := config.AuditKey(context.Background(), set)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless: the chains are keyed by the root key: %v\n", err)
		return 2
	}
	show := sub == "query" || q != (audit.Query{})
	v := audit.NewVerifier(key)
	clear(key) // the verifier keeps the HMAC's states, not the key
	var table *audit.Table
	enc := json.NewEncoder(stdout)
	if show {
		if !*asJSON {
			table = audit.NewTable(stdout)
		}
		v.Each = func(rec audit.Record) {
			if !q.Match(rec) {
				return
			}
			if table != nil {
				table.Add(rec)
			} else {
				_ = enc.Encode(rec)
			}
		}
	}
	for _, name := range fs.Args() {
		if err := readFile(v, name); err != nil {
			fmt.Fprintf(stderr, "kmsless: %v\n", err)
			return 2
		}
	}
	if table != nil {
		_ = table.Flush()
	}
	problems, chains, records := v.Result()
	report := stderr
	if !show {
		report = stdout
	}
	for _, p := range problems {
		fmt.Fprintln(report, p)
	}
	for _, c := range chains {
		fmt.Fprintf(report, "instance %s: %d records, %d to %d, last %s (hmac %s)\n", c.Instance, c.Records, c.First, c.Last, c.LastAt, c.LastHMAC)
	}
	if len(problems) > 0 {
		fmt.Fprintf(report, "FAILED: %d problems in %d records\n", len(problems), records)
		return 1
	}
	fmt.Fprintf(report, "OK: %d records in %d chains verified\n", records, len(chains))
	return 0
}

func readFile(v *audit.Verifier, name string) error {
	if name == "-" {
		return v.Read("stdin", os.Stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return v.Read(name, f)
}

// when reads a time: RFC 3339, or a duration before now ("7d", "36h").
func when(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 7d or 36h", s)
	}
	return now.Add(-d), nil
}
