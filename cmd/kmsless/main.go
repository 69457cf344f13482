// Command kmsless is the operator's tool. "kmsless audit verify FILE…" checks
// the audit trail's chains; "kmsless audit query FILE…" also answers who did
// what, filtered by key, alias, principal, partition, action, error code and
// time.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  kmsless audit verify [filters] FILE…   check every chain; print the records that match filters, if any
  kmsless audit query  [filters] FILE…   print the matching records (and check the chains)
run "kmsless audit query -h" for the filters`

func main() {
	if len(os.Args) < 3 || os.Args[1] != "audit" {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	os.Exit(auditCommand(os.Args[2], os.Args[3:], os.Stdout, os.Stderr, os.Getenv))
}
