package core

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
)

// Policy is a RAM policy document: statements that Allow or Deny actions on
// resources. Deny beats Allow; nothing matching means deny. A Service works out
// a policy's answer for each of its actions on first use, so a Policy must not
// change once requests use it.
type Policy struct {
	Version   string      `json:"Version" yaml:"Version"`
	Statement []Statement `json:"Statement" yaml:"Statement"`

	ix atomic.Pointer[policyIndex]
}

// Statement is one rule of a Policy. Action and Resource accept a string or a list
// of strings, with * and ? wildcards.
type Statement struct {
	Effect    string      `json:"Effect" yaml:"Effect"`
	Action    StringList  `json:"Action" yaml:"Action"`
	Resource  StringList  `json:"Resource" yaml:"Resource"`
	Condition interface{} `json:"Condition,omitempty" yaml:"Condition,omitempty"`
}

// StringList is a JSON/YAML value that may be a single string or a list.
type StringList []string

// UnmarshalJSON accepts "x" or ["x","y"].
func (s *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// UnmarshalYAML accepts a scalar or a sequence.
func (s *StringList) UnmarshalYAML(unmarshal func(any) error) error {
	var one string
	if err := unmarshal(&one); err == nil {
		*s = StringList{one}
		return nil
	}
	var many []string
	if err := unmarshal(&many); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// Validate checks that the policy can be evaluated: known effects, non-empty
// actions and resources, and no conditions (which this service does not
// evaluate, so it refuses them rather than ignore them).
func (p *Policy) Validate() error {
	for i, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return fmt.Errorf("statement %d: Effect must be Allow or Deny, not %q", i, st.Effect)
		}
		if len(st.Action) == 0 {
			return fmt.Errorf("statement %d: Action is empty", i)
		}
		if len(st.Resource) == 0 {
			return fmt.Errorf("statement %d: Resource is empty", i)
		}
		if st.Condition != nil {
			return fmt.Errorf("statement %d: Condition is not supported", i)
		}
	}
	return nil
}

// Allowed reports whether action ("kms:Encrypt") is allowed on at least one of
// resources and denied on none of them. With no resources it answers whether the
// action could be allowed on some resource.
func (p *Policy) Allowed(action string, resources ...string) bool {
	var buf [4]arn
	rs := buf[:0]
	for _, r := range resources {
		rs = append(rs, arn{name: r})
	}
	return p.allowed(action, rs...)
}

// arn is a resource name in two parts, matched as their concatenation. The
// service's ARNs share a prefix per region and account, so a request can be
// checked against "…:key/" and a key ID without building that string.
type arn struct{ prefix, name string }

func (a arn) len() int { return len(a.prefix) + len(a.name) }

func (a arn) at(i int) byte {
	if i < len(a.prefix) {
		return a.prefix[i]
	}
	return a.name[i-len(a.prefix)]
}

// indexByte returns the first index from i on where a holds c, or -1.
func (a arn) indexByte(c byte, i int) int {
	if i < len(a.prefix) {
		if k := strings.IndexByte(a.prefix[i:], c); k >= 0 {
			return i + k
		}
		i = len(a.prefix)
	}
	if k := strings.IndexByte(a.name[i-len(a.prefix):], c); k >= 0 {
		return i + k
	}
	return -1
}

func (p *Policy) allowed(action string, resources ...arn) bool {
	if p == nil {
		return false
	}
	allowed := false
	for i := range p.Statement {
		st := &p.Statement[i]
		if !matchAny(st.Action, arn{name: action}, true) {
			continue
		}
		switch st.verdict(resources) {
		case deny:
			return false
		case allow:
			allowed = true
		}
	}
	return allowed
}

type effect int8

const (
	none effect = iota
	allow
	deny
)

// verdict is what a statement naming the action says about resources.
func (st *Statement) verdict(resources []arn) effect {
	hit := len(resources) == 0
	for _, r := range resources {
		if matchAny(st.Resource, r, false) {
			hit = true
			break
		}
	}
	switch {
	case !hit:
		return none
	case st.Effect != "Deny":
		return allow
	case len(resources) == 0 && !hasStar(st.Resource):
		// A Deny on some resources does not rule the action out
		// everywhere; only a Deny on every resource does.
		return none
	}
	return deny
}

