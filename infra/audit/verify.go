package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"slices"
)

// Problem kinds a verification reports.
const (
	Edited    = "edited"    // a line's HMAC does not match it, or its link does not
	Dropped   = "dropped"   // sequence numbers missing from a chain
	Reordered = "reordered" // a record that came after its successor, or twice
	Truncated = "truncated" // a file that ends in the middle of a record
)

// Problem is one thing wrong with the trail, and where.
type Problem struct {
	Kind     string `json:"kind"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Instance string `json:"instanceId,omitempty"`
	Detail   string `json:"detail"`
}

func (p Problem) String() string {
	where := p.File
	if p.Line > 0 {
		where = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Kind, p.Detail)
}

// Chain is what a verification saw of one instance's chain.
type Chain struct {
	Instance string `json:"instanceId"`
	Records  int    `json:"records"`
	First    uint64 `json:"first"`
	Last     uint64 `json:"last"`
	// LastHMAC is the newest record's HMAC: compare it with one kept apart
	// (a monitoring system's copy) to show the tail is all there.
	LastHMAC string `json:"lastHmac"`
	LastAt   string `json:"lastAt"`
}

// Verifier checks records line by line, any number of files, any number of
// instances' chains interleaved. Lines that are not audit records (a
// function's other log lines in the same stream) are skipped.
type Verifier struct {
	mac      hash.Hash
	chains   map[string]*chainState
	order    []string
	problems []Problem
	records  int
	// Each, if set, is called with every authentic record.
	Each func(Record)
}

type chainState struct {
	Chain
	max     uint64
	missing map[uint64]position // awaited sequence → where the gap showed
	lastAt  position
	open    map[uint64]string // hmac of records whose successor is not seen yet
	wait    map[uint64]string // hmac a seen successor says its predecessor has
}

// NewVerifier returns a Verifier for chains under key (the root key's
// derivation for KeyPurpose).
func NewVerifier(key []byte) *Verifier {
	return &Verifier{mac: hmac.New(sha256.New, key), chains: map[string]*chainState{}}
}

// Read verifies the records of one file.
func (v *Verifier) Read(name string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			complete := line[len(line)-1] == '\n'
			v.line(name, n, bytes.TrimRight(line, "\r\n"), complete)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var recordStart = []byte(`{"eventVersion":`)

func (v *Verifier) line(file string, n int, line []byte, complete bool) {
	if !bytes.HasPrefix(line, recordStart) {
		if i := bytes.Index(line, recordStart); i >= 0 {
			line = line[i:] // a collector's prefix (a timestamp, a stream name)
		} else {
			return
		}
	}
	bad := func(kind, detail string) {
		v.problems = append(v.problems, Problem{Kind: kind, File: file, Line: n, Detail: detail})
	}
	i := bytes.LastIndex(line, []byte(macField))
	if !complete && (i < 0 || !bytes.HasSuffix(line, []byte(`"}`))) {
		bad(Truncated, "the file ends in the middle of a record")
		return
	}
	if i < 0 || !bytes.HasSuffix(line, []byte(`"}`)) {
		bad(Edited, "a record without its HMAC")
		return
	}
	got, err := hex.DecodeString(string(line[i+len(macField) : len(line)-2]))
	body := append(line[:i:i], '}')
	if err != nil || !hmac.Equal(got, sign(v.mac, body)) {
		bad(Edited, "the record does not match its HMAC")
		return
	}
	var rec Record
	if v.Each != nil {
		err = json.Unmarshal(body, &rec)
	} else {
		// Only the chain position: a whole record costs three times as much.
		var pos struct {
			InstanceID string `json:"instanceId"`
			Sequence   uint64 `json:"sequence"`
			Prev       string `json:"prev"`
		}
		err = json.Unmarshal(body, &pos)
		rec.InstanceID, rec.Sequence, rec.Prev = pos.InstanceID, pos.Sequence, pos.Prev
	}
	if err != nil || rec.InstanceID == "" || rec.Sequence == 0 {
		bad(Edited, "an authentic HMAC over a record without a chain position")
		return
	}
	rec.HMAC = hex.EncodeToString(got)
	v.records++
	v.link(position{file, n}, rec, bad)
	if v.Each != nil {
		v.Each(rec)
	}
}

// position is a line of a file.
type position struct {
	file string
	line int
}

func (p position) String() string { return fmt.Sprintf("%s:%d", p.file, p.line) }

func (v *Verifier) link(where position, rec Record, bad func(kind, detail string)) {
	c := v.chains[rec.InstanceID]
	if c == nil {
		c = &chainState{Chain: Chain{Instance: rec.InstanceID, First: rec.Sequence},
			missing: map[uint64]position{}, open: map[uint64]string{}, wait: map[uint64]string{}}
		v.chains[rec.InstanceID] = c
		v.order = append(v.order, rec.InstanceID)
		if rec.Sequence > 1 {
			bad(Dropped, fmt.Sprintf("instance %s begins at record %d: records 1 to %d are not in the input", rec.InstanceID, rec.Sequence, rec.Sequence-1))
		}
	}
	s := rec.Sequence
	switch {
	case s > c.max:
		for m := c.max + 1; m < s && c.max > 0; m++ {
			c.missing[m] = where
		}
		c.max = s
		c.Last, c.LastHMAC, c.lastAt = s, rec.HMAC, where
	case c.missing[s] != (position{}):
		bad(Reordered, fmt.Sprintf("instance %s record %d comes after record %d", rec.InstanceID, s, c.max))
		delete(c.missing, s)
	default:
		bad(Reordered, fmt.Sprintf("instance %s record %d appears twice", rec.InstanceID, s))
		return
	}
	c.Records++
	c.First = min(c.First, s)
	if s > 1 {
		if h, ok := c.open[s-1]; ok {
			if h != rec.Prev {
				bad(Edited, fmt.Sprintf("instance %s record %d does not follow record %d", rec.InstanceID, s, s-1))
			}
			delete(c.open, s-1)
		} else {
			c.wait[s-1] = rec.Prev
		}
	}
	if h, ok := c.wait[s]; ok {
		if h != rec.HMAC {
			bad(Edited, fmt.Sprintf("instance %s record %d is not the one record %d follows", rec.InstanceID, s, s+1))
		}
		delete(c.wait, s)
	} else {
		c.open[s] = rec.HMAC
	}
}

// Result ends the verification: the problems found, in input order with the
// drops last, and each chain.
func (v *Verifier) Result() (problems []Problem, chains []Chain, records int) {
	problems = slices.Clone(v.problems)
	for _, id := range v.order {
		c := v.chains[id]
		var gone []uint64
		for s := range c.missing {
			gone = append(gone, s)
		}
		slices.Sort(gone)
		for _, run := range runs(gone) {
			where := c.missing[run[0]]
			detail := fmt.Sprintf("instance %s record %d is missing (noticed before %s)", id, run[0], where)
			if run[1] != run[0] {
				detail = fmt.Sprintf("instance %s records %d to %d are missing (noticed before %s)", id, run[0], run[1], where)
			}
			problems = append(problems, Problem{Kind: Dropped, File: where.file, Line: where.line, Instance: id, Detail: detail})
		}
		c.LastAt = c.lastAt.String()
		chains = append(chains, c.Chain)
	}
	return problems, chains, v.records
}

func runs(seqs []uint64) [][2]uint64 {
	var out [][2]uint64
	for _, s := range seqs {
		if len(out) > 0 && out[len(out)-1][1]+1 == s {
			out[len(out)-1][1] = s
			continue
		}
		out = append(out, [2]uint64{s, s})
	}
	return out
}
