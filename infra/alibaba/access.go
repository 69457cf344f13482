package alibaba

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/clientkey"
)

// The responses of the access configuration's actions, in the shapes of
// Alibaba's SDK: its Create answers carry the lists they were given as JSON
// text, DescribePolicy as lists.
type (
	NetworkRuleResponse struct {
		RequestId       string `json:"RequestId"`
		Arn             string `json:"Arn"`
		Name            string `json:"Name"`
		Type            string `json:"Type"`
		SourcePrivateIp string `json:"SourcePrivateIp"`
		Description     string `json:"Description"`
	}
	CreatePolicyResponse struct {
		RequestId          string `json:"RequestId"`
		Arn                string `json:"Arn"`
		Name               string `json:"Name"`
		Permissions        string `json:"Permissions"`
		Resources          string `json:"Resources"`
		KmsInstance        string `json:"KmsInstance"`
		AccessControlRules string `json:"AccessControlRules"`
		Description        string `json:"Description"`
	}
	DescribePolicyResponse struct {
		RequestId          string   `json:"RequestId"`
		Arn                string   `json:"Arn"`
		Name               string   `json:"Name"`
		Permissions        []string `json:"Permissions"`
		Resources          []string `json:"Resources"`
		KmsInstance        string   `json:"KmsInstance"`
		AccessControlRules string   `json:"AccessControlRules"`
		Description        string   `json:"Description"`
	}
	AccessPointResponse struct {
		RequestId            string `json:"RequestId"`
		Arn                  string `json:"Arn"`
		Name                 string `json:"Name"`
		AuthenticationMethod string `json:"AuthenticationMethod"`
		Policies             string `json:"Policies"`
		Description          string `json:"Description"`
	}
	ListNetworkRulesResponse struct {
		RequestId    string `json:"RequestId"`
		TotalCount   int    `json:"TotalCount"`
		PageNumber   int    `json:"PageNumber"`
		PageSize     int    `json:"PageSize"`
		NetworkRules struct {
			NetworkRule []AccessListEntry `json:"NetworkRule"`
		} `json:"NetworkRules"`
	}
	ListPoliciesResponse struct {
		RequestId  string `json:"RequestId"`
		TotalCount int    `json:"TotalCount"`
		PageNumber int    `json:"PageNumber"`
		PageSize   int    `json:"PageSize"`
		Policies   struct {
			Policy []AccessListEntry `json:"Policy"`
		} `json:"Policies"`
	}
	ListAccessPointsResponse struct {
		RequestId               string `json:"RequestId"`
		TotalCount              int    `json:"TotalCount"`
		PageNumber              int    `json:"PageNumber"`
		PageSize                int    `json:"PageSize"`
		ApplicationAccessPoints struct {
			ApplicationAccessPoint []AccessListEntry `json:"ApplicationAccessPoint"`
		} `json:"ApplicationAccessPoints"`
	}
	// AccessListEntry is one item of a List action: its name, and the
	// one other field that list answers, if any.
	AccessListEntry struct {
		Name                 string `json:"Name"`
		Type                 string `json:"Type,omitempty"`
		AuthenticationMethod string `json:"AuthenticationMethod,omitempty"`
	}
	CreateClientKeyResponse struct {
		RequestId      string `json:"RequestId"`
		ClientKeyId    string `json:"ClientKeyId"`
		KeyAlgorithm   string `json:"KeyAlgorithm"`
		NotBefore      string `json:"NotBefore"`
		NotAfter       string `json:"NotAfter"`
		PrivateKeyData string `json:"PrivateKeyData"`
	}
	// ClientKeyEntry is GetClientKey's answer and ListClientKeys' item;
	// PublicKeyData is the DER SubjectPublicKeyInfo in base64.
	ClientKeyEntry struct {
		RequestId     string `json:"RequestId,omitempty"`
		ClientKeyId   string `json:"ClientKeyId"`
		AapName       string `json:"AapName"`
		KeyAlgorithm  string `json:"KeyAlgorithm"`
		KeyOrigin     string `json:"KeyOrigin"`
		NotBefore     string `json:"NotBefore"`
		NotAfter      string `json:"NotAfter"`
		CreateTime    string `json:"CreateTime"`
		PublicKeyData string `json:"PublicKeyData"`
	}
	ListClientKeysResponse struct {
		RequestId  string           `json:"RequestId"`
		ClientKeys []ClientKeyEntry `json:"ClientKeys"`
	}
)

