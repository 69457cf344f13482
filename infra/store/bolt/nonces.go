package bolt

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/inproc"
)

// The nonce journal sits beside the store file (path + ".nonces"): a header,
// then one record per accepted nonce, appended without fsync. An fsync per
// request would cost milliseconds; a write to the page cache costs a system
// call, and survives the process being killed (not a power cut, after which
// at most the nonces the kernel had not yet written are lost). A record is
//
//	crc32(rest) u32 | expires (Unix ms) i64 | len(id) u16 | id ("<AccessKeyId>:<nonce>")
//
// little-endian. Reading stops at the first record that is short or fails its
// checksum: the tail a crash tore.
const (
	journalSuffix = ".nonces"
	journalHeader = "kmsless nonce journal 1\n"
	recordHead    = 4 + 8 + 2
	// compactSlack is how many records beyond twice the live count the
	// journal grows before it is rewritten with the live ones only.
	compactSlack = 4096
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Nonces is a core.NonceStore for one instance that survives its restarts:
// nonces are checked in memory (inproc.Nonces, per-principal quotas included)
// and journaled beside the store file, which is replayed at open.
type Nonces struct {
	mem   *inproc.Nonces
	clock core.Clock
	path  string

	mu sync.Mutex
	f  *os.File
	// buf is reused for each record.
	buf []byte
	// written counts the records in the journal; compactAt is when it is
	// rewritten.
	written, compactAt int
}

var _ core.NonceStore = (*Nonces)(nil)

// OpenNonces opens the nonce journal of the store file at storePath (creating
// it if needed), reloads the nonces still live on clock (the system clock when
// nil) and rewrites the journal with only those. Open it after the store, whose
// file lock keeps a second process off the journal too, and close it before.
func OpenNonces(storePath string, clock core.Clock) (*Nonces, error) {
	if clock == nil {
		clock = core.SystemClock{}
	}
	n := &Nonces{mem: inproc.NewNonces(clock), clock: clock, path: storePath + journalSuffix}
	if err := n.replay(); err != nil {
		return nil, fmt.Errorf("bolt: nonce journal %s: %w", n.path, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.compact(); err != nil {
		return nil, fmt.Errorf("bolt: nonce journal %s: %w", n.path, err)
	}
	return n, nil
}

// replay loads the journal's live records into memory.
func (n *Nonces) replay() error {
	now := n.clock.Now().UnixMilli()
	return readJournal(n.path, func(rec []byte, expires int64) {
		if expires > now {
			n.mem.Remember(string(rec[recordHead:]), time.UnixMilli(expires))
		}
	})
}

// readJournal calls fn with each whole record of the journal at path (which
// fn must not keep) and its expiry, in Unix milliseconds, up to the first
// that is short or fails its checksum. A journal that does not exist, or was
// torn before its first record, has none.
func readJournal(path string, fn func(rec []byte, expires int64)) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	head := make([]byte, len(journalHeader))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != journalHeader {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil // torn before its first record
		}
		return errors.New("not a nonce journal of this version")
	}
	rec := make([]byte, recordHead, recordHead+256)
	for {
		if _, err := io.ReadFull(r, rec[:recordHead]); err != nil {
			return nil
		}
		size := int(binary.LittleEndian.Uint16(rec[12:]))
		rec = slices.Grow(rec[:recordHead], size)[:recordHead+size]
		if _, err := io.ReadFull(r, rec[recordHead:]); err != nil {
			return nil
		}
		if crc32.Checksum(rec[4:], crcTable) != binary.LittleEndian.Uint32(rec) {
			return nil
		}
		fn(rec, int64(binary.LittleEndian.Uint64(rec[4:])))
	}
}

// Use implements core.NonceStore: the memory decides, and a fresh nonce is
// journaled before the request goes on.
func (n *Nonces) Use(ctx context.Context, nonce string, ttl time.Duration, quota int) (bool, error) {
	fresh, err := n.mem.Use(ctx, nonce, ttl, quota)
	if !fresh || err != nil {
		return fresh, err
	}
	if len(nonce) > 1<<16-1 {
		return false, fmt.Errorf("bolt: a nonce of %d bytes is too long to journal", len(nonce))
	}
	// Whole milliseconds, rounded up: a reloaded nonce never expires early.
	exp := n.clock.Now().Add(ttl + time.Millisecond - 1).UnixMilli()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.f == nil {
		return false, errors.New("bolt: the nonce journal is closed")
	}
	n.buf = appendRecord(n.buf[:0], nonce, exp)
	if _, err := n.f.Write(n.buf); err != nil {
		return false, fmt.Errorf("bolt: write nonce journal: %w", err)
	}
	if n.written++; n.written >= n.compactAt {
		if err := n.compact(); err != nil {
			return false, fmt.Errorf("bolt: compact nonce journal: %w", err)
		}
	}
	return true, nil
}

func appendRecord(b []byte, id string, expires int64) []byte {
	b = append(b, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(expires))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(id)))
	b = append(b, id...)
	binary.LittleEndian.PutUint32(b, crc32.Checksum(b[4:], crcTable))
	return b
}

// compact rewrites the journal with its live records only, through a
// temporary file renamed over it, and goes on appending to that. It runs
// when the journal holds twice the live records (plus some slack), so its
// cost per request is constant. n.mu is held.
func (n *Nonces) compact() error {
	tmp := n.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	_, _ = w.WriteString(journalHeader)
	count := 0
	now := n.clock.Now().UnixMilli()
	err = readJournal(n.path, func(rec []byte, expires int64) {
		if expires > now {
			_, _ = w.Write(rec)
			count++
		}
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = os.Rename(tmp, n.path)
	}
	if err != nil {
		f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if n.f != nil {
		n.f.Close()
	}
	// f was opened write-only at offset 0 and has written the whole file:
	// appending continues at its end.
	n.f = f
	n.written = count
	n.compactAt = 2*count + compactSlack
	return nil
}

// Close closes the journal; what was written stays for the next open.
func (n *Nonces) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.f == nil {
		return nil
	}
	err := n.f.Close()
	n.f = nil
	return err
}
