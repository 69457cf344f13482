package postgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsless/kmsless/core"
)

// childEnv, when set, makes this test binary one of the instances
// TestInstancesInSeparateProcessesShareOneDatabase starts; it holds a
// childSpec as JSON.
const childEnv = "KMSLESS_PGSTORE_CHILD"

type childSpec struct {
	URL, Schema, ReadyDir string
	Index, Instances      int
	Rounds, Partitions    int
}

type childResult struct {
	Updates, Conflicts int
	Created            []string
}

const sharedKey = "key-shared"

// TestInstancesInSeparateProcessesShareOneDatabase starts several processes at
// once against one fresh schema, as serverless instances start: they race to
// migrate, to create the same key, to change it with compare-and-set and to
// create the same partitions. Every update must count exactly once and every
// partition must have exactly one creator.
func TestInstancesInSeparateProcessesShareOneDatabase(t *testing.T) {
	if spec := os.Getenv(childEnv); spec != "" {
		runChild(t, spec)
		return
	}
	const instances, rounds, partitions = 3, 20, 30
	spec := childSpec{URL: testURL, Schema: newSchema("processes"), ReadyDir: t.TempDir(), Instances: instances, Rounds: rounds, Partitions: partitions}
	type child struct {
		cmd    *exec.Cmd
		stdout bytes.Buffer
		stderr bytes.Buffer
	}
	children := make([]*child, instances)
	for i := range children {
		spec.Index = i
		encoded, _ := json.Marshal(spec)
		c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestInstancesInSeparateProcessesShareOneDatabase$", "-test.count=1")}
		c.cmd.Env = append(os.Environ(), childEnv+"="+string(encoded))
		c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	totalUpdates, totalConflicts := 0, 0
	creator := map[string]int{}
	for i, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("instance %d: %v\n%s%s", i, err, c.stdout.String(), c.stderr.String())
		}
		var res childResult
		found := false
		for line := range strings.Lines(c.stdout.String()) {
			if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
				found = json.Unmarshal([]byte(rest), &res) == nil
			}
		}
		if !found {
			t.Fatalf("instance %d reported no result:\n%s", i, c.stdout.String())
		}
		totalUpdates += res.Updates
		totalConflicts += res.Conflicts
		for _, id := range res.Created {
			if prev, dup := creator[id]; dup {
				t.Fatalf("partition %s created by instances %d and %d", id, prev, i)
			}
			creator[id] = i
		}
	}

	s, err := Open(context.Background(), testURL, WithSchema(spec.Schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	k, err := s.GetKey(ctx, sharedKey)
	if err != nil {
		t.Fatal(err)
	}
	if totalUpdates != instances*rounds || k.Revision != int64(1+totalUpdates) {
		t.Fatalf("revision %d after %d successful updates (%d conflicts); want %d", k.Revision, totalUpdates, totalConflicts, 1+instances*rounds)
	}
	t.Logf("%d updates across %d processes, %d compare-and-set conflicts", totalUpdates, instances, totalConflicts)
	for p := range partitions {
		id := fmt.Sprintf("partition-%02d", p)
		stored, err := s.GetPartition(ctx, id)
		if err != nil {
			t.Fatalf("GetPartition(%s): %v", id, err)
		}
		who, ok := creator[id]
		if !ok {
			t.Fatalf("partition %s exists but no instance was told it created it", id)
		}
		if stored.EncryptionContext["instance"] != fmt.Sprint(who) {
			t.Fatalf("partition %s was created by instance %d but holds instance %s's record", id, who, stored.EncryptionContext["instance"])
		}
	}
}

func runChild(t *testing.T, encoded string) {
	var spec childSpec
	if err := json.Unmarshal([]byte(encoded), &spec); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, spec.URL, WithSchema(spec.Schema))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	now := time.Now().UTC().Truncate(time.Second)
	k := core.Key{ID: sharedKey, State: core.KeyEnabled, CreatedAt: now, PrimaryVersionID: "v1", Revision: 1}
	err = s.CreateKey(ctx, k, core.KeyVersion{KeyID: k.ID, VersionID: "v1", CreatedAt: now, Wrapped: []byte("wrapped")})
	if err != nil && !errors.Is(err, core.ErrExists) {
		t.Fatalf("CreateKey: %v", err)
	}
	waitForSiblings(t, spec)

	var res childResult
	state := map[bool]core.KeyState{true: core.KeyEnabled, false: core.KeyDisabled}[spec.Index%2 == 0]
	for range spec.Rounds {
		for {
			cur, err := s.GetKey(ctx, sharedKey)
			if err != nil {
				t.Fatalf("GetKey: %v", err)
			}
			cur.State, cur.Revision = state, cur.Revision+1
			err = s.UpdateKey(ctx, cur)
			if err == nil {
				res.Updates++
				break
			}
			if !errors.Is(err, core.ErrConflict) {
				t.Fatalf("UpdateKey: %v", err)
			}
			res.Conflicts++
		}
	}
	for p := range spec.Partitions {
		id := fmt.Sprintf("partition-%02d", p)
		_, created, err := s.CreatePartition(ctx, core.Partition{ID: id, KeyID: sharedKey, KeyVersionID: "v1",
			CiphertextBlob: []byte(id), EncryptionContext: map[string]string{"instance": fmt.Sprint(spec.Index)}, CreatedAt: now})
		if err != nil {
			t.Fatalf("CreatePartition: %v", err)
		}
		if created {
			res.Created = append(res.Created, id)
		}
	}
	out, _ := json.Marshal(res)
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "\nRESULT %s\n", out)
	w.Flush()
}

// waitForSiblings holds every instance until all have opened the store, so
// their updates overlap.
func waitForSiblings(t *testing.T, spec childSpec) {
	if err := os.WriteFile(filepath.Join(spec.ReadyDir, fmt.Sprint(spec.Index)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(spec.ReadyDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == spec.Instances {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("siblings never became ready")
}
