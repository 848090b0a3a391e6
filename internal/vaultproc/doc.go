// Package vaultproc runs real Vault server processes for this repository's
// own tooling: the e2e tests (e2e/, build tag e2e), the HA cluster tests
// (e2e/ha/, build tag ha) and the benchmark (bench/, a command). Each used
// to carry its own copy of this code, and the copies drifted.
//
// It finds the Vault and plugin builds the make targets hand over
// (FindBuild), starts processes in a process group of their own so that
// stopping Vault also stops the plugin processes it spawned (Start), starts
// a `vault server -dev` on a free loopback port (StartDev), registers and
// mounts the plugin by its SHA-256 (Build.RegisterAndMount), and checks
// Vault's logs for the secrets a test used (Secrets).
//
// It is an ordinary package, not a _test.go file, because the benchmark is
// a command and cannot import test code; it is internal because it serves
// only this repository and promises nothing to anyone else. The plugin
// itself never imports it.
package vaultproc