// policyIndex holds a policy's answers for each action of the service (by
// action index), so the request path reads them instead of matching patterns.
type policyIndex struct {
	// some: the action may be allowed on some resource (the early check).
	some []bool
	// every: an Allow on "*" and no Deny of the action at all, so it is allowed
	// on any resource without matching one.
	every []bool
	// naming lists the statements whose Action matches the action, so only
	// their resources are matched.
	naming [][]int
}

// index returns the policy's answers per action, working them out on first
// use. Concurrent first uses may both work them out; the answers are the same.
func (p *Policy) index() *policyIndex {
	if ix := p.ix.Load(); ix != nil {
		return ix
	}
	n := len(ramActions)
	ix := &policyIndex{some: make([]bool, n), every: make([]bool, n), naming: make([][]int, n)}
	for i, a := range ramActions {
		star := false
		for j := range p.Statement {
			st := &p.Statement[j]
			if matchAny(st.Action, arn{name: a}, true) {
				ix.naming[i] = append(ix.naming[i], j)
				star = star || hasStar(st.Resource)
			}
		}
		ix.some[i] = p.allowed(a)
		ix.every[i] = star && !p.denies(ix.naming[i])
	}
	p.ix.Store(ix)
	return ix
}

// denies reports whether any of the statements is a Deny. With none, and an
// Allow on "*", allowed answers true for any resources: nothing can refuse them.
func (p *Policy) denies(stmts []int) bool {
	for _, j := range stmts {
		if p.Statement[j].Effect == "Deny" {
			return true
		}
	}
	return false
}

// mayAllow is Allowed(action) with no resources. ax is the action's index in
// ramActions plus one; zero (a call made outside Handle) matches the patterns.
func (p *Policy) mayAllow(ax int32, action string) bool {
	if p == nil {
		return false
	}
	if ax > 0 {
		return p.index().some[ax-1]
	}
	return p.allowed(action)
}

// allowedAt is allowed, reading the index first when ax (as for mayAllow)
// names the action.
func (p *Policy) allowedAt(ax int32, action string, resources ...arn) bool {
	if p == nil {
		return false
	}
	if ax <= 0 {
		return p.allowed(action, resources...)
	}
	ix := p.index()
	if ix.every[ax-1] {
		return true
	}
	allowed := false
	for _, j := range ix.naming[ax-1] {
		switch p.Statement[j].verdict(resources) {
		case deny:
			return false
		case allow:
			allowed = true
		}
	}
	return allowed
}

func hasStar(list []string) bool {
	for _, p := range list {
		if p == "*" {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, s arn, fold bool) bool {
	for _, p := range patterns {
		if match(p, s, fold) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where * matches any run of characters
// (including none) and ? any one character.
func Match(pattern, s string) bool { return match(pattern, arn{name: s}, false) }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func match(pattern string, s arn, fold bool) bool {
	// Iterative matching with one backtrack point: linear in practice, no recursion.
	p, i, n := 0, 0, s.len()
	star, mark := -1, 0
	if k := len(pattern) - 1; !fold && k >= 0 && n > 0 && pattern[k] != '*' && pattern[k] != '?' && pattern[k] != s.at(n-1) {
		// A pattern ending in a character matches only what ends in it:
		// "acs:kms:*:*:key" is refused for a key's ARN without a walk.
		return false
	}
	for i < n {
		switch c := s.at(i); {
		case p < len(pattern) && pattern[p] == '*':
			if p == len(pattern)-1 {
				// A trailing * matches whatever is left ("kms:*", "*"): no
				// need to walk the rest of s.
				return true
			}
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == c || fold && lower(pattern[p]) == lower(c)):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			if c := pattern[p]; !fold && c != '?' && c != '*' {
				// What follows the star must start with c: jump to the next
				// c rather than try each place in between ("acs:kms:*:*:key/*"
				// crosses the region and account in two jumps). With none
				// left, the star cannot end anywhere.
				if mark = s.indexByte(c, mark); mark < 0 {
					return false
				}
			}
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
