package redisx

// Queued is how many admissions wait behind the pipeline in flight.
func Queued(l *Limiter) int {
	l.batch.mu.Lock()
	defer l.batch.mu.Unlock()
	return len(l.batch.queue)
}
