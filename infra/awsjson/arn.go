package awsjson

import (
	"strings"

	"github.com/kmsless/kmsless/core"
)

// arns names keys and aliases the AWS way, and reads the AWS names callers give.
type arns struct {
	// prefix is "arn:aws:kms:<region>:<account>:".
	prefix string
	// user is "arn:aws:iam::<account>:user/", the AWS spelling of
	// core.Service.PrincipalARN; principal is that with core's account,
	// "acs:ram::<account>:user/".
	user, principal string
	// root is the account's own ARN, the IssuingAccount of every grant.
	root string
}

func newARNs(kms *core.Service) arns {
	account := core.AWSAccount(kms.AccountID())
	return arns{prefix: "arn:aws:kms:" + kms.Region() + ":" + account + ":",
		user: "arn:aws:iam::" + account + ":user/", principal: kms.PrincipalARN(""), root: "arn:aws:iam::" + account + ":root"}
}

// principalIn is core's spelling of a principal named by its AWS ARN; any
// other goes to core as it is, to refuse.
func (a arns) principalIn(arn string) string {
	if name, ok := strings.CutPrefix(arn, a.user); ok {
		return a.principal + name
	}
	return arn
}

// principalOut is the AWS spelling of a principal's ARN.
func (a arns) principalOut(arn string) string {
	if name, ok := strings.CutPrefix(arn, a.principal); ok {
		return a.user + name
	}
	return arn
}

// KeyRef reads ref, a key ID, key ARN, alias name or alias ARN, as a request
// over the AWS protocol to kms is read (see arns.ref), for inputs outside that
// protocol that take the ARNs it hands out, such as partition events.
func KeyRef(kms *core.Service, ref string) (string, error) { return newARNs(kms).ref(ref) }

func (a arns) key(id string) string     { return a.prefix + "key/" + id }
func (a arns) alias(name string) string { return a.prefix + name }

// ref turns a key ID, key ARN, alias name or alias ARN into core's spelling:
// an ARN of this region and account loses its prefix, an AWS ARN of any other
// is a key that is not here, and anything else passes as it is, for core to
// accept or refuse.
func (a arns) ref(ref string) (string, error) {
	rest, ok := strings.CutPrefix(ref, a.prefix)
	if !ok {
		if strings.HasPrefix(ref, "arn:") {
			return "", core.Errorf(core.CodeKeyNotFound, "The key %q is not in this region and account (%s).", core.ClipText(ref), strings.TrimSuffix(a.prefix, ":"))
		}
		return ref, nil
	}
	if id, ok := strings.CutPrefix(rest, "key/"); ok {
		if strings.HasPrefix(id, "alias/") {
			return "", core.Errorf(core.CodeInvalidParameter, "The key ARN %q ends in an alias, not a key ID.", core.ClipText(ref))
		}
		return id, nil
	}
	return rest, nil
}
