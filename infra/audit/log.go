package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
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
//
// Writes are committed in groups: the records that arrive while one write is
// in flight go out together in the next, so concurrent requests share one
// write call instead of queueing for one each. Every Write still returns only
// once its own line is written (or has failed).
type Log struct {
	mu       sync.Mutex
	w        io.Writer
	file     truncater // w when it is a file, to take back a partial line
	instance string
	mac      hash.Hash
	seq      uint64
	prev     []byte
	open     *batch // records waiting for the next write
	writing  bool
	spare    []byte
}

// batch is records written in one call, and how that went.
type batch struct {
	buf       []byte
	startSeq  uint64 // chain position before the batch's first record
	startPrev []byte
	done      chan struct{}
	err       error
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

// Write appends rec as one line and returns once it is written. On failure
// nothing of it stays in a file sink and the chain does not advance, so the
// next record links to the last one written.
func (l *Log) Write(rec Record) error {
	bp := bodies.Get().(*[]byte)
	body := rec.appendJSON((*bp)[:0]) // outside the lock: most of the cost
	l.mu.Lock()
	if l.open == nil {
		l.open = &batch{buf: l.spare[:0], startSeq: l.seq, startPrev: l.prev, done: make(chan struct{})}
		l.spare = nil
	}
	b := l.open
	b.buf, l.prev = l.appendLine(b.buf, body, l.seq+1, l.prev)
	l.seq++
	if cap(body) <= maxPooled {
		*bp = body
		bodies.Put(bp)
	}
	if l.writing {
		l.mu.Unlock()
		<-b.done
		return b.err
	}
	l.writing = true
	for l.open != nil {
		out := l.open
		l.open = nil
		l.mu.Unlock()
		n, err := l.w.Write(out.buf)
		if err == nil && n < len(out.buf) {
			err = io.ErrShortWrite
		}
		l.mu.Lock()
		if err != nil {
			l.takeBack(n)
			out.err = fmt.Errorf("audit: write record: %w", err)
			// The records queued since link to the lost ones: they fail too,
			// and the chain resumes from the last record written.
			if l.open != nil {
				l.open.err = out.err
				close(l.open.done)
				l.open = nil
			}
			l.seq, l.prev = out.startSeq, out.startPrev
		}
		close(out.done)
		if cap(out.buf) <= maxPooled {
			l.spare = out.buf // its waiters read only err
		}
	}
	l.writing = false
	l.mu.Unlock()
	return b.err
}

// bodies are the buffers records are encoded into before they are chained,
// and maxPooled the largest buffer kept for reuse: keeping a larger one
// would pin the memory of one outsized record for good.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooled = 64 << 10

// appendLine appends body's line at chain position seq after prev, and
// returns the line's HMAC.
func (l *Log) appendLine(dst, body []byte, seq uint64, prev []byte) ([]byte, []byte) {
	start := len(dst)
	dst = append(dst, body[:len(body)-1]...)
	dst = append(dst, `,"instanceId":"`...)
	dst = append(dst, l.instance...)
	dst = append(dst, `","sequence":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"prev":"`...)
	dst = hex.AppendEncode(dst, prev)
	dst = append(dst, '"', '}')
	sum := sign(l.mac, dst[start:])
	dst = append(dst[:len(dst)-1], macField...)
	dst = hex.AppendEncode(dst, sum)
	return append(dst, '"', '}', '\n'), sum
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
