package core

import (
	"fmt"
	"strings"
)

// Statement is one rule of a policy: Allow or Deny the Actions ("kms:Encrypt")
// on the Resources (ARNs), both with * and ? wildcards, when every Condition
// holds. Actions match without regard to case, resources exactly.
type Statement struct {
	Effect    string
	Action    []string
	Resource  []string
	Condition []Condition
}

// Policy is a RAM policy compiled for the service's actions: immutable once
// made by NewPolicy, and safe for concurrent use. Deny beats Allow; nothing
// matching means deny.
type Policy struct {
	statements []Statement
	// conds holds each statement's compiled conditions.
	conds [][]condition
	// conditional: some statement has conditions, so a request's facts
	// matter once its key is known.
	conditional bool
	// naming holds, per action of the service (by actionID), the statements
	// whose Action matches it, so a request matches only their resources.
	naming [][]int
	// some: per action of the service, whether it may be allowed on some
	// resource (the early check).
	some []bool
	// everywhere: per action of the service, whether every statement naming
	// it covers every resource ("*"), so that no resource changes a verdict.
	everywhere []bool
}

// NewPolicy checks statements (known effects, non-empty actions and resources)
// and compiles them.
func NewPolicy(statements ...Statement) (*Policy, error) {
	p, err := compileStatements(statements)
	if err != nil {
		return nil, err
	}
	p.naming, p.some, p.everywhere = make([][]int, len(ramActions)), make([]bool, len(ramActions)), make([]bool, len(ramActions))
	for id, a := range ramActions {
		p.naming[id] = p.statementsNaming(a)
		p.some[id] = p.verdict(p.naming[id], nil, true, nil)
		p.everywhere[id] = true
		for _, j := range p.naming[id] {
			p.everywhere[id] = p.everywhere[id] && hasStar(statements[j].Resource)
		}
	}
	return p, nil
}

