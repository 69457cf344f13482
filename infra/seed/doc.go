// Package seed reads the seed file (KMS_SEED_FILE): the keys, their aliases,
// tags and optionally their material, that start-up makes once so that CI and
// local development get the same fixtures on every instance. The rules a seed
// must follow are core's (core.Service.Seed); this package only reads YAML.
package seed
