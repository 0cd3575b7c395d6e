package spec

import "strings"

// The version-skew handshake (docs/DESIGN.md, "Version skew") is ambigen's
// own use of the wire, next to the messages a schema declares:
//
//   - a generated client announces the fingerprint it was generated from as
//     the query parameter HandshakeQuery of the WebSocket upgrade URL
//     (`ws://host/?ambigen-fingerprint=<32 hex digits>`);
//   - a server that understands it answers with one message named
//     HandshakeMessage, the first frame on the socket:
//     `{"name":"ambigen:version","message":{"status":"compatible","fingerprint":"<its own>"},"isAmbiorix":true}`
//     where status is "compatible" or "reload".
//
// Every wire name that starts with ReservedWirePrefix is kept for such
// messages, so that no schema can declare one.
const (
	ReservedWirePrefix = "ambigen:"
	HandshakeMessage   = ReservedWirePrefix + "version"
	HandshakeQuery     = "ambigen-fingerprint"
)

// isReservedWire reports whether a message name belongs to ambigen itself.
func isReservedWire(name string) bool { return strings.HasPrefix(name, ReservedWirePrefix) }
