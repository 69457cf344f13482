package core

import (
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A certificate's subject comes as a distinguished name in RFC 2253's string
// form, "CN=name,OU=unit,O=organization,C=CN", as Alibaba's CreateCertificate
// takes it. CN, C, O and OU are required there, ST and L optional; O and OU
// may repeat. Values escape RFC 2253's special characters with a backslash,
// or give bytes as \hh.

// maxDNValue is the most characters an attribute's value may have: X.520's
// upper bound for names (ub-name), which the other attributes here stay
// within too.
const maxDNValue = 64

// parseDN parses Subject into a name. Hex-encoded values ("#…") and
// attribute types other than CN, C, ST, L, O and OU are refused.
func parseDN(param, dn string) (pkix.Name, error) {
	var name pkix.Name
	seen := map[string]int{}
	for _, rdn := range splitDN(dn) {
		typ, value, ok := strings.Cut(rdn, "=")
		if !ok {
			return name, invalidParam(param, "%q is not an attribute=value pair", ClipText(rdn))
		}
		typ = strings.ToUpper(strings.TrimSpace(typ))
		value, err := unescapeDN(trimDN(value))
		if err != nil {
			return name, invalidParam(param, "the value of %s %s", ClipText(typ), err.Error())
		}
		if value == "" || utf8.RuneCountInString(value) > maxDNValue || strings.ContainsFunc(value, unicode.IsControl) {
			return name, invalidParam(param, "the value of %s must be 1 to %d characters, none of them a control character", ClipText(typ), maxDNValue)
		}
		seen[typ]++
		switch typ {
		case "CN", "C", "ST", "L":
			if seen[typ] > 1 {
				return name, invalidParam(param, "it names %s more than once", typ)
			}
		}
		switch typ {
		case "CN":
			name.CommonName = value
		case "C":
			if len(value) != 2 || strings.Trim(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				return name, invalidParam(param, "C must be a two-letter ISO 3166-1 country code in capitals, such as CN")
			}
			name.Country = []string{value}
		case "ST":
			name.Province = []string{value}
		case "L":
			name.Locality = []string{value}
		case "O":
			name.Organization = append(name.Organization, value)
		case "OU":
			name.OrganizationalUnit = append(name.OrganizationalUnit, value)
		default:
			return name, invalidParam(param, "it names the attribute %q; a subject takes CN, C, ST, L, O and OU", ClipText(typ))
		}
	}
	for _, need := range []string{"CN", "C", "O", "OU"} {
		if seen[need] == 0 {
			return name, invalidParam(param, "it must name CN, C, O and OU; %s is missing", need)
		}
	}
	return name, nil
}

// splitDN splits a DN into its attributes, at the commas and pluses that
// are not escaped: the attributes of a multi-valued RDN ("O=a+O=b", as Go
// renders two organizations) count one by one.
func splitDN(dn string) []string {
	var attrs []string
	start := 0
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++ // the escaped character, or the first of \hh
		case ',', '+':
			attrs = append(attrs, dn[start:i])
			start = i + 1
		}
	}
	return append(attrs, dn[start:])
}

// trimDN trims the spaces around a value that are not escaped: "\ " at its
// end is a space of the value.
func trimDN(v string) string {
	v = strings.TrimLeft(v, " ")
	for strings.HasSuffix(v, " ") {
		slashes := len(v) - 1 - len(strings.TrimRight(v[:len(v)-1], `\`))
		if slashes%2 == 1 {
			break
		}
		v = v[:len(v)-1]
	}
	return v
}

// unescapeDN undoes RFC 2253's escapes: \ followed by one of ,+"\<>;=# or a
// space, or by two hexadecimal digits.
func unescapeDN(v string) (string, error) {
	if strings.HasPrefix(v, "#") {
		return "", errorString("is hex-encoded BER (#…), which is not taken; give the text")
	}
	if !strings.Contains(v, `\`) {
		if !utf8.ValidString(v) {
			return "", errorString("is not valid UTF-8")
		}
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			b.WriteByte(v[i])
			continue
		}
		switch {
		case i+1 < len(v) && strings.IndexByte(`,+"\<>;=# `, v[i+1]) >= 0:
			b.WriteByte(v[i+1])
			i++
		case i+2 < len(v):
			h, err := hex.DecodeString(v[i+1 : i+3])
			if err != nil {
				return "", errorString(`has a \ that escapes nothing RFC 2253 allows`)
			}
			b.Write(h)
			i += 2
		default:
			return "", errorString(`ends in a \ that escapes nothing`)
		}
	}
	if !utf8.ValidString(b.String()) {
		return "", errorString("is not valid UTF-8 once unescaped")
	}
	return b.String(), nil
}

// errorString is a message for invalidParam's format.
type errorString string

func (e errorString) Error() string { return string(e) }

// maxSubjectAlternativeNames is the most DNS names a certificate request
// asks for, as on Alibaba.
const maxSubjectAlternativeNames = 10

// parseSANs reads SubjectAlternativeNames: JSON, a list of DNS names. The
// Go SDK's field is a map, which it sends as a JSON object; its values are
// taken in the order of their keys.
func parseSANs(param, text string) ([]string, error) {
	if text == "" {
		return nil, nil
	}
	var names []string
	if err := json.Unmarshal([]byte(text), &names); err != nil {
		var byKey map[string]string
		if json.Unmarshal([]byte(text), &byKey) != nil {
			return nil, invalidParam(param, `it must be a JSON list of DNS names, such as ["a.example.com","b.example.com"]`)
		}
		for _, k := range slices.Sorted(maps.Keys(byKey)) {
			names = append(names, byKey[k])
		}
	}
	if len(names) > maxSubjectAlternativeNames {
		return nil, invalidParam(param, "it names %d DNS names; at most %d are taken", len(names), maxSubjectAlternativeNames)
	}
	for _, n := range names {
		if !validDNSName(n) {
			return nil, invalidParam(param, "%q is not a DNS name", ClipText(n))
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	return names, nil
}

// validDNSName reports whether n is a host name of labels of letters,
// digits and hyphens, 253 characters at most, whose first label may be a
// wildcard ("*").
func validDNSName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for i, label := range strings.Split(n, ".") {
		if i == 0 && label == "*" && strings.Contains(n, ".") {
			continue
		}
		if len(label) > 63 || !validLabel(label, 63, "-") || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}
