package main

import (
	"fmt"
	"io"
	"time"

	"github.com/kmsless/kmsless/infra/provision"
)

// How often progress is shown: a terminal line is redrawn often, while a log
// (a file, a CI job) gets a line now and then.
const (
	ttyEvery   = 100 * time.Millisecond
	plainEvery = 5 * time.Second
)

// progress shows how far a backfill has come. On a terminal it redraws one line
// in place with a carriage return; elsewhere it prints plain periodic lines.
type progress struct {
	w      io.Writer
	tty    bool
	total  int
	done   int
	counts provision.Counts
	now    func() time.Time
	start  time.Time
	last   time.Time
	every  time.Duration
}

func newProgress(w io.Writer, tty bool, total int, now func() time.Time) *progress {
	p := &progress{w: w, tty: tty, total: total, now: now, every: plainEvery}
	if tty {
		p.every = ttyEvery
	}
	p.start = now()
	p.last = p.start
	return p
}

func (p *progress) add(r provision.Result) {
	p.done++
	switch r.Status {
	case provision.StatusCreated:
		p.counts.Created++
	case provision.StatusAlreadyPresent:
		p.counts.AlreadyPresent++
	default:
		p.counts.Failed++
	}
	if t := p.now(); t.Sub(p.last) >= p.every {
		p.last = t
		p.draw()
	}
}

func (p *progress) line() string {
	elapsed := p.now().Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed.Seconds()
	}
	return fmt.Sprintf("%d/%d (%.1f%%)  created %d  already present %d  failed %d  %.0f/s",
		p.done, p.total, 100*float64(p.done)/float64(max(p.total, 1)),
		p.counts.Created, p.counts.AlreadyPresent, p.counts.Failed, rate)
}

func (p *progress) draw() {
	if p.tty {
		// \033[K clears what a longer previous line left behind.
		fmt.Fprintf(p.w, "\r%s\033[K", p.line())
		return
	}
	fmt.Fprintf(p.w, "progress: %s\n", p.line())
}

// println prints a message on its own line without garbling the progress line.
func (p *progress) println(msg string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", msg)
		p.draw()
		return
	}
	fmt.Fprintln(p.w, msg)
}

// finish shows the final state and ends the progress line.
func (p *progress) finish() {
	if p.tty {
		p.draw()
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintf(p.w, "done: %s\n", p.line())
}
