package platform

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
)

// reloaded is a value read from files, read again when any of them
// changes. A read that fails, such as one of a file caught half rewritten,
// leaves the last good value in service; it is logged once (kept, with the
// reason), and tried again once a file changes again. A reload that
// succeeds is logged as done.
type reloaded[T any] struct {
	setting    string // the variables that name the files
	files      []string
	read       func() (T, error)
	log        *slog.Logger
	done, kept string

	mu sync.Mutex
	// tried is the files' stamps when they were last read, whether they
	// read or not; unread is why they could not be stamped, when they
	// could not, as last logged.
	tried  []fileStamp
	unread string
	val    T
}

// fileStamp is what tells a file changed: its size and modification time
// (nanoseconds since 1970).
type fileStamp struct{ size, mod int64 }

// start reads the files for the first time: an error stops start-up.
func (r *reloaded[T]) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.load()
	return err
}

// current is the value in service once the files have been looked at.
func (r *reloaded[T]) current() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch changed, err := r.load(); {
	case err != nil:
		r.log.Warn(r.kept, "err", err)
	case changed:
		r.log.Info(r.done, "file", r.files[0])
	}
	return r.val
}

// inService is the value in service, without looking at the files.
func (r *reloaded[T]) inService() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.val
}

// load reads the files if any changed since they were last read, and
// reports whether it did; an error, the first time it is met, says why it
// did not. On an error the value in service stays.
func (r *reloaded[T]) load() (bool, error) {
	now := make([]fileStamp, len(r.files))
	for i, path := range r.files {
		fi, err := os.Stat(path)
		if err != nil {
			if err.Error() == r.unread {
				return false, nil
			}
			r.unread = err.Error()
			return false, fmt.Errorf("%s: %w", r.setting, err)
		}
		now[i] = fileStamp{fi.Size(), fi.ModTime().UnixNano()}
	}
	r.unread = ""
	if r.tried != nil && slices.Equal(now, r.tried) {
		return false, nil
	}
	r.tried = now
	v, err := r.read()
	if err != nil {
		return false, err
	}
	r.val = v
	return true, nil
}
