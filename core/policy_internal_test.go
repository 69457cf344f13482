package core

import "testing"

// The request path matches ARNs held as prefix and name; wherever the split
// falls, the answer must be the one for the whole string.
func TestSplitARNMatchesLikeItsConcatenation(t *testing.T) {
	patterns := []string{
		"*", "acs:kms:*:*:key/*", "acs:kms:cn-hangzhou:*:key/*", "acs:kms:*:*:alias/*",
		"acs:kms:*:*:key/key-?", "acs:kms:*:*:key/key-a", "*:key/key-a", "acs:*:key-a*",
		"acs:kms:cn-hangzhou:123:key/key-a", "acs:kms:cn-hangzhou:123:key/", "?", "",
	}
	names := []string{
		"acs:kms:cn-hangzhou:123:key/key-a", "acs:kms:cn-beijing:123:key/key-a",
		"acs:kms:cn-hangzhou:123:alias/a/b", "acs:kms:cn-hangzhou:123:key/key-ab", "a", "",
	}
	for _, p := range patterns {
		for _, s := range names {
			want := Match(p, s)
			for k := 0; k <= len(s); k++ {
				if got := match(p, arn{s[:k], s[k:]}, false); got != want {
					t.Errorf("match(%q, %q|%q) = %v, but %q on the whole string = %v", p, s[:k], s[k:], got, p, want)
				}
			}
		}
	}
}
