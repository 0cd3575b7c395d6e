package runtime

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Refused handshakes. A server refuses an upgrade with an HTTP status
// instead of switching protocols: 403 when the Origin is not allowed, 401
// (or what Authenticate chose) when Authenticate fails. The reason, when the
// server chose to give one, is the text of the response's body.
//
// A Go client sees the status and the reason in a *HandshakeError. A
// browser cannot: the WebSocket API reports every failed handshake the
// same way, as an error followed by close code 1006. So the TypeScript
// client, after an attempt that failed before opening, asks the same URL
// with the query parameter ProbeQuery in a plain HTTP request (with the
// page's cookies). The server runs the same checks, Origin first, and
// answers 204 when it would accept the upgrade, or the refusal's status and
// reason, readable by the page (the answer carries CORS headers for the
// requesting origin: a page of a foreign origin learns only that its origin
// is refused, since Authenticate does not run for it). A refused client
// stops reconnecting instead of retrying in a loop.

// ProbeQuery is the query parameter that turns a plain HTTP request to the
// WebSocket's URL into the question "would my upgrade be accepted?".
const ProbeQuery = "ambigen-probe"

// HandshakeError is an upgrade the server answered with an HTTP status
// instead of switching protocols. A Client's Dial returns one; an
// Options.Authenticate function returns one (made by Refuse) to choose the
// status and the reason the client is told.
type HandshakeError struct {
	// Status is the HTTP status: 401 (not authenticated), 403 (forbidden,
	// or an Origin that is not allowed), or another for a server that
	// refused for its own reasons (404, 503 while shutting down, ...).
	Status int
	// Reason is the text the server sent with the refusal, cut to 200
	// bytes; empty when it gave none.
	Reason string
}

func (e *HandshakeError) Error() string {
	s := "ambigen: handshake refused: HTTP " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Refused reports whether the server refused the client itself (401 or
// 403): trying again does not help until something changes, so a Client
// stops reconnecting.
func (e *HandshakeError) Refused() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// Refuse returns the error for Options.Authenticate that refuses an upgrade
// with status (401 or 403; anything else is taken as 401) and a reason that
// is sent to the client. Any other error from Authenticate refuses with 401
// and keeps its text on the server.
func Refuse(status int, reason string) *HandshakeError {
	if status != http.StatusForbidden {
		status = http.StatusUnauthorized
	}
	return &HandshakeError{Status: status, Reason: clip(reason, maxWireText)}
}

// errOriginRefused is the refusal of a cross-origin request that
// CheckOrigin did not allow.
var errOriginRefused = &HandshakeError{Status: http.StatusForbidden, Reason: "origin not allowed"}

// admit runs the checks of an upgrade request, Origin first (so that
// Authenticate never runs for a page of a foreign origin), and returns the
// identity, or the refusal to answer with.
func (s *Server) admit(r *http.Request) (any, *HandshakeError) {
	if !s.allowOrigin(r) {
		return nil, errOriginRefused
	}
	if s.opts.Authenticate == nil {
		return nil, nil
	}
	id, err := s.opts.Authenticate(r)
	if err == nil {
		return id, nil
	}
	var he *HandshakeError
	if errors.As(err, &he) {
		return nil, Refuse(he.Status, he.Reason)
	}
	s.ep.log.Debug("ambigen: upgrade refused by Authenticate", "remote", r.RemoteAddr, "err", err)
	return nil, &HandshakeError{Status: http.StatusUnauthorized}
}

// refuse answers an upgrade request (or a probe) with a refusal.
func refuse(w http.ResponseWriter, he *HandshakeError) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(he.Status)
	_, _ = io.WriteString(w, he.Reason)
}

// isProbe reports whether r asks ProbeQuery; the query is scanned, not
// parsed, as for the fingerprint.
func isProbe(r *http.Request) bool {
	q := r.URL.RawQuery
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if k, _, _ := strings.Cut(kv, "="); k == ProbeQuery {
			return true
		}
	}
	return false
}

// serveProbe answers a probe: 204 when an upgrade would be accepted, else
// the refusal. A page of another origin may read the answer.
func (s *Server) serveProbe(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
	if _, he := s.admit(r); he != nil {
		refuse(w, he)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// dialError turns a failed dial into what Dial returns: a *HandshakeError
// when the server answered with an HTTP status.
func dialError(url string, err error, resp *http.Response) error {
	if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		return &wrapErr{msg: "ambigen: dial " + url + ": " + err.Error(), err: err}
	}
	he := &HandshakeError{Status: resp.StatusCode}
	if resp.Body != nil {
		// gorilla keeps the first KiB of the body of a failed handshake.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		he.Reason = clip(strings.TrimSpace(string(b)), maxWireText)
		if he.Reason == http.StatusText(resp.StatusCode) {
			he.Reason = "" // a server that said nothing but the status's name
		}
	}
	return he
}
