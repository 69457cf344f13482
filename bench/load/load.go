// Package load is the load generator of the service's comparisons: pools of
// requests signed ahead of time as the Alibaba Cloud SDK signs them, sent as
// raw HTTP/1.1 bytes over a fixed number of keep-alive connections, with every
// latency kept for quantiles. Signing happens outside the timed loop, so two
// servers fed the same pool see the same bytes and neither is charged for the
// client's signing.
package load

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	"github.com/alibabacloud-go/tea/tea"
)

// APIVersion is the KMS API version the requests name.
const APIVersion = "2016-01-20"

// emptySHA256 is the hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Credentials are a principal's access key.
type Credentials struct {
	AccessKeyID, Secret string
}

// Call is one KMS call: the action and its query parameters.
type Call struct {
	Action string
	Query  url.Values
}

// Sign returns call as raw HTTP/1.1 request bytes for host, signed with
// ACS3-HMAC-SHA256 by the SDK's own signing code (openapi-util), with a fresh
// signature nonce and the current time.
func Sign(host string, call Call, creds Credentials) []byte {
	var n [16]byte
	_, _ = rand.Read(n[:])
	headers := map[string]*string{
		"host":                  tea.String(host),
		"x-acs-action":          tea.String(call.Action),
		"x-acs-version":         tea.String(APIVersion),
		"x-acs-date":            tea.String(time.Now().UTC().Format("2006-01-02T15:04:05Z")),
		"x-acs-signature-nonce": tea.String(hex.EncodeToString(n[:])),
		"x-acs-content-sha256":  tea.String(emptySHA256),
	}
	req := tea.NewRequest()
	req.Method, req.Pathname, req.Headers = tea.String(http.MethodPost), tea.String("/"), headers
	for k := range call.Query {
		req.Query[k] = tea.String(call.Query.Get(k))
	}
	auth := openapiutil.GetAuthorization(req, tea.String("ACS3-HMAC-SHA256"), tea.String(emptySHA256),
		tea.String(creds.AccessKeyID), tea.String(creds.Secret))

	var b bytes.Buffer
	b.WriteString("POST /")
	if len(call.Query) > 0 {
		b.WriteString("?" + call.Query.Encode())
	}
	b.WriteString(" HTTP/1.1\r\n")
	for _, k := range []string{"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		b.WriteString(k + ": " + *headers[k] + "\r\n")
	}
	b.WriteString("authorization: " + tea.StringValue(auth) + "\r\nuser-agent: kmsless-load\r\ncontent-length: 0\r\n\r\n")
	return b.Bytes()
}

// Pool is a set of signed requests, each sent at most once per run.
type Pool struct {
	reqs [][]byte
	next atomic.Int64
}

// NewPool signs n copies of call, each with its own nonce.
func NewPool(n int, host string, call Call, creds Credentials) *Pool {
	p := &Pool{reqs: make([][]byte, n)}
	for i := range p.reqs {
		p.reqs[i] = Sign(host, call, creds)
	}
	return p
}

// Len is the number of requests in the pool.
func (p *Pool) Len() int { return len(p.reqs) }

// take returns the next unsent request, or nil when all were sent.
func (p *Pool) take() []byte {
	i := p.next.Add(1) - 1
	if i >= int64(len(p.reqs)) {
		return nil
	}
	return p.reqs[i]
}

// rewind makes every request of the pool unsent again, to send the same bytes
// to another server.
func (p *Pool) rewind() { p.next.Store(0) }

// Result is one run against one server.
type Result struct {
	Requests  int
	Elapsed   time.Duration
	Latencies []time.Duration
	// CPU is the CPU time this process (client and any servers in it) spent
	// during the run, user and system, unless Options.Around counted another
	// process's instead.
	CPU time.Duration
	// Exhausted is set when the pool ran out before the run's time: Elapsed
	// then ends with the last answer.
	Exhausted bool
}

// CPUPerRequest is the process's CPU time per answered request.
func (r Result) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// PerSecond is the throughput of the run.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Add merges o into r.
func (r *Result) Add(o Result) {
	r.Requests += o.Requests
	r.Elapsed += o.Elapsed
	r.Latencies = append(r.Latencies, o.Latencies...)
	r.CPU += o.CPU
	r.Exhausted = r.Exhausted || o.Exhausted
}

