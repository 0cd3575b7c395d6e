package runtime

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-faster/jx"
)

// The version-skew handshake (docs/DESIGN.md, "Schema evolution and version
// skew") lets a server tell a client built from another schema that it may
// be out of date:
//
//   - a generated client announces the fingerprint of the schema it was
//     generated from as the query parameter HandshakeQuery of the upgrade
//     URL, which an Ambiorix R server never looks at;
//   - a server that knows its own fingerprint (Server.SetFingerprint, which
//     the generated Serve calls) answers such a client, and only such a
//     client, with one message named HandshakeMessage as the first frame on
//     the socket: the verdict, "compatible" when the announced fingerprint
//     is its own or one of Options.CompatibleFingerprints, "reload"
//     otherwise;
//   - the client records the verdict (Conn.Version, ClientOptions.OnVersion)
//     and never hands that message to a handler.
//
// The names below are copies of the generator's (spec.HandshakeMessage and
// friends); a test in cmd/ambigen ties them together.
const (
	// ReservedPrefix starts every message name that belongs to ambigen
	// itself. Handlers cannot be registered for such names, and a schema
	// cannot declare one.
	ReservedPrefix = "ambigen:"
	// HandshakeMessage names the server's verdict.
	HandshakeMessage = ReservedPrefix + "version"
	// HandshakeQuery is the query parameter a client announces its schema
	// fingerprint in.
	HandshakeQuery = "ambigen-fingerprint"
)

// VersionStatus is the verdict of the version handshake on one connection.
type VersionStatus string

const (
	// VersionUnknown: there is no verdict (yet). The client announced no
	// fingerprint, the server does not know its own (an Ambiorix R server,
	// a server from before the handshake, one without SetFingerprint), or
	// the verdict has not arrived.
	VersionUnknown VersionStatus = "unknown"
	// VersionCompatible: the server serves the client's schema, its own or
	// one it lists as compatible.
	VersionCompatible VersionStatus = "compatible"
	// VersionReload: the client's schema is not one the server serves; a
	// browser tab should be reloaded, a Go client rebuilt.
	VersionReload VersionStatus = "reload"
)

// Version is what one connection knows of the version handshake.
type Version struct {
	Status VersionStatus
	// Fingerprint is the peer's schema fingerprint: on a server, the one
	// the client announced (empty when it announced none, or a value that
	// is not a fingerprint); on a client, the one the server's verdict
	// named (empty until a verdict arrives).
	Fingerprint string
}

// unknownVersion is the Version of a connection without a verdict.
var unknownVersion = &Version{Status: VersionUnknown}

// Version reports the version handshake of c. It is safe from any
// goroutine. On a server it is settled before OnConnect runs. On a client
// it is VersionUnknown until the verdict arrives; a server of this runtime
// sends it before anything else, so no handler of that connection runs
// before it is settled, and an R server sends none. A nil *Conn has an
// unknown version.
func (c *Conn) Version() Version {
	if c == nil {
		return *unknownVersion
	}
	if v := c.version.Load(); v != nil {
		return *v
	}
	return *unknownVersion
}

