package platform

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/awsjson"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/instance"
	"github.com/kmsless/kmsless/infra/rpc"
	"github.com/kmsless/kmsless/infra/trigger"
)

func rpcOptions(svc *config.Service) rpc.Options {
	s := svc.Settings
	return rpc.Options{KMS: svc.KMS, Principals: svc.Principals, Edge: svc.Edge, ClockSkew: s.ClockSkew, MaxBody: s.MaxBody}
}

// protocols serves the three wire protocols on one listener, serving action
// alone when it is set: an AWS KMS request (it carries X-Amz-Target) goes to
// the AWS JSON handler, a KMS instance API request (X-Kms-Apiname) to the
// instance handler, anything else to the Alibaba RPC one.
func protocols(svc *config.Service, action string) http.Handler {
	opts := rpcOptions(svc)
	opts.Action = action
	alibaba := rpc.New(opts)
	aws := awsjson.New(awsjson.Options{KMS: svc.KMS, Principals: svc.Principals, Edge: svc.Edge, Action: action, MaxBody: svc.Settings.MaxBody,
		AllowRepeats: svc.Settings.SigV4Repeats})
	inst := instance.New(instance.Options{KMS: svc.KMS, Principals: svc.Principals, Edge: svc.Edge, Action: action,
		ClockSkew: svc.Settings.ClockSkew, MaxBody: svc.Settings.MaxBody})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case awsjson.IsAWS(r):
			aws.ServeHTTP(w, r)
		case instance.IsInstanceAPI(r):
			inst.ServeHTTP(w, r)
		default:
			alibaba.ServeHTTP(w, r)
		}
	})
}

// API is the api function: every action over HTTP, from callers who sign with a
// principal's credentials. It answers HTTP trigger events and serves locally;
// direct invocations are refused, since the platform's permission to invoke it
// would otherwise grant every action.
func API(svc *config.Service) Function {
	h := protocols(svc, "")
	return Function{Name: "api", Handler: trigger.Router{HTTP: h}.Handle, HTTP: h}
}

// Action is the function of one action. A direct invocation runs as the
// function's invoke principal, allowed this action only; an HTTP trigger event
// must be signed by a principal for this action, or it is refused with
// InvalidParameter.
func Action(svc *config.Service, action string) Function {
	name := FunctionName(action)
	caller := trigger.InvokePrincipal(name, invokeResources(svc.KMS, action), action)
	iv := trigger.Invoker{KMS: svc.KMS, Edge: svc.Edge, Action: action, Caller: caller}
	return Function{Name: name, Handler: trigger.Router{HTTP: protocols(svc, action), Direct: iv.Invoke}.Handle}
}

// invokeResources are the resources a per-action function's invoke principal
// may act on: keys and aliases for the key actions, the key collection for
// CreateKey, partition records for GetPartitionDataKey, and nothing else.
func invokeResources(kms *core.Service, action string) []string {
	switch action {
	case "CreateKey":
		return []string{kms.CollectionARN("key")}
	case "GetPartitionDataKey":
		return []string{kms.PartitionARN("*")}
	}
	return []string{kms.KeyARN("*"), kms.AliasARN("alias/*")}
}

// FunctionName is the folder of an action's function: GenerateDataKey becomes
// generate-data-key, ReEncrypt re-encrypt.
func FunctionName(action string) string {
	var b strings.Builder
	for i, r := range action {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
