package core

import (
	"slices"
	"strings"
	"testing"
)

// A subject either parses into a name with CN, C, O and OU, which Go's own
// RFC 2253 rendering gives back unchanged through the parser, or is refused
// as InvalidParameter naming Subject, within the refusals' bound; and no
// input panics.
func FuzzParseDN(f *testing.F) {
	for _, seed := range []string{
		"CN=a,OU=b,O=c,C=CN",
		`CN=app.example.com,OU=kms\, keys,O=kmsless,C=CN,ST=Zhejiang,L=Hangzhou`,
		`CN=\ lead and trail\ ,OU=x\+y,O=a\"b\\c,O=second,C=US`,
		`CN=\41\42,OU=u,O=o,C=CN`,
		"CN=a+UID=b,OU=b,O=c,C=CN",
		`CN=a\`,
		"cn = a , ou = b , o = c , c = CN",
		"CN=#0401,OU=b,O=c,C=CN",
		strings.Repeat("O=x,", 100),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, dn string) {
		name, err := parseDN("Subject", dn)
		if err != nil {
			refusedAs(t, err, CodeInvalidParameter, "Subject")
			return
		}
		if name.CommonName == "" || len(name.Country) != 1 || len(name.Organization) == 0 || len(name.OrganizationalUnit) == 0 {
			t.Fatalf("%q parses into %+v, which lacks a required attribute", dn, name)
		}
		again, err := parseDN("Subject", name.String())
		if err != nil {
			t.Fatalf("%q parses, but its rendering %q does not: %v", dn, name.String(), err)
		}
		if again.CommonName != name.CommonName || !slices.Equal(again.Country, name.Country) ||
			!slices.Equal(again.Province, name.Province) || !slices.Equal(again.Locality, name.Locality) ||
			!slices.Equal(again.Organization, name.Organization) || !slices.Equal(again.OrganizationalUnit, name.OrganizationalUnit) {
			t.Fatalf("%q parses into %+v, its rendering %q into %+v", dn, name, name.String(), again)
		}
	})
}
