// Package compat proves that ambigen's clients speak Ambiorix's wire protocol to an R server, the
// other direction of the compatibility that the runtime's tests prove with R's recorded bytes.
//
// The peer is rserver/server.R: an httpuv server written to follow Ambiorix's WebSocket
// behaviour as docs/PROTOCOL.md part A records it. It is NOT the Ambiorix package, which cannot
// be installed where these tests run; README.md lists how it differs. The tests start it with
// Rscript on a free loopback port and drive it with the generated Go client (package gen), the
// TypeScript client running in Node, and the documentation's chat page in headless Chromium.
//
// The package holds only tests. Without Rscript they fail when CI is set and are skipped loudly
// otherwise; rserver/install-r.sh installs what they need.
package compat