// IsFingerprint reports whether s has the form of a schema fingerprint: 32
// lower-case hexadecimal digits, as ambigen prints them.
func IsFingerprint(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// The server side.

// schemas is what a server knows of its own schema: immutable, replaced as
// a whole by SetFingerprint.
type schemas struct {
	own    string   // the fingerprint the verdict names; "" turns the handshake off
	served []string // own, every other fingerprint declared, and the compatible ones
}

func (sc *schemas) serves(fp string) bool { return slices.Contains(sc.served, fp) }

// newSchemas checks Options.CompatibleFingerprints. A malformed entry is a
// mistake in the program's configuration that would send every client of
// that schema "reload", so it stops the program at start, as a bad regexp
// does with regexp.MustCompile.
func newSchemas(compatible []string) *schemas {
	for i, fp := range compatible {
		if !IsFingerprint(fp) {
			panic("ambigen: Options.CompatibleFingerprints[" + strconv.Itoa(i) + "] = " + strconv.Quote(fp) + " is not a fingerprint (32 lower-case hex digits, as ambigen breaking prints them)")
		}
	}
	return &schemas{served: slices.Clone(compatible)}
}

// SetFingerprint declares the fingerprint of the schema this server speaks,
// which turns the version handshake on for connections accepted from then
// on: a client that announces a fingerprint gets the verdict as its first
// frame. The generated Serve calls it with the schema's Fingerprint, so a
// program rarely calls it itself. Declaring a second, different fingerprint
// (two generated packages on one server) serves the clients of both; the
// verdict names the first. It panics if fp is not a fingerprint.
func (s *Server) SetFingerprint(fp string) {
	if !IsFingerprint(fp) {
		panic("ambigen: SetFingerprint(" + strconv.Quote(fp) + "): not a fingerprint (32 lower-case hex digits)")
	}
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	old := s.schemas.Load()
	next := &schemas{own: old.own, served: old.served}
	if next.own == "" {
		next.own = fp
	}
	if !old.serves(fp) {
		next.served = append(slices.Clone(old.served), fp)
	}
	s.schemas.Store(next)
}

// announced reads the fingerprint a client put in the upgrade URL. The
// query is scanned rather than parsed into a map, so that a long hostile
// query costs no allocation.
func announced(r *http.Request) (fp string, ok bool) {
	q := r.URL.RawQuery
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != HandshakeQuery {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u, true
		}
		return "", true
	}
	return "", false
}

// greet settles the version of a new server connection from its upgrade
// request and, to a client that announced a fingerprint, sends the verdict.
// It runs before the connection joins the registry and before OnConnect, so
// the verdict is the first frame on the socket.
func (s *Server) greet(c *Conn, r *http.Request) {
	fp, ok := announced(r)
	if !ok {
		return
	}
	sc := s.schemas.Load()
	v := &Version{Status: VersionUnknown}
	if IsFingerprint(fp) {
		v.Fingerprint = fp
	}
	if sc.own != "" {
		v.Status = VersionReload
		if v.Fingerprint != "" && sc.serves(v.Fingerprint) {
			v.Status = VersionCompatible
		}
	}
	c.version.Store(v)
	if v.Status == VersionUnknown {
		return
	}
	// Both values are known to need no escaping: a status constant and a
	// fingerprint of hex digits.
	payload := make([]byte, 0, 80)
	payload = append(payload, `{"status":"`...)
	payload = append(payload, v.Status...)
	payload = append(payload, `","fingerprint":"`...)
	payload = append(payload, sc.own...)
	payload = append(payload, `"}`...)
	_ = c.sendWriter(encodeRawEnvelope(HandshakeMessage, payload, meta{}))
}

// maxStrangers bounds the fingerprints Server.Versions counts one by one
// besides those the server serves: any client can announce any well-formed
// fingerprint, and must not be able to grow the table without bound.
const maxStrangers = 32

// versionKey is one row of Server.Versions.
type versionKey struct {
	fp     string
	status VersionStatus
}

// versionCounts counts the live connections of a server by the version
// their handshake settled. It is guarded by the server's registry lock, so
// that counting costs no lock of its own.
type versionCounts struct {
	rows      map[versionKey]int
	strangers int // rows with a fingerprint the server does not serve
}

// stranger reports whether k is a row that maxStrangers bounds.
func (k versionKey) stranger() bool { return k.fp != "" && k.status != VersionCompatible }

// add counts c, which is joining the registry, and notes whether it was
// counted without its fingerprint, for remove. A server connection's
// version is settled before it joins and does not change.
func (vc *versionCounts) add(c *Conn) {
	v := c.Version()
	k := versionKey{v.Fingerprint, v.Status}
	if vc.rows == nil {
		vc.rows = make(map[versionKey]int)
	}
	if _, ok := vc.rows[k]; !ok && k.stranger() {
		if vc.strangers >= maxStrangers {
			k.fp = "" // counted, but not by fingerprint
		} else {
			vc.strangers++
		}
	}
	vc.rows[k]++
	c.countedAnon = k.fp == "" && v.Fingerprint != ""
}

