// Package emulate runs the project's functions locally the way the clouds run
// them: it builds a function binary, starts it under the AWS Lambda Runtime
// Interface Emulator or the project's Function Compute emulator, invokes it with
// an event, and re-signs the HTTP request inside an HTTP trigger event so that
// sample events pass the signature and timestamp checks. make invoke, the
// cold-start benchmark and the end-to-end tests share it.
package emulate
