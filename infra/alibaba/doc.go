// Package alibaba holds the Alibaba Cloud KMS (2016-01-20) wire shapes of the
// service: the response object of each action's result, the error body, and the
// HTTP status of each error code. Both entries that speak Alibaba's API use it:
// signed HTTP requests (infra/rpc) and direct invocations (infra/trigger).
package alibaba
