// Package zerotest keeps the buffers a service fills or hands on, so that a
// test can check, once a request is answered, that every one that held a
// secret was zeroed.
package zerotest

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"sync"
)

// Rand is crypto/rand that keeps each buffer of exactly N bytes it fills: ask
// the service for a data key of an N no other read uses, and the buffer kept
// is the one the key was made in.
type Rand struct {
	N    int
	mu   sync.Mutex
	kept [][]byte
}

func (r *Rand) Read(p []byte) (int, error) {
	if len(p) == r.N {
		r.mu.Lock()
		r.kept = append(r.kept, p)
		r.mu.Unlock()
	}
	return rand.Read(p)
}

// Kept is the buffers of N bytes filled so far.
func (r *Rand) Kept() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.kept...)
}

// Writer is an http.ResponseWriter that keeps the very slices it is handed,
// which io.Writer forbids a real one to do, besides a copy of what they held
// when written.
type Writer struct {
	header http.Header
	Status int
	body   bytes.Buffer
	kept   [][]byte
}

func (w *Writer) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *Writer) WriteHeader(status int) {
	if w.Status == 0 {
		w.Status = status
	}
}

func (w *Writer) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.kept = append(w.kept, p)
	return w.body.Write(p)
}

// Body is a copy of everything written.
func (w *Writer) Body() []byte { return w.body.Bytes() }

// Kept is the slices written, as they are now.
func (w *Writer) Kept() [][]byte { return w.kept }

// Zeroed reports whether every byte of bufs is zero; a test fails when there
// is nothing to check.
func Zeroed(bufs [][]byte) bool {
	if len(bufs) == 0 {
		return false
	}
	for _, b := range bufs {
		if !bytes.Equal(b, make([]byte, len(b))) {
			return false
		}
	}
	return true
}
