package core

import (
	"fmt"
)

// Statement is one rule of a policy: Allow or Deny the Actions ("kms:Encrypt")
// on the Resources (ARNs), both with * and ? wildcards. Actions match without
// regard to case, resources exactly.
type Statement struct {
	Effect   string
	Action   []string
	Resource []string
}

// Policy is a RAM policy compiled for the service's actions: immutable once
// made by NewPolicy, and safe for concurrent use. Deny beats Allow; nothing
// matching means deny.
type Policy struct {
	statements []Statement
	// naming holds, per action of the service, the statements whose Action
	// matches it, so a request matches only their resources.
	naming map[string][]int
	// some: the action may be allowed on some resource (the early check).
	some map[string]bool
}

// NewPolicy checks statements (known effects, non-empty actions and resources)
// and compiles them.
func NewPolicy(statements ...Statement) (*Policy, error) {
	for i, st := range statements {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("statement %d: Effect must be Allow or Deny, not %q", i, st.Effect)
		}
		if len(st.Action) == 0 {
			return nil, fmt.Errorf("statement %d: Action is empty", i)
		}
		if len(st.Resource) == 0 {
			return nil, fmt.Errorf("statement %d: Resource is empty", i)
		}
	}
	p := &Policy{statements: statements, naming: map[string][]int{}, some: map[string]bool{}}
	for _, a := range ramActions {
		for j, st := range statements {
			if matchAny(st.Action, a, true) {
				p.naming[a] = append(p.naming[a], j)
			}
		}
		p.some[a] = p.Allowed(a)
	}
	return p, nil
}

// MustPolicy is NewPolicy for fixed policies written in code; it panics on a
// statement NewPolicy refuses.
func MustPolicy(statements ...Statement) *Policy {
	p, err := NewPolicy(statements...)
	if err != nil {
		panic(err)
	}
	return p
}

// Allowed reports whether action ("kms:Encrypt") is allowed on at least one of
// resources and denied on none of them. With no resources it answers whether the
// action could be allowed on some resource.
func (p *Policy) Allowed(action string, resources ...string) bool {
	if p == nil {
		return false
	}
	if stmts, ok := p.naming[action]; ok {
		return p.verdict(stmts, resources)
	}
	var stmts []int
	for j, st := range p.statements {
		if matchAny(st.Action, action, true) {
			stmts = append(stmts, j)
		}
	}
	return p.verdict(stmts, resources)
}

// mayAllow is the early check: could action be allowed on any resource?
func (p *Policy) mayAllow(action string) bool {
	if some, ok := p.some[action]; ok {
		return some
	}
	return p.Allowed(action)
}

// verdict combines what the statements naming an action say about resources.
func (p *Policy) verdict(stmts []int, resources []string) bool {
	allowed := false
	for _, j := range stmts {
		st := &p.statements[j]
		hit := len(resources) == 0
		for _, r := range resources {
			if matchAny(st.Resource, r, false) {
				hit = true
				break
			}
		}
		switch {
		case !hit:
		case st.Effect == "Allow":
			allowed = true
		case len(resources) > 0 || hasStar(st.Resource):
			// A Deny on some resources does not rule the action out
			// everywhere; only a Deny on every resource does.
			return false
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

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if match(p, s, fold) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where * matches any run of characters
// (including none) and ? any one character.
func Match(pattern, s string) bool { return match(pattern, s, false) }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// match is iterative with one backtrack point: linear in practice, no
// recursion.
func match(pattern, s string, fold bool) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch c := s[i]; {
		case p < len(pattern) && pattern[p] == '*':
			if p == len(pattern)-1 {
				return true // a trailing * matches whatever is left
			}
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == c || fold && lower(pattern[p]) == lower(c)):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
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