// compileStatements checks statements and compiles their conditions, and
// indexes nothing: NewPolicy indexes a caller's policy by action, a key's
// policy indexes itself in its own language (keypolicy.go).
func compileStatements(statements []Statement) (*Policy, error) {
	for i, st := range statements {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("statement %d: Effect must be Allow or Deny, not %q", i, ClipText(st.Effect))
		}
		if len(st.Action) == 0 {
			return nil, fmt.Errorf("statement %d: Action is empty", i)
		}
		if len(st.Resource) == 0 {
			return nil, fmt.Errorf("statement %d: Resource is empty", i)
		}
	}
	p := &Policy{statements: statements, conds: make([][]condition, len(statements))}
	for i, st := range statements {
		for _, c := range st.Condition {
			cc, err := compileCondition(c)
			if err != nil {
				return nil, fmt.Errorf("statement %d: %w", i, err)
			}
			p.conds[i] = append(p.conds[i], cc)
			p.conditional = true
		}
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
// resources and denied on none of them, for a request that tells conditions
// nothing (no context, no tags, no source IP). With no resources it answers
// whether the action could be allowed on some resource.
func (p *Policy) Allowed(action string, resources ...string) bool {
	return p.decide(action, &Facts{}, false, resources)
}

// AllowedWith is Allowed for a request with the given facts.
func (p *Policy) AllowedWith(action string, f *Facts, resources ...string) bool {
	if f == nil {
		f = &Facts{}
	}
	return p.decide(action, f, false, resources)
}

// allows is AllowedWith for one of the service's actions, the check of a
// running request.
func (p *Policy) allows(id actionID, f *Facts, resources ...string) bool {
	return p.decideID(id, f, false, resources)
}

// mayAllowOn is the check made before the facts are known (before the key is
// read): could some request be allowed action on resources? A conditional
// Allow counts, a conditional Deny does not.
func (p *Policy) mayAllowOn(id actionID, resources ...string) bool {
	return p.decideID(id, nil, true, resources)
}

// mayAllow is the early check: could action be allowed on any resource?
func (p *Policy) mayAllow(id actionID) bool {
	if p != nil && p.some != nil {
		return p.some[id]
	}
	return p.decideID(id, nil, true, nil)
}

// readsResources reports whether the resources of a request for action can
// change p's verdict: not when every statement naming it covers every
// resource, as full access does, and then callers may pass none.
func (p *Policy) readsResources(id actionID) bool {
	return p == nil || p.everywhere == nil || !p.everywhere[id]
}

// decide evaluates the statements naming action. Conditions that cannot be
// told (f nil, or a fact the request lacks) count for an Allow and against a
// Deny when optimistic, the other way round when not.
func (p *Policy) decide(action string, f *Facts, optimistic bool, resources []string) bool {
	if id, ok := actionIDs[action]; ok {
		return p.decideID(id, f, optimistic, resources)
	}
	return p != nil && p.verdict(p.statementsNaming(action), f, optimistic, resources)
}

// decideID is decide for one of the service's actions, by its index (a zero
// Policy allows nothing).
func (p *Policy) decideID(id actionID, f *Facts, optimistic bool, resources []string) bool {
	return p != nil && p.verdict(p.statementsOf(id), f, optimistic, resources)
}

// statementsOf is the statements naming one of the service's actions: those
// NewPolicy indexed, or, in a policy it did not make, those a walk finds.
func (p *Policy) statementsOf(id actionID) []int {
	if p.naming != nil {
		return p.naming[id]
	}
	return p.statementsNaming(ramActions[id])
}

// statementsNaming walks the statements for those whose Action matches action.
func (p *Policy) statementsNaming(action string) []int {
	var stmts []int
	for j, st := range p.statements {
		if matchAny(st.Action, action, true) {
			stmts = append(stmts, j)
		}
	}
	return stmts
}

// verdict combines what the statements naming an action say about resources.
func (p *Policy) verdict(stmts []int, f *Facts, optimistic bool, resources []string) bool {
	allowed := false
	for _, j := range stmts {
		st := &p.statements[j]
		switch {
		case !p.applies(j, f, optimistic, resources):
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

// applies reports whether statement j covers one of resources (any, when
// there are none) and its conditions hold, those that cannot be told
// counting as verdict's do.
func (p *Policy) applies(j int, f *Facts, optimistic bool, resources []string) bool {
	st := &p.statements[j]
	hit := len(resources) == 0
	for _, r := range resources {
		if matchAny(st.Resource, r, false) {
			hit = true
			break
		}
	}
	if hit && j < len(p.conds) && len(p.conds[j]) > 0 {
		switch evalAll(p.conds[j], f) {
		case fails:
			hit = false
		case unknown:
			hit = optimistic == (st.Effect == "Allow")
		}
	}
	return hit
}

// denies reports whether a Deny of p covers the action on one of resources
// with facts f, a condition that cannot be told counting as holding: what
// no grant can outweigh.
func (p *Policy) denies(id actionID, f *Facts, resources []string) bool {
	if p == nil {
		return false
	}
	for _, j := range p.statementsOf(id) {
		if p.statements[j].Effect == "Deny" && p.applies(j, f, false, resources) {
			return true
		}
	}
	return false
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
	// What follows the last * matches the end of s exactly, or nothing
	// does: checked first, it spares the backtracking that a near miss
	// costs, such as a key's ARN against the pattern of the key collection
	// (acs:kms:*:*:key).
	if star := strings.LastIndexByte(pattern, '*'); star >= 0 {
		tail := pattern[star+1:]
		if len(tail) > len(s) || !matchFixed(tail, s[len(s)-len(tail):], fold) {
			return false
		}
	}
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

// matchFixed matches a pattern without * against s of the same length.
func matchFixed(pattern, s string, fold bool) bool {
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c != '?' && c != s[i] && !(fold && lower(c) == lower(s[i])) {
			return false
		}
	}
	return true
}
