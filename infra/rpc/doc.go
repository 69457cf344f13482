// Package rpc serves core's KMS over Alibaba Cloud's RPC wire protocol: GET or
// POST / with parameters in the query string or a form body, the action named by
// the x-acs-action header (ACS3 signing) or the Action parameter (signature 1.0),
// and Alibaba's JSON (or XML) response and error shapes, so the official SDKs
// work against it unchanged.
package rpc
