package sign

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/url"
	"slices"
	"time"

	"github.com/kmsless/kmsless/core"
)

func verifyV1(method string, params url.Values, dir *core.Directory, now time.Time, skew time.Duration) (Result, error) {
	var one [6]string
	for i, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp", "SignatureNonce"} {
		switch vs := params[name]; {
		case len(vs) == 0 || vs[0] == "":
			return Result{}, incomplete("The parameter %s is required.", name)
		case len(vs) > 1:
			return Result{}, incomplete("The parameter %s appears more than once.", name)
		default:
			one[i] = vs[0]
		}
	}
	id, sig, smethod, version, ts, nonce := one[0], one[1], one[2], one[3], one[4], one[5]
	if version != "1.0" {
		return Result{}, incomplete("The SignatureVersion must be 1.0 (or sign with ACS3-HMAC-SHA256 in an Authorization header).")
	}
	var newHash func() hash.Hash
	switch smethod {
	case "HMAC-SHA1":
		newHash = sha1.New
	case "HMAC-SHA256":
		newHash = sha256.New
	default:
		return Result{}, incomplete("The SignatureMethod must be HMAC-SHA1 or HMAC-SHA256.")
	}
	want, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return Result{}, incomplete("The Signature must be base64-encoded.")
	}
	if err := checkNonce("SignatureNonce", nonce); err != nil {
		return Result{}, err
	}
	p := dir.Lookup(id)
	if p == nil {
		return Result{}, errUnknownKey
	}
	at, err := checkTime("Timestamp", ts, now, skew)
	if err != nil {
		return Result{}, err
	}
	if !hmac.Equal(macV1(newHash, p.Secret, stringToSignV1(method, params)), want) {
		return Result{}, errMismatch
	}
	return Result{Principal: p, Nonce: nonce, Action: params.Get("Action"), Version: params.Get("Version"), Time: at, Expires: at.Add(skew)}, nil
}

// macV1 is the HMAC of a string to sign keyed with secret + "&".
func macV1(newHash func() hash.Hash, secret core.Secret, stringToSign []byte) []byte {
	mac := secret.MAC(newHash, "", "&")
	mac.Write(stringToSign)
	return mac.Sum(nil)
}

// stringToSignV1 is Method & percentEncode("/") & percentEncode(canonical query).
func stringToSignV1(method string, params url.Values) []byte {
	canon := canonicalizeV1(params)
	b := make([]byte, 0, len(method)+5+len(canon)*3/2)
	b = append(b, method...)
	b = append(b, "&%2F&"...)
	return appendPercent(b, canon, false)
}

// canonicalizeV1 is the canonicalized query string of SignatureVersion 1.0:
// every parameter but Signature, sorted by name (values of a repeated name
// sorted too), names and values percent-encoded per RFC 3986, joined by "=" and
// "&".
func canonicalizeV1(params url.Values) string {
	keys := make([]string, 0, len(params))
	n := 0
	for k, vs := range params {
		if k == "Signature" {
			continue
		}
		keys = append(keys, k)
		for _, v := range vs {
			n += len(k) + len(v) + 2
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, n+n/4)
	first := true
	for _, k := range keys {
		vs := params[k]
		if len(vs) > 1 {
			vs = slices.Sorted(slices.Values(vs))
		}
		for _, v := range vs {
			if !first {
				b = append(b, '&')
			}
			first = false
			b = appendPercent(b, k, false)
			b = append(b, '=')
			b = appendPercent(b, v, false)
		}
	}
	return string(b)
}