// remove uncounts c, which is leaving the registry, from the row add
// counted it in: its version's, without the fingerprint if add left it out.
func (vc *versionCounts) remove(c *Conn) {
	v := c.Version()
	k := versionKey{v.Fingerprint, v.Status}
	if c.countedAnon {
		k.fp = ""
	}
	if n := vc.rows[k]; n > 1 {
		vc.rows[k] = n - 1
		return
	}
	delete(vc.rows, k)
	if k.stranger() {
		vc.strangers--
	}
}

// VersionCount is one row of Server.Versions.
type VersionCount struct {
	// Fingerprint is what the clients announced. It is empty for clients
	// that announced none (the stock ambiorix.js, an R peer, a client from
	// before the handshake) and for those whose fingerprint is not counted
	// one by one: a malformed one, or one that arrived while 32 others the
	// server does not serve were already counted. Status tells them apart:
	// it is VersionReload for the latter on a server that judges.
	Fingerprint string
	Status      VersionStatus
	Conns       int
}

// Versions counts the live connections by the schema fingerprint their
// client announced and the verdict it got, most connections first (ties by
// fingerprint). The counts add up to Len. It is cheap enough to poll: one
// row per fingerprint in use, at most 32 of them unknown to the server.
func (s *Server) Versions() []VersionCount {
	s.mu.Lock()
	out := make([]VersionCount, 0, len(s.versions.rows))
	for k, n := range s.versions.rows {
		out = append(out, VersionCount{Fingerprint: k.fp, Status: k.status, Conns: n})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b VersionCount) int {
		if a.Conns != b.Conns {
			return b.Conns - a.Conns
		}
		if c := strings.Compare(a.Fingerprint, b.Fingerprint); c != 0 {
			return c
		}
		return strings.Compare(string(a.Status), string(b.Status))
	})
	return out
}

// The client side.

// withFingerprint adds HandshakeQuery=fp to the query of rawURL, replacing
// any value it had and keeping the rest of the URL as it was written.
func withFingerprint(rawURL, fp string) string {
	base, frag, hasFrag := strings.Cut(rawURL, "#")
	path, query, _ := strings.Cut(base, "?")
	var kept []string
	for _, kv := range strings.Split(query, "&") {
		if k, _, _ := strings.Cut(kv, "="); kv != "" && k != HandshakeQuery {
			kept = append(kept, kv)
		}
	}
	kept = append(kept, HandshakeQuery+"="+url.QueryEscape(fp))
	out := path + "?" + strings.Join(kept, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// verdict takes the server's HandshakeMessage on a client connection (on
// the goroutine that runs handlers, before any later message is handled).
// A verdict whose status this client does not know is no verdict, so that
// later servers can add statuses; unknown keys are ignored.
func (c *Conn) verdict(payload []byte) {
	if !c.ep.client {
		// A client has no say in the server's version: its message is
		// one that nobody handles.
		c.ep.stats.ignored.Add(1)
		return
	}
	v := Version{Status: VersionUnknown}
	var s scanner
	s.reset(payload)
	err := errSyntax
	if s.next() == jx.Object {
		err = s.enter()
	}
	for first := true; err == nil; first = false {
		var key []byte
		var escaped, more bool
		if key, escaped, more, err = s.key(first); err != nil || !more {
			break
		}
		if escaped {
			key = unescape(nil, key)
		}
		if (string(key) != "status" && string(key) != "fingerprint") || s.next() != jx.String {
			err = s.skip()
			continue
		}
		var b []byte
		if b, err = str(&s); err != nil {
			break
		}
		if string(key) == "fingerprint" {
			if IsFingerprint(string(b)) {
				v.Fingerprint = string(b)
			}
		} else if st := VersionStatus(b); st == VersionCompatible || st == VersionReload {
			v.Status = st
		}
	}
	if err != nil || v.Status == VersionUnknown {
		c.ep.log.Debug("ambigen: ignored a version verdict this client does not understand", "conn", c.id, "err", err)
		return
	}
	c.version.Store(&v)
	if fn := c.ep.cfg.onVersion; fn != nil {
		c.ep.hook("OnVersion", func() { fn(c, v) })
	}
}

// isReserved reports whether a wire name belongs to ambigen itself.
func isReserved[S string | []byte](name S) bool {
	return len(name) >= len(ReservedPrefix) && string(name[:len(ReservedPrefix)]) == ReservedPrefix
}
