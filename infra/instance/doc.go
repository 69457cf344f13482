// Package instance serves Alibaba Cloud KMS's instance API (dkms-gcs-0.2),
// the protocol of Alibaba's KMS instance SDK, over core: protocol buffer
// bodies, each request signed with a principal's client key (RSASSA-PKCS1-
// v1_5 over SHA-256). It maps each API to core's action and parameter names
// and renders results and errors in the SDK's messages, so applications
// written for a KMS instance encrypt, sign and read secrets here unchanged,
// on the keys the other two APIs serve.
package instance
