package bolt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmsless/kmsless/core"
)

// crashChildEnv, when set, turns this test binary into the writer that
// TestKillNineLeavesEveryChangeWholeOrAbsent kills: its value is
// "path round".
const crashChildEnv = "KMSLESS_BOLT_CRASH_CHILD"

// TestKillNineLeavesEveryChangeWholeOrAbsent kills a writing process with
// SIGKILL several times and checks, after each, that every acknowledged change is
// there and that no change is there in part: every key has its first and primary
// versions and its indexes, every alias points at a key. SIGKILL loses the
// process, not the page cache, so this proves transaction atomicity; bbolt's
// fsync on commit is what covers a power cut.
func TestKillNineLeavesEveryChangeWholeOrAbsent(t *testing.T) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		runCrashChild(t, spec)
		return
	}
	path := filepath.Join(t.TempDir(), "kms.db")
	acked := map[string]bool{}
	deleting := map[string]bool{}
	deleted := map[string]bool{}
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillNineLeavesEveryChangeWholeOrAbsent$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", crashChildEnv, path, round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random point past a minimum of work, so the signal lands
		// at different places inside the write path each round. The writer
		// runs on while the parent sleeps; lines still in the pipe after the
		// kill are acknowledgements too.
		killAfter := 50 + rand.IntN(200)
		lines := bufio.NewScanner(stdout)
		n := 0
		for lines.Scan() {
			op, id, ok := strings.Cut(lines.Text(), " ")
			if !ok {
				continue
			}
			switch op {
			case "key", "alias", "version":
				acked[op+" "+id] = true
			case "deleting":
				// Until "deleted" arrives the key may be there or gone.
				deleting[id] = true
			case "deleted":
				deleted[id] = true
			default:
				continue
			}
			if n++; n == killAfter {
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if n < killAfter {
			t.Fatalf("round %d: writer stopped after %d changes (%v): %s", round, n, err, stderr.String())
		}
		checkAfterCrash(t, path, acked, deleting, deleted)
	}
}

// runCrashChild writes keys, versions, aliases and deletions until it is killed,
// printing each change after it commits.
func runCrashChild(t *testing.T, spec string) {
	path, round, _ := strings.Cut(spec, " ")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		id := fmt.Sprintf("key-%s-%05d", round, i)
		now := time.Now().UTC()
		k := core.Key{ID: id, State: core.KeyEnabled, CreatedAt: now, PrimaryVersionID: id + "-v1", Revision: 1}
		if err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: id, VersionID: k.PrimaryVersionID, CreatedAt: now, Wrapped: bytes.Repeat([]byte{byte(i)}, 60)}); err != nil {
			t.Fatal(err)
		}
		fmt.Println("key", id)
		if err := s.CreateAlias(ctx, core.Alias{Name: "alias/" + id, KeyID: id, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		fmt.Println("alias", "alias/"+id)
		if i%3 == 0 {
			next := k
			next.PrimaryVersionID, next.Revision = id+"-v2", 2
			if err := s.AddVersion(ctx, next, core.KeyVersion{KeyID: id, VersionID: next.PrimaryVersionID, CreatedAt: now, Wrapped: []byte("second")}); err != nil {
				t.Fatal(err)
			}
			fmt.Println("version", next.PrimaryVersionID)
		}
		if i%5 == 4 {
			victim := fmt.Sprintf("key-%s-%05d", round, i-1)
			fmt.Println("deleting", victim)
			revision := int64(1)
			if (i-1)%3 == 0 {
				revision = 2
			}
			if err := s.DeleteKey(ctx, victim, revision); err != nil {
				t.Fatal(err)
			}
			fmt.Println("deleted", victim)
		}
	}
}

// checkAfterCrash reopens the file and checks it against what the writers
// acknowledged, then checks every record and index for partial writes.
func checkAfterCrash(t *testing.T, path string, acked, deleting, deleted map[string]bool) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	ctx := context.Background()

	for entry := range acked {
		op, id, _ := strings.Cut(entry, " ")
		keyID := strings.TrimSuffix(strings.TrimPrefix(id, "alias/"), "-v2")
		if deleting[keyID] {
			continue
		}
		switch op {
		case "key":
			_, err = s.GetKey(ctx, id)
		case "alias":
			_, err = s.GetAlias(ctx, id)
		case "version":
			_, err = s.GetVersion(ctx, keyID, id)
		}
		if err != nil {
			t.Fatalf("acknowledged %s lost: %v", entry, err)
		}
	}
	for id := range deleted {
		if _, err := s.GetKey(ctx, id); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("deleted key %s is back: %v", id, err)
		}
		if _, err := s.GetAlias(ctx, "alias/"+id); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("alias of deleted key %s is back: %v", id, err)
		}
	}

	err = s.db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt consistency check: %w", err)
		}
		return checkIndexes(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkIndexes proves that every record has its index entries and every index
// entry its record, and that each key has the versions it names.
func checkIndexes(tx *bbolt.Tx) error {
	keys := map[string]core.Key{}
	err := tx.Bucket(bucketKeys).ForEach(func(id, v []byte) error {
		k, err := decode[core.Key](v, "key")
		keys[string(id)] = k
		return err
	})
	if err != nil {
		return err
	}
	byCreation := 0
	err = tx.Bucket(bucketKeysByCreation).ForEach(func(entry, _ []byte) error {
		byCreation++
		k, ok := keys[string(entry[whenLen:])]
		if !ok || !bytes.Equal(entry[:whenLen], when(k.CreatedAt)) {
			return fmt.Errorf("creation index entry %q has no matching key", entry)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if byCreation != len(keys) {
		return fmt.Errorf("%d keys but %d creation index entries", len(keys), byCreation)
	}

	ordered := 0
	for id, k := range keys {
		var vids []string
		if _, err := walk(tx.Bucket(bucketVersionOrder), owner(id), core.Page{}, nil, func(_, vid []byte) error {
			vids = append(vids, string(vid))
			if _, err := getVersion(tx, id, string(vid)); err != nil {
				return fmt.Errorf("version order names a missing version: %w", err)
			}
			return nil
		}); err != nil {
			return err
		}
		ordered += len(vids)
		if len(vids) == 0 || vids[0] != id+"-v1" || !slices.Contains(vids, k.PrimaryVersionID) {
			return fmt.Errorf("key %s (primary %s) has versions %q", id, k.PrimaryVersionID, vids)
		}
	}
	if n := tx.Bucket(bucketVersions).Stats().KeyN; n != ordered {
		return fmt.Errorf("%d versions stored but %d in the version order of live keys", n, ordered)
	}

	aliases := 0
	err = tx.Bucket(bucketAliases).ForEach(func(name, v []byte) error {
		aliases++
		a, err := decode[core.Alias](v, "alias")
		if err != nil {
			return err
		}
		if _, ok := keys[a.KeyID]; !ok {
			return fmt.Errorf("alias %s points at missing key %s", name, a.KeyID)
		}
		if tx.Bucket(bucketAliasesByKey).Get(join(owner(a.KeyID), name)) == nil {
			return fmt.Errorf("alias %s is missing from the by-key index", name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n := tx.Bucket(bucketAliasesByKey).Stats().KeyN; n != aliases {
		return fmt.Errorf("%d aliases but %d by-key index entries", aliases, n)
	}
	return nil
}
