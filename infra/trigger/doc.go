// Package trigger turns a function's invocation events into KMS requests and
// back: HTTP trigger events (API Gateway REST and HTTP APIs, Lambda function
// URLs, Function Compute HTTP triggers) become *http.Request values served by
// the RPC handler and answered in the trigger's own response shape, and a direct
// invocation's JSON object becomes one action's parameters.
package trigger