// accessResponse is the response to an access action's result, and false
// for a result of another kind.
func accessResponse(requestID string, result any) (any, bool, error) {
	switch r := result.(type) {
	case core.NetworkRuleDescription:
		return &NetworkRuleResponse{RequestId: requestID, Arn: r.ARN, Name: r.Name, Type: r.Type,
			SourcePrivateIp: jsonText(r.SourcePrivateIP), Description: r.Description}, true, nil
	case core.PolicyCreated:
		return &CreatePolicyResponse{RequestId: requestID, Arn: r.ARN, Name: r.Name, Permissions: jsonText(r.Permissions),
			Resources: jsonText(r.Resources), KmsInstance: r.KmsInstance, AccessControlRules: accessControlRules(r.PermissionPolicy),
			Description: r.Description}, true, nil
	case core.AccessPolicyDescription:
		return &DescribePolicyResponse{RequestId: requestID, Arn: r.ARN, Name: r.Name, Permissions: r.Permissions,
			Resources: r.Resources, KmsInstance: r.KmsInstance, AccessControlRules: accessControlRules(r.PermissionPolicy),
			Description: r.Description}, true, nil
	case core.AccessPointDescription:
		return &AccessPointResponse{RequestId: requestID, Arn: r.ARN, Name: r.Name, AuthenticationMethod: r.AuthenticationMethod,
			Policies: jsonText(r.Policies), Description: r.Description}, true, nil
	case core.Listing[core.NetworkRule]:
		out := &ListNetworkRulesResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.NetworkRules.NetworkRule = make([]AccessListEntry, 0, len(r.Items))
		for _, n := range r.Items {
			out.NetworkRules.NetworkRule = append(out.NetworkRules.NetworkRule, AccessListEntry{Name: n.Name, Type: n.Type})
		}
		return out, true, nil
	case core.Listing[core.PermissionPolicy]:
		out := &ListPoliciesResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.Policies.Policy = make([]AccessListEntry, 0, len(r.Items))
		for _, p := range r.Items {
			out.Policies.Policy = append(out.Policies.Policy, AccessListEntry{Name: p.Name})
		}
		return out, true, nil
	case core.Listing[core.ApplicationAccessPoint]:
		out := &ListAccessPointsResponse{RequestId: requestID, TotalCount: r.Total, PageNumber: r.PageNumber, PageSize: r.PageSize}
		out.ApplicationAccessPoints.ApplicationAccessPoint = make([]AccessListEntry, 0, len(r.Items))
		for _, a := range r.Items {
			out.ApplicationAccessPoints.ApplicationAccessPoint = append(out.ApplicationAccessPoints.ApplicationAccessPoint,
				AccessListEntry{Name: a.Name, AuthenticationMethod: a.AuthenticationMethod})
		}
		return out, true, nil
	case core.ClientKeyIssued:
		data, err := privateKeyData(r)
		if err != nil {
			return nil, true, err
		}
		return &CreateClientKeyResponse{RequestId: requestID, ClientKeyId: r.ID, KeyAlgorithm: r.Algorithm,
			NotBefore: formatTime(r.NotBefore), NotAfter: formatTime(r.NotAfter), PrivateKeyData: data}, true, nil
	case core.IssuedClientKey:
		out := clientKeyEntry(r)
		out.RequestId = requestID
		return &out, true, nil
	case []core.IssuedClientKey:
		out := &ListClientKeysResponse{RequestId: requestID, ClientKeys: make([]ClientKeyEntry, 0, len(r))}
		for _, k := range r {
			out.ClientKeys = append(out.ClientKeys, clientKeyEntry(k))
		}
		return out, true, nil
	}
	return nil, false, nil
}

// privateKeyData is a new client key's private key as Alibaba answers it:
// PKCS #12 under the caller's password, in base64.
func privateKeyData(r core.ClientKeyIssued) (string, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(r.PrivateKey)
	key, ok := parsed.(*rsa.PrivateKey)
	if err != nil || !ok {
		return "", fmt.Errorf("client key %s: its private key does not parse: %v", r.ID, err)
	}
	p12, err := clientkey.PKCS12(key, r.ID, r.Password, r.NotBefore, r.NotAfter)
	if err != nil {
		return "", fmt.Errorf("client key %s: %w", r.ID, err)
	}
	return base64.StdEncoding.EncodeToString(p12), nil
}

func clientKeyEntry(k core.IssuedClientKey) ClientKeyEntry {
	return ClientKeyEntry{ClientKeyId: k.ID, AapName: k.AapName, KeyAlgorithm: k.Algorithm, KeyOrigin: "KMS_GENERATED",
		NotBefore: formatTime(k.NotBefore), NotAfter: formatTime(k.NotAfter), CreateTime: formatTime(k.CreatedAt),
		PublicKeyData: base64.StdEncoding.EncodeToString(k.PublicKey)}
}

// jsonText is list as JSON text, "[]" for none.
func jsonText(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}

func accessControlRules(p core.PermissionPolicy) string {
	if p.NetworkRules == nil {
		p.NetworkRules = []string{}
	}
	b, _ := json.Marshal(struct{ NetworkRules []string }{p.NetworkRules})
	return string(b)
}
