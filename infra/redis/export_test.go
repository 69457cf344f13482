package redis

import (
	"time"

	"github.com/kmsless/kmsless/core"
)

// CheckKeyEntry is the check an instance makes on a key entry read from Redis
// under name before trusting it.
func CheckKeyEntry(c *Cache, name, entry string) bool {
	_, ok := accept[core.Key](c, kindKey, name, entry, time.Now(), true)
	return ok
}
