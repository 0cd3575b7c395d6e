// Package bench measures ambigen's runtime side by side with raw
// gorilla/websocket doing the same work in the same run: echo dispatch,
// broadcast fan-out, idle memory per connection and a slow consumer during
// broadcasts.
//
// The servers run in the calling process and the clients in a child process
// (the same executable, re-run with ChildEnv set), so that getrusage,
// runtime.MemStats and the counted socket writes describe the server alone.
// Both processes share the machine's cores, which every result must say.
//
// cmd/ambibench runs the full table (see docs/PERFORMANCE.md); the package's
// tests run every scenario at tiny sizes to prove the harness still works.
// A program that uses the package must call RunChildIfRequested first thing
// in main (or TestMain), since that is where the child process does its job.
package bench
