// Package oldchat holds two earlier releases of the chat schema (schema/messages.yaml), each
// generated into Go and TypeScript as that release would have been, so that tests can run a
// client of an earlier release, a Go client or a browser tab loaded before a deploy, against
// today's server. The version-skew tests are in examples/chat (skew_test.go) and
// cmd/ambigen (oldchat_test.go checks that each release is what its doc says).
//
//   - v1 is the chat before "post" existed. Adding a message breaks no one, so `ambigen
//     breaking` between v1 and today reports nothing, and a server may list v1's fingerprint
//     in runtime.Options.CompatibleFingerprints.
//   - v2 had "post", but its Mood knew only "happy" and "sad". Today's "neutral" is a value a
//     v2 client cannot read, so v2 clients must reload.
//
// Nothing outside tests imports these packages.
package oldchat
