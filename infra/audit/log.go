package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// KeyPurpose is what the chain's HMAC key is derived from the root key for.
const KeyPurpose = "kmsless audit chain v1"

// macField ends every record line: the HMAC comes last, so the signed bytes
// are the line without it.
const macField = `,"hmac":"`

// Log writes records to one sink, chained: each carries the instance ID, a
// sequence number from 1, the previous record's HMAC ("prev", empty for the
// first) and its own HMAC over all of that and the record. One Log is one
// instance's chain. Because each record names its predecessor's HMAC, every
// line can be authenticated on its own and the links checked apart, so a
// verifier can tell an edited line from a dropped or moved one.
type Log struct {
	mu       sync.Mutex
	w        io.Writer
	file     truncater // w when it is a file, to take back a partial line
	instance string
	mac      hash.Hash
	seq      uint64
	prev     []byte
	buf      []byte
}

// New returns a Log writing to w under key (at least 32 bytes), as a new
// instance with a random ID.
func New(w io.Writer, key []byte) *Log {
	if len(key) < 32 {
		panic("audit: the chain key must be at least 32 bytes")
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	l := &Log{w: w, instance: hex.EncodeToString(id[:]), mac: hmac.New(sha256.New, key)}
	l.file, _ = w.(truncater)
	return l
}

// truncater is a file sink (*os.File), whose partial lines can be taken back.
type truncater interface {
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
}

// Instance is the ID of this Log's chain.
func (l *Log) Instance() string { return l.instance }

// Write appends rec as one line, in a single write. On failure nothing of it
// stays in a file sink and the chain does not advance, so the next record
// links to the last one written.
func (l *Log) Write(rec Record) error {
	rec.InstanceID, rec.Sequence, rec.Prev, rec.HMAC = "", 0, "", ""
	body, err := json.Marshal(rec) // outside the lock: most of the cost
	if err != nil {
		return fmt.Errorf("audit: encode record: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	line := append(l.buf[:0], body[:len(body)-1]...)
	line = append(line, `,"instanceId":"`...)
	line = append(line, l.instance...)
	line = append(line, `","sequence":`...)
	line = strconv.AppendUint(line, l.seq+1, 10)
	line = append(line, `,"prev":"`...)
	line = hex.AppendEncode(line, l.prev)
	line = append(line, '"', '}')
	sum := sign(l.mac, line)
	line = append(line[:len(line)-1], macField...)
	line = hex.AppendEncode(line, sum)
	line = append(line, '"', '}', '\n')
	l.buf = line
	n, err := l.w.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		l.takeBack(n)
		return fmt.Errorf("audit: write record: %w", err)
	}
	l.seq, l.prev = l.seq+1, sum
	return nil
}

// takeBack removes the n bytes of a partly written line from a file sink.
func (l *Log) takeBack(n int) {
	if n <= 0 || l.file == nil {
		return
	}
	if fi, err := l.file.Stat(); err == nil && fi.Mode().IsRegular() {
		_ = l.file.Truncate(fi.Size() - int64(n))
	}
}

// macSize is the HMAC-SHA256 truncated to 128 bits, as a record carries it.
const macSize = 16

// sign is the HMAC of a record's bytes, which include its predecessor's.
func sign(mac hash.Hash, body []byte) []byte {
	mac.Reset()
	mac.Write(body)
	return mac.Sum(nil)[:macSize]
}

// Sink opens the sink KMS_AUDIT_LOG names: "stdout", or a file appended to
// (created with mode 0600, its directory too). close releases it.
func Sink(where string) (w io.Writer, close func() error, err error) {
	if where == "stdout" {
		return os.Stdout, func() error { return nil }, nil
	}
	if where == "" {
		return nil, nil, errors.New("audit: no audit log named")
	}
	if err := os.MkdirAll(filepath.Dir(where), 0o700); err != nil {
		return nil, nil, fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(where, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit log: %w", err)
	}
	return f, f.Close, nil
}
