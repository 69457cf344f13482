// Package principals reads the principals file (YAML or JSON): who may call the
// service, with which credentials, QPS and RAM policy.
package principals
