// Command backfill-partitions provisions a data key for every partition ID in a
// file (one per line; blank lines and # comments skipped), for partitions that
// existed before event-driven provisioning was switched on. Already-provisioned
// partitions are left as they are, so a backfill can be rerun after a failure.
//
//	go run ./cmd/backfill-partitions -file ids.txt [-key alias/partitions] [-workers 8] [-access-key-id ID]
//
// The partitions go under KMS_PARTITION_KEY_ID, which the backfill creates
// when it is an alias that does not exist yet, as provision-partitions does at
// start-up; -key names another key, which must be one of KMS_PARTITION_KEYS.
//
// By default it acts as the provision-partitions function does (allowed
// GenerateDataKeyWithoutPlaintext only); -access-key-id names a principal of
// KMS_PRINCIPALS_FILE instead, with its policy and QPS.
//
// It wires the service from the environment like the functions do, shows
// progress on stderr, prints the final counts on stdout and exits 1 if any
// partition failed.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/provision"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr))
	stop()
	os.Exit(code)
}

// chunk is how many partitions go to the provisioner at once: enough to keep
// every worker busy, few enough that results for huge files are not all held.
const chunk = 4096

// minChunkToGiveUp is the smallest all-failed chunk that stops a backfill: a
// short file of bad IDs is worth finishing and reporting.
const minChunkToGiveUp = 64

// maxShownFailures bounds the failure lines printed; the counts include all.
const maxShownFailures = 50

func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	fs := flag.NewFlagSet("backfill-partitions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "file of partition IDs, one per line (- for standard input)")
	key := fs.String("key", "", "CMK for the partitions, one of KMS_PARTITION_KEYS spelled as listed there (default: KMS_PARTITION_KEY_ID, else alias/partitions; an alias there is created if missing)")
	workers := fs.Int("workers", provision.DefaultWorkers, "partitions provisioned at once")
	accessKeyID := fs.String("access-key-id", "", "principal to act as, from KMS_PRINCIPALS_FILE (default: the provision-partitions function's own, allowed GenerateDataKeyWithoutPlaintext only)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || fs.NArg() > 0 || *workers < 1 {
		fmt.Fprintln(stderr, "usage: backfill-partitions -file ids.txt [-key alias/partitions] [-workers 8] [-access-key-id ID]")
		return 2
	}
	ids, err := readIDs(*file)
	if err != nil {
		fmt.Fprintf(stderr, "backfill-partitions: %v\n", err)
		return 1
	}

	svc, err := config.Load(ctx, config.PrincipalsOptional())
	if err != nil {
		fmt.Fprintf(stderr, "backfill-partitions: %v\n", err)
		return 1
	}
	defer svc.Close()
	caller, err := principal(svc, *accessKeyID)
	if err != nil {
		fmt.Fprintf(stderr, "backfill-partitions: %v\n", err)
		return 2
	}
	if *key == "" {
		*key = svc.Settings.PartitionKeyID
	}
	p := provision.New(provision.Options{KMS: svc.KMS, Caller: caller, DefaultKeyID: *key, AllowedKeys: svc.Settings.PartitionKeys,
		Workers: *workers, Edge: svc.Edge}) // each partition recorded in the audit trail
	if !p.Allows(*key) {
		fmt.Fprintf(stderr, "backfill-partitions: -key %q is not in KMS_PARTITION_KEYS (%s): partitions may be provisioned only under the keys listed there\n",
			*key, strings.Join(svc.Settings.PartitionKeys, ","))
		return 2
	}
	if *key == svc.Settings.PartitionKeyID {
		if err := provision.EnsurePartitionKey(ctx, svc); err != nil {
			fmt.Fprintf(stderr, "backfill-partitions: %v\n", err)
			return 1
		}
	}

	prog := newProgress(stderr, tty, len(ids), time.Now)
	shown := 0
	for start := 0; start < len(ids); start += chunk {
		reqs := make([]provision.Request, 0, chunk)
		for _, id := range ids[start:min(start+chunk, len(ids))] {
			reqs = append(reqs, provision.Request{PartitionRequest: core.PartitionRequest{PartitionID: id, KeyID: *key}})
		}
		rep := p.Run(ctx, reqs, func(r provision.Result) {
			prog.add(r)
			if r.Status == provision.StatusFailed {
				if shown < maxShownFailures {
					prog.println(fmt.Sprintf("failed %s: %s: %s", r.PartitionId, r.Code, r.Message))
				} else if shown == maxShownFailures {
					prog.println("… further failures are counted but not shown")
				}
				shown++
			}
		})
		if ctx.Err() != nil {
			break
		}
		// A whole chunk failing means the key, the permission or the store is
		// wrong for every partition; going on would only repeat the failure.
		if rep.Failed == len(reqs) && len(reqs) >= minChunkToGiveUp {
			prog.println(fmt.Sprintf("stopping: all %d partitions of the last chunk failed", len(reqs)))
			break
		}
	}
	prog.finish()
	c := prog.counts
	fmt.Fprintf(stdout, "created=%d already_present=%d failed=%d not_attempted=%d\n",
		c.Created, c.AlreadyPresent, c.Failed, len(ids)-prog.done)
	if c.Failed > 0 || prog.done < len(ids) {
		return 1
	}
	return 0
}

// principal is the caller the backfill acts as: by default the one the
// provision-partitions function runs as, so a backfill has exactly the
// provisioner's rights; a principal of the file brings its own policy and QPS.
func principal(svc *config.Service, accessKeyID string) (*core.Principal, error) {
	if accessKeyID == "" {
		return provision.Caller(svc.KMS, svc.Settings.PartitionKeys), nil
	}
	p := svc.Principals.Lookup(accessKeyID)
	if p == nil {
		return nil, fmt.Errorf("no principal with AccessKeyId %q in the principals file", accessKeyID)
	}
	return p, nil
}

// readIDs reads one partition ID per line, trimming spaces and skipping blank
// lines and # comments. Invalid IDs are kept: they fail and are counted.
func readIDs(path string) ([]string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var ids []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s holds no partition IDs", path)
	}
	return ids, nil
}

// isTerminal reports whether f is a character device (a terminal), where a
// carriage-return progress line redraws in place.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
