package redis

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// coalescer sends the admission scripts of concurrent requests to Redis as one
// pipeline, so the instance and Redis each write and read once for many
// requests: a round trip's syscalls cost both sides about as much CPU as Redis
// spends running the script.
//
// It never waits for work: a request that finds no pipeline in flight sends
// itself at once, as a plain call would. Requests that arrive while one is in
// flight queue, and when it returns its sender hands the whole queue to the
// first of them, which sends it as the next pipeline. One pipeline in flight at
// a time keeps batches deep; there is no goroutine of its own and no timer.
type coalescer struct {
	rdb goredis.UniversalClient
	h   *health

	mu       sync.Mutex
	queue    []*admission
	inFlight bool
}

// admission is one request's script call, then its reply.
type admission struct {
	keys  []string
	args  []any
	reply []int64
	err   error

	// state moves once from waiting to abandoned (its caller gave up first)
	// or to member or leader (a sender took it), so a request whose caller
	// gave up is neither sent nor chosen to send the others.
	state atomic.Int32
	// batch is set on a leader: the pipeline it must send, itself first.
	batch []*admission
	// done is closed when reply is set, or, for a leader, when batch is.
	done chan struct{}

	// Room for keys and args, so an admission costs one allocation, not three.
	keyBuf [2]string
	argBuf [4]any
}

// newAdmission is a call of admitScript on bucket and, unless it is "", nonce.
func newAdmission(bucket, nonce string, args [4]any) *admission {
	a := &admission{keyBuf: [2]string{bucket, nonce}, argBuf: args}
	a.keys = a.keyBuf[:1]
	if nonce != "" {
		a.keys = a.keyBuf[:2]
	}
	a.args = a.argBuf[:]
	return a
}

const (
	waiting int32 = iota
	abandoned
	member
	leader
)

var (
	errReply = errors.New("admission script: unexpected reply")
	// errTripped answers requests that queued behind the pipeline whose failure
	// opened the breaker: they go to the fallback without a timeout of their own.
	errTripped = errors.New("redis unreachable: breaker opened while queued")
)

// run sends a's script, alone or with others', and returns its reply. An error
// is Redis's, or ctx's when the caller stops waiting. A pipeline of several
// does not end with ctx, which belongs to one caller of many; the client's
// timeouts bound it.
func (c *coalescer) run(ctx context.Context, a *admission) ([]int64, error) {
	c.mu.Lock()
	if !c.inFlight {
		c.inFlight = true
		c.mu.Unlock()
		c.send(ctx, []*admission{a}, false)
		return a.reply, a.err
	}
	a.done = make(chan struct{})
	c.queue = append(c.queue, a)
	c.mu.Unlock()

	select {
	case <-a.done:
	case <-ctx.Done():
		if a.state.CompareAndSwap(waiting, abandoned) || a.state.Load() == member {
			return nil, ctx.Err()
		}
		// Chosen to lead: the others wait on this send, so it goes on
		// without this caller. done closes right after the choice.
		<-a.done
		go c.send(ctx, a.batch, true)
		return nil, ctx.Err()
	}
	if a.batch != nil {
		c.send(ctx, a.batch, true)
	}
	return a.reply, a.err
}

// send runs batch (its leader first) as one pipeline, hands what queued
// meanwhile to a new leader, and answers batch's members. A batch that queued
// (handed on) is not sent if the pipeline before it opened the breaker.
func (c *coalescer) send(ctx context.Context, batch []*admission, handedOn bool) {
	if handedOn && c.h.open.Load() {
		for _, a := range batch {
			a.err = errTripped
		}
	} else {
		c.exec(ctx, batch)
	}

	c.mu.Lock()
	queued := c.queue
	c.queue = nil
	var next []*admission
	for _, q := range queued {
		role := member
		if next == nil {
			role = leader
		}
		if q.state.CompareAndSwap(waiting, role) {
			next = append(next, q)
		}
	}
	c.inFlight = next != nil
	c.mu.Unlock()
	if next != nil {
		next[0].batch = next
		close(next[0].done)
	}
	for _, a := range batch[1:] {
		close(a.done)
	}
}

// exec sends every script of batch and records each reply. The breaker hears
// of the batch once, as it would of one command.
func (c *coalescer) exec(ctx context.Context, batch []*admission) {
	cmds := make([]*goredis.Cmd, len(batch))
	if len(batch) == 1 {
		// Alone: a plain call, which costs less than a pipeline of one and
		// may end with its caller's ctx, as nobody else waits on it.
		a := batch[0]
		cmds[0] = admitScript.Run(ctx, c.rdb, a.keys, a.args...)
		if err := gaveUp(ctx); cmds[0].Err() != nil && err != nil {
			a.err = err
			return
		}
	} else {
		c.pipeline(context.WithoutCancel(ctx), batch, cmds)
	}
	var failed error
	for i, a := range batch {
		a.reply, a.err = cmds[i].Int64Slice()
		if a.err == nil && len(a.reply) != 4 {
			a.err = errReply
		}
		if failed == nil {
			failed = a.err
		}
	}
	if failed != nil {
		c.h.fail(failed)
	} else {
		c.h.ok()
	}
}

// pipeline sends batch's scripts in one write and reads their replies into cmds.
func (c *coalescer) pipeline(ctx context.Context, batch []*admission, cmds []*goredis.Cmd) {
	pipe := c.rdb.Pipeline()
	for i, a := range batch {
		cmds[i] = admitScript.EvalSha(ctx, pipe, a.keys, a.args...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		// A Redis restarted or flushed of scripts answers NOSCRIPT; send
		// those again in full, which loads the script.
		var again goredis.Pipeliner
		for i, cmd := range cmds {
			if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
				if again == nil {
					again = c.rdb.Pipeline()
				}
				cmds[i] = admitScript.Eval(ctx, again, batch[i].keys, batch[i].args...)
			}
		}
		if again != nil {
			_, _ = again.Exec(ctx)
		}
	}
}

// gaveUp is ctx's error once its caller stopped waiting. A deadline counts as
// soon as it passes: the connection's read deadline, set from it, may fire
// before ctx's own timer does, and that timeout is the caller's, not Redis's.
func gaveUp(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}
