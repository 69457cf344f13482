package awsjson

import (
	"encoding/json"

	"github.com/kmsless/kmsless/core"
)

// grantConstraints is AWS's GrantConstraints. SourceArn is read to be
// refused (serviceGrant); no grant here has one.
type grantConstraints struct {
	EncryptionContextEquals map[string]string `json:",omitempty"`
	EncryptionContextSubset map[string]string `json:",omitempty"`
	SourceArn               *string           `json:",omitempty"`
}

// serviceGrant refuses CreateGrant's members for AWS service principals:
// a grant to or retirable by a service such as dynamodb.amazonaws.com, or
// one that allows requests made on behalf of an AWS resource alone
// (SourceArn, which a service grant requires). No AWS service calls this
// service and no request to it is made on behalf of a resource, so such a
// grant could never be used or retired by whom it names. A principal and
// a service principal for the same role is AWS's ValidationException.
func serviceGrant(in *input) error {
	if err := principalOrService("Grantee", in.GranteePrincipal, in.GranteeServicePrincipal); err != nil {
		return err
	}
	if err := principalOrService("Retiring", in.RetiringPrincipal, in.RetiringServicePrincipal); err != nil {
		return err
	}
	switch {
	case in.GranteeServicePrincipal != nil || in.RetiringServicePrincipal != nil:
		return core.Errorf(codeUnsupportedOperation, "Grants for AWS service principals are not supported: no AWS service calls this service, so none could use or retire such a grant. Name a principal's ARN in GranteePrincipal and RetiringPrincipal.")
	case in.Constraints != nil && in.Constraints.SourceArn != nil:
		return core.Errorf(codeUnsupportedOperation, "The SourceArn grant constraint is not supported: no request to this service is made on behalf of an AWS resource, so a grant with it would allow nothing.")
	}
	return nil
}

// principalOrService refuses a grant's role (Grantee, Retiring) named both
// by a principal and by a service principal, as AWS does.
func principalOrService(role string, principal, service *string) error {
	if principal != nil && service != nil {
		return invalid(role+"ServicePrincipal", "give it or %sPrincipal, not both", role)
	}
	return nil
}

// principal sets core's parameter to the principal an AWS member names.
func (h *handler) principal(p core.Params, name string, v *string) {
	if v != nil {
		p[name] = h.arns.principalIn(*v)
	}
}

func createGrantParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if err := cryptoCommon(p, in); err != nil {
		return nil, err
	}
	if err := serviceGrant(in); err != nil {
		return nil, err
	}
	if in.GranteePrincipal == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter GranteePrincipal is required.")
	}
	if in.Operations == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter Operations is required.")
	}
	h.principal(p, "GranteePrincipal", in.GranteePrincipal)
	h.principal(p, "RetiringPrincipal", in.RetiringPrincipal)
	b, _ := json.Marshal(in.Operations) // strings only
	p["Operations"] = string(b)
	if in.Name != nil {
		if *in.Name == "" {
			return nil, invalid("Name", "it must be 1 to 256 characters")
		}
		p["Name"] = *in.Name
	}
	if c := in.Constraints; c != nil {
		if err := setContext(p, "EncryptionContextEquals", c.EncryptionContextEquals); err != nil {
			return nil, err
		}
		if err := setContext(p, "EncryptionContextSubset", c.EncryptionContextSubset); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func listGrantsParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if in.GrantId != nil {
		p["GrantId"] = *in.GrantId
	}
	h.principal(p, "GranteePrincipal", in.GranteePrincipal)
	if err := principalOrService("Grantee", in.GranteePrincipal, in.GranteeServicePrincipal); err != nil {
		return nil, err
	}
	if in.GranteeServicePrincipal != nil {
		if v := *in.GranteeServicePrincipal; v == "" || len(v) > 256 {
			return nil, invalid("GranteeServicePrincipal", "it must be 1 to 256 characters")
		}
		// No grant here is to a service principal (serviceGrant): core
		// answers the key's grants to this one, none, once the caller may
		// list them.
		p["GranteeServicePrincipal"] = *in.GranteeServicePrincipal
	}
	return p, positionParams(p, in, 50, 100, core.ValidGrantID)
}

func retirableGrantsParams(h *handler, in *input) (core.Params, error) {
	p := core.Params{}
	if err := principalOrService("Retiring", in.RetiringPrincipal, in.RetiringServicePrincipal); err != nil {
		return nil, err
	}
	if in.RetiringServicePrincipal != nil {
		return nil, core.Errorf(codeUnsupportedOperation, "Only an AWS service principal lists grants by RetiringServicePrincipal, and none calls this service: list a principal's by its ARN in RetiringPrincipal.")
	}
	if in.RetiringPrincipal == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter RetiringPrincipal is required.")
	}
	h.principal(p, "RetiringPrincipal", in.RetiringPrincipal)
	return p, positionParams(p, in, 50, 100, func(m string) bool {
		_, ok := core.ParseGrantPosition(m)
		return ok
	})
}

// retireGrantParams reads a grant named by its token, or by KeyId and
// GrantId.
func retireGrantParams(h *handler, in *input) (core.Params, error) {
	p := core.Params{}
	if err := h.ref(p, "KeyId", in.KeyId); err != nil {
		return nil, err
	}
	if in.GrantId != nil {
		p["GrantId"] = *in.GrantId
	}
	if in.GrantToken != nil {
		p["GrantToken"] = *in.GrantToken
	}
	return p, cryptoCommon(p, in)
}

func revokeGrantParams(h *handler, in *input) (core.Params, error) {
	p, err := h.keyParams(in)
	if err != nil {
		return nil, err
	}
	if in.GrantId == nil {
		return nil, core.Errorf(core.CodeMissingParameter, "The parameter GrantId is required.")
	}
	p["GrantId"] = *in.GrantId
	return p, cryptoCommon(p, in)
}

func renderGrantCreated(h *handler, _ core.Params, result any) (any, error) {
	g, ok := result.(core.GrantCreated)
	if !ok {
		return nil, unexpected(result)
	}
	return struct{ GrantId, GrantToken string }{g.GrantID, g.Token}, nil
}

// grantEntry is AWS's GrantListEntry.
type grantEntry struct {
	KeyId, GrantId    string
	Name              string `json:",omitempty"`
	CreationDate      *epoch
	GranteePrincipal  string
	RetiringPrincipal string `json:",omitempty"`
	IssuingAccount    string
	Operations        []string
	Constraints       *grantConstraints `json:",omitempty"`
}

func renderGrants(h *handler, _ core.Params, result any) (any, error) {
	l, ok := result.(core.GrantPage)
	if !ok {
		return nil, unexpected(result)
	}
	out := struct {
		Grants []grantEntry
		more
	}{Grants: make([]grantEntry, 0, len(l.Items)), more: more{Truncated: l.Next != "", NextMarker: l.Next}}
	for _, g := range l.Items {
		e := grantEntry{KeyId: h.arns.key(g.KeyID), GrantId: g.ID, Name: g.Name, CreationDate: epochPtr(g.CreatedAt),
			GranteePrincipal: h.arns.principalOut(g.Grantee), IssuingAccount: h.arns.root, Operations: g.Operations}
		if g.Retiring != "" {
			e.RetiringPrincipal = h.arns.principalOut(g.Retiring)
		}
		if c := g.Constraints; c.Equals != nil || c.Subset != nil {
			e.Constraints = &grantConstraints{EncryptionContextEquals: c.Equals, EncryptionContextSubset: c.Subset}
		}
		out.Grants = append(out.Grants, e)
	}
	return out, nil
}
