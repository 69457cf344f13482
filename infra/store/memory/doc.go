// Package memory is a core.KeyStore and core.PartitionStore held in process
// memory. It keeps the semantics of the durable stores (it passes storetest), so
// core's tests run against it without a disk; nothing survives Close.
package memory
