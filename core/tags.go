package core

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Alibaba Cloud KMS's limits on tags.
const (
	// MaxTags is the most tags one key carries.
	MaxTags = 20
	// MaxTagLen is the longest tag key or value, in characters.
	MaxTagLen = 128
)

// checkTag checks one tag against Alibaba's rules: a key of 1 to 128
// characters that does not start with "aliyun" or "acs:", a value of at most
// 128, both of letters, digits and / \ _ - . + = : @ (and, in values, spaces).
func checkTag(param, key, value string) error {
	if key == "" || utf8.RuneCountInString(key) > MaxTagLen {
		return invalidParam(param, "a tag key must be 1 to %d characters", MaxTagLen)
	}
	if utf8.RuneCountInString(value) > MaxTagLen {
		return invalidParam(param, "the value of tag %q is longer than %d characters", key, MaxTagLen)
	}
	if l := strings.ToLower(key); strings.HasPrefix(l, "aliyun") || strings.HasPrefix(l, "acs:") {
		return invalidParam(param, "the tag key %q starts with a reserved prefix (aliyun, acs:)", key)
	}
	if !tagText(key, false) || !tagText(value, true) {
		return invalidParam(param, "tag %q may contain only letters, digits and / \\ _ - . + = : @", key)
	}
	return nil
}

func tagText(s string, spaces bool) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune(`/\_-.+=:@`, r), spaces && r == ' ':
		default:
			return false
		}
	}
	return true
}

// checkTags checks a key's whole set of tags.
func checkTags(param string, tags map[string]string) error {
	if len(tags) > MaxTags {
		return invalidParam(param, "a key carries at most %d tags", MaxTags)
	}
	for k, v := range tags {
		if err := checkTag(param, k, v); err != nil {
			return err
		}
	}
	return nil
}