// Quantile is the q-th latency (0 < q < 1).
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	l := slices.Clone(r.Latencies)
	slices.Sort(l)
	return l[int(q*float64(len(l)-1))]
}

// StatusError is a response other than 200.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return "HTTP " + strconv.Itoa(e.Status) + ": " + e.Body
}

// Run sends the pool's requests to side s over conns connections for d, or
// until the pool runs out, and fails on any answer but 200.
func Run(s Side, p *Pool, conns int, d time.Duration) (Result, error) {
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := s.dial()
		if err != nil {
			return Result{}, err
		}
		defer c.Close()
		cs[i] = c
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total Result
		errs  []error
		last  atomic.Int64
	)
	cpu0 := ProcessCPU()
	start := time.Now()
	deadline := start.Add(d)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<14)
			br := bufio.NewReaderSize(c, 4096)
			err := func() error {
				for time.Now().Before(deadline) {
					req := p.take()
					if req == nil {
						return nil
					}
					t0 := time.Now()
					if _, err := c.Write(req); err != nil {
						return err
					}
					if err := readResponse(br); err != nil {
						return err
					}
					t1 := time.Now()
					lat = append(lat, t1.Sub(t0))
					last.Store(int64(t1.Sub(start)))
				}
				return nil
			}()
			mu.Lock()
			defer mu.Unlock()
			total.Latencies = append(total.Latencies, lat...)
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	total.CPU = ProcessCPU() - cpu0
	total.Requests = len(total.Latencies)
	total.Elapsed = time.Since(start)
	if p.next.Load() >= int64(len(p.reqs)) {
		total.Exhausted = true
		total.Elapsed = time.Duration(last.Load())
	}
	return total, errors.Join(errs...)
}

// ProcessCPU is the user and system CPU time of this process so far.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readResponse reads one response whole and fails unless it is a 200.
func readResponse(br *bufio.Reader) error {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return &StatusError{resp.StatusCode, string(body)}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

// Do sends one signed request and returns the body of its 200 answer.
func Do(addr string, req []byte) ([]byte, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{resp.StatusCode, string(body)}
	}
	return body, nil
}

// Side is one server of a comparison.
type Side struct {
	Name string
	Addr string
	// TLS, when set, is the client's configuration for a server that
	// speaks HTTPS; each connection's handshake is made before the run's
	// clock starts.
	TLS *tls.Config
}

func (s Side) dial() (net.Conn, error) {
	if s.TLS == nil {
		return net.Dial("tcp", s.Addr)
	}
	c, err := tls.Dial("tcp", s.Addr, s.TLS) // the handshake is made here
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Options shape an interleaved comparison.
type Options struct {
	Conns  int           // connections per run (16)
	Rounds int           // rounds; each runs every side once (4)
	Run    time.Duration // length of one run (3s)
	// Pool is the first round's pool size (60,000 a second of Run); later
	// rounds size theirs from the fastest run seen so far.
	Pool int
	// Sign makes a pool of n signed requests; each round's pool goes to every
	// side in turn, so all sides get the same bytes.
	Sign func(n int) *Pool
	// Around, when set, runs each run: it calls run and may measure around it
	// (a server's own counters, a profile of one side).
	Around func(s Side, run func() (Result, error)) (Result, error)
}

// Compare runs the sides in turn, round after round (a, b, a, b...), each with
// the same pool of signed requests, and returns each side's merged result.
func Compare(o Options, sides ...Side) ([]Result, error) {
	if o.Conns == 0 {
		o.Conns = 16
	}
	if o.Rounds == 0 {
		o.Rounds = 4
	}
	if o.Run == 0 {
		o.Run = 3 * time.Second
	}
	if o.Pool == 0 {
		o.Pool = int(60_000 * o.Run.Seconds())
	}
	results := make([]Result, len(sides))
	size := o.Pool
	for range o.Rounds {
		pool := o.Sign(size)
		fastest := 0.0
		for i, s := range sides {
			pool.rewind()
			run := func() (Result, error) { return Run(s, pool, o.Conns, o.Run) }
			var r Result
			var err error
			if o.Around != nil {
				r, err = o.Around(s, run)
			} else {
				r, err = run()
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Name, err)
			}
			results[i].Add(r)
			fastest = max(fastest, r.PerSecond())
		}
		size = max(size, int(fastest*o.Run.Seconds()*1.3))
	}
	return results, nil
}
