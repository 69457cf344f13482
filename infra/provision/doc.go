// Package provision turns "partition created" events into partition data keys:
// it decodes the events of every trigger (direct invocation, Amazon SQS, SNS and
// EventBridge; Alibaba MNS queues and topics and EventBridge) into partition
// requests, provisions them through core with bounded concurrency, and encodes
// each source's answer, such as SQS batchItemFailures.
package provision
