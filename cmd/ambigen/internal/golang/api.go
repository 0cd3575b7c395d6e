package golang

import (
	"fmt"
	"strings"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
	"github.com/dave/jennifer/jen"
)

func ctxParam() jen.Code { return jen.Id("ctx").Qual(ctxPkg, "Context") }
func ctxType() jen.Code  { return jen.Qual(ctxPkg, "Context") }

// wrapConn is the typed view of the runtime connection c in generated code; see connOf.
func wrapConn() jen.Code {
	return jen.Id("connOf").Call(jen.Id("c"))
}

func (g *gen) server(f *jen.File) {
	f.Comment("Server is the typed server side of the schema: it registers handlers for")
	f.Comment("the messages clients send and broadcasts the messages the server sends.")
	f.Type().Id("Server").Struct(jen.Id("rt").Op("*").Qual(rt, "Server"))
	f.Comment("Serve wraps rt; handlers registered through the result run on rt. It declares")
	f.Comment("the schema's Fingerprint to rt, so that clients generated from another schema are")
	f.Comment("told to reload (see runtime.Options.CompatibleFingerprints).")
	f.Func().Id("Serve").Params(jen.Id("rt").Op("*").Qual(rt, "Server")).Op("*").Id("Server").Block(
		jen.Id("rt").Dot("SetFingerprint").Call(jen.Id("Fingerprint")),
		jen.Return(jen.Op("&").Id("Server").Values(jen.Dict{jen.Id("rt"): jen.Id("rt")})),
	)
	f.Comment("Runtime returns the untyped server underneath.")
	f.Func().Params(jen.Id("s").Op("*").Id("Server")).Id("Runtime").Params().Op("*").Qual(rt, "Server").Block(jen.Return(jen.Id("s").Dot("rt")))
	recv := jen.Id("s").Op("*").Id("Server")
	f.Comment("OnConnect registers fn to run when a client has connected, before its first message is")
	f.Comment("handled, with the same *Conn its handlers get. It must not block for long.")
	f.Func().Params(recv.Clone()).Id("OnConnect").Params(jen.Id("fn").Func().Params(ctxType(), jen.Op("*").Id("Conn"))).Block(
		jen.Id("s").Dot("rt").Dot("OnConnect").Call(jen.Func().Params(jen.Id("c").Op("*").Qual(rt, "Conn")).Block(
			jen.Id("fn").Call(jen.Id("c").Dot("Context").Call(), wrapConn()),
		)),
	)
	f.Comment("OnDisconnect registers fn to run once a client's connection has closed, its handlers")
	f.Comment("have returned and it has left the registry; err says why it closed.")
	f.Func().Params(recv.Clone()).Id("OnDisconnect").Params(jen.Id("fn").Func().Params(jen.Op("*").Id("Conn"), jen.Error())).Block(
		jen.Id("s").Dot("rt").Dot("OnDisconnect").Call(jen.Func().Params(jen.Id("c").Op("*").Qual(rt, "Conn"), jen.Err().Error()).Block(
			jen.Id("fn").Call(wrapConn(), jen.Err()),
		)),
	)
	g.handlersInterface(f, "ServerHandlers", "Server", "clients send", func(m *spec.Message) (string, *jen.Statement) {
		a := m.API
		switch {
		case a.ServerHandle != "":
			return a.ServerHandle, jen.Params(ctxType(), jen.Op("*").Id("Conn"), goType(m.Payload)).Params(goType(m.Reply), jen.Error())
		case a.ServerOn != "":
			return a.ServerOn, jen.Params(ctxType(), jen.Op("*").Id("Conn"), goType(m.Payload))
		}
		return "", nil
	})
	for _, m := range g.m.Messages {
		a := m.API
		name := jen.Id(a.Const)
		pt := goType(m.Payload)
		if a.ServerHandle != "" {
			f.Add(comment(fmt.Sprintf("%s registers fn to answer the call %q. It panics if one is already registered.", a.ServerHandle, m.Wire), m.Doc))
			fn := jen.Func().Params(ctxType(), jen.Op("*").Id("Conn"), goType(m.Payload)).Params(goType(m.Reply), jen.Error())
			f.Func().Params(recv.Clone()).Id(a.ServerHandle).Params(jen.Id("fn").Add(fn)).Block(
				jen.Id("mustRegister").Call(jen.Qual(rt, "OnCall").Call(jen.Id("s").Dot("rt"), name.Clone(), g.codecOf(m.Payload), g.codecOf(m.Reply),
					jen.Func().Params(ctxParam(), jen.Id("c").Op("*").Qual(rt, "Conn"), jen.Id("req").Add(goType(m.Payload))).Params(goType(m.Reply), jen.Error()).Block(
						jen.Return(jen.Id("fn").Call(jen.Id("ctx"), wrapConn(), jen.Id("req"))),
					))),
			)
		}
		if a.ServerOn != "" {
			f.Add(comment(fmt.Sprintf("%s registers fn for the message %q from clients. It panics if one is already registered.", a.ServerOn, m.Wire), m.Doc))
			fn := jen.Func().Params(ctxType(), jen.Op("*").Id("Conn"), goType(m.Payload))
			f.Func().Params(recv.Clone()).Id(a.ServerOn).Params(jen.Id("fn").Add(fn)).Block(
				jen.Id("mustRegister").Call(jen.Qual(rt, "On").Call(jen.Id("s").Dot("rt"), name.Clone(), g.codecOf(m.Payload),
					jen.Func().Params(ctxParam(), jen.Id("c").Op("*").Qual(rt, "Conn"), jen.Id("msg").Add(goType(m.Payload))).Block(
						jen.Id("fn").Call(jen.Id("ctx"), wrapConn(), jen.Id("msg")),
					))),
			)
		}
		if a.ServerBroadcast != "" {
			f.Add(comment(fmt.Sprintf("%s sends %q to every live client and returns how many it was queued to. A msg that does not encode is sent to nobody and returned as a *runtime.EncodeError.", a.ServerBroadcast, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ServerBroadcast).Params(jen.Id("msg").Add(pt.Clone())).Params(jen.Int(), jen.Error()).Block(
				jen.Return(jen.Qual(rt, "Broadcast").Call(jen.Id("s").Dot("rt"), name.Clone(), g.codecOf(m.Payload), jen.Id("msg"), jen.Nil())),
			)
		}
		if a.ServerBroadcastFunc != "" {
			f.Comment(fmt.Sprintf("%s sends %q to every live client for which keep returns true.", a.ServerBroadcastFunc, m.Wire))
			f.Func().Params(recv.Clone()).Id(a.ServerBroadcastFunc).Params(jen.Id("msg").Add(pt.Clone()), jen.Id("keep").Func().Params(jen.Op("*").Id("Conn")).Bool()).Params(jen.Int(), jen.Error()).Block(
				jen.Return(jen.Qual(rt, "Broadcast").Call(jen.Id("s").Dot("rt"), name.Clone(), g.codecOf(m.Payload), jen.Id("msg"),
					jen.Func().Params(jen.Id("c").Op("*").Qual(rt, "Conn")).Bool().Block(jen.Return(jen.Id("keep").Call(wrapConn()))))),
			)
		}
	}
}

func (g *gen) conn(f *jen.File) {
	f.Comment("Conn is the typed view of one connection on the server. It is safe for concurrent")
	f.Comment("use. A connection has one *Conn for its whole life: handlers and hooks get the same")
	f.Comment("value every time, so it can key a map. Only the typed methods send; the untyped")
	f.Comment("connection underneath is Runtime.")
	f.Type().Id("Conn").Struct(jen.Id("rt").Op("*").Qual(rt, "Conn"))
	f.Comment("connOf returns the one typed view of c, built on first use (no allocation per message).")
	f.Func().Id("connOf").Params(jen.Id("c").Op("*").Qual(rt, "Conn")).Op("*").Id("Conn").Block(
		jen.Return(jen.Qual(rt, "View").Call(jen.Id("c"), jen.Func().Params(jen.Id("c").Op("*").Qual(rt, "Conn")).Op("*").Id("Conn").Block(
			jen.Return(jen.Op("&").Id("Conn").Values(jen.Dict{jen.Id("rt"): jen.Id("c")})),
		))),
	)
	recvC := func() *jen.Statement { return jen.Id("c").Op("*").Id("Conn") }
	f.Comment("Runtime returns the untyped connection underneath (nil for a nil *Conn); it is also")
	f.Comment("what makes a *Conn a runtime.Connection, for runtime.Auth's Of.")
	f.Func().Params(recvC()).Id("Runtime").Params().Op("*").Qual(rt, "Conn").Block(
		jen.If(jen.Id("c").Op("==").Nil()).Block(jen.Return(jen.Nil())),
		jen.Return(jen.Id("c").Dot("rt")),
	)
	f.Comment("ID is unique among the connections of the process.")
	f.Func().Params(recvC()).Id("ID").Params().Uint64().Block(jen.Return(jen.Id("c").Dot("rt").Dot("ID").Call()))
	f.Comment("Context is canceled when the connection closes (or the server shuts down).")
	f.Func().Params(recvC()).Id("Context").Params().Add(ctxType()).Block(jen.Return(jen.Id("c").Dot("rt").Dot("Context").Call()))
	f.Comment("Done is closed once the connection is closed and its handlers have returned.")
	f.Func().Params(recvC()).Id("Done").Params().Op("<-").Chan().Struct().Block(jen.Return(jen.Id("c").Dot("rt").Dot("Done").Call()))
	f.Comment("Close starts the close handshake with code and reason (see runtime.Conn.Close).")
	f.Func().Params(recvC()).Id("Close").Params(jen.Id("code").Int(), jen.Id("reason").String()).Error().Block(
		jen.Return(jen.Id("c").Dot("rt").Dot("Close").Call(jen.Id("code"), jen.Id("reason"))),
	)
	f.Comment("Version is what the version handshake settled for this client's schema.")
	f.Func().Params(recvC()).Id("Version").Params().Qual(rt, "Version").Block(jen.Return(jen.Id("c").Dot("rt").Dot("Version").Call()))
	recv := jen.Id("c").Op("*").Id("Conn")
	for _, m := range g.m.Messages {
		a := m.API
		if a.ConnCall != "" {
			f.Add(comment(fmt.Sprintf("%s calls %q on this client and waits for its reply, ctx's end or the connection's close.", a.ConnCall, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ConnCall).Params(ctxParam(), jen.Id("req").Add(goType(m.Payload))).Params(goType(m.Reply), jen.Error()).Block(
				jen.Return(jen.Qual(rt, "Call").Call(jen.Id("ctx"), jen.Id("c").Dot("rt"), jen.Id(a.Const), g.codecOf(m.Payload), g.codecOf(m.Reply), jen.Id("req"))),
			)
		}
		if a.ConnSend != "" {
			f.Add(comment(fmt.Sprintf("%s queues %q for this client; a msg that does not encode is not sent (a *runtime.EncodeError).", a.ConnSend, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ConnSend).Params(jen.Id("msg").Add(goType(m.Payload))).Error().Block(
				jen.Return(jen.Qual(rt, "Send").Call(jen.Id("c").Dot("rt"), jen.Id(a.Const), g.codecOf(m.Payload), jen.Id("msg"))),
			)
		}
	}
}

func (g *gen) client(f *jen.File) {
	f.Comment("Client is the typed client side of the schema, for Go programs that talk")
	f.Comment("to an Ambiorix server (a bot, a test, a service).")
	f.Type().Id("Client").Struct(jen.Id("rt").Op("*").Qual(rt, "Client"))
	f.Comment("NewClient returns a client that is not connected yet: register handlers,")
	f.Comment("then call Dial, so that no message arrives before its handler. The client")
	f.Comment("announces the schema's Fingerprint when it dials, unless opts.Fingerprint is set;")
	f.Comment("the server's verdict is then runtime.Client.Version and opts.OnVersion.")
	f.Func().Id("NewClient").Params(jen.Id("opts").Qual(rt, "ClientOptions")).Op("*").Id("Client").Block(
		jen.If(jen.Id("opts").Dot("Fingerprint").Op("==").Lit("")).Block(
			jen.Id("opts").Dot("Fingerprint").Op("=").Id("Fingerprint"),
		),
		jen.Return(jen.Op("&").Id("Client").Values(jen.Dict{jen.Id("rt"): jen.Qual(rt, "NewClient").Call(jen.Id("opts"))})),
	)
	f.Comment("Dial connects a new client to url.")
	f.Func().Id("Dial").Params(ctxParam(), jen.Id("url").String(), jen.Id("opts").Qual(rt, "ClientOptions")).Params(jen.Op("*").Id("Client"), jen.Error()).Block(
		jen.Id("c").Op(":=").Id("NewClient").Call(jen.Id("opts")),
		jen.If(jen.Err().Op(":=").Id("c").Dot("Dial").Call(jen.Id("ctx"), jen.Id("url")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("c"), jen.Nil()),
	)
	recv := jen.Id("c").Op("*").Id("Client")
	f.Comment("Dial connects c to url.")
	f.Func().Params(recv.Clone()).Id("Dial").Params(ctxParam(), jen.Id("url").String()).Error().Block(
		jen.Return(jen.Id("c").Dot("rt").Dot("Dial").Call(jen.Id("ctx"), jen.Id("url"))),
	)
	f.Comment("Runtime returns the untyped client underneath.")
	f.Func().Params(recv.Clone()).Id("Runtime").Params().Op("*").Qual(rt, "Client").Block(jen.Return(jen.Id("c").Dot("rt")))
	f.Comment("Close stops reconnecting and closes the connection.")
	f.Func().Params(recv.Clone()).Id("Close").Params().Error().Block(jen.Return(jen.Id("c").Dot("rt").Dot("Close").Call()))
	f.Comment("Status reports whether the client is connecting (or reconnecting), open, closed or refused.")
	f.Func().Params(recv.Clone()).Id("Status").Params().Qual(rt, "ClientStatus").Block(jen.Return(jen.Id("c").Dot("rt").Dot("Status").Call()))
	f.Comment("OnConnect registers fn to run each time the client has connected (Dial, and every")
	f.Comment("reconnect), before the first message of that connection is handled.")
	f.Func().Params(recv.Clone()).Id("OnConnect").Params(jen.Id("fn").Func().Params(ctxType())).Block(
		jen.Id("c").Dot("rt").Dot("OnConnect").Call(jen.Func().Params(jen.Id("conn").Op("*").Qual(rt, "Conn")).Block(
			jen.Id("fn").Call(jen.Id("conn").Dot("Context").Call()),
		)),
	)
	f.Comment("OnDisconnect registers fn to run each time a connection of the client has closed;")
	f.Comment("err says why. Unless the client was closed or refused, it reconnects.")
	f.Func().Params(recv.Clone()).Id("OnDisconnect").Params(jen.Id("fn").Func().Params(jen.Error())).Block(
		jen.Id("c").Dot("rt").Dot("OnDisconnect").Call(jen.Func().Params(jen.Id("_").Op("*").Qual(rt, "Conn"), jen.Err().Error()).Block(
			jen.Id("fn").Call(jen.Err()),
		)),
	)
	g.handlersInterface(f, "ClientHandlers", "Client", "the server sends", func(m *spec.Message) (string, *jen.Statement) {
		a := m.API
		switch {
		case a.ClientHandle != "":
			return a.ClientHandle, jen.Params(ctxType(), goType(m.Payload)).Params(goType(m.Reply), jen.Error())
		case a.ClientOn != "":
			return a.ClientOn, jen.Params(ctxType(), goType(m.Payload))
		}
		return "", nil
	})
	for _, m := range g.m.Messages {
		a := m.API
		name := jen.Id(a.Const)
		if a.ClientCall != "" {
			f.Add(comment(fmt.Sprintf("%s calls %q on the server and waits for its reply, ctx's end or the connection's close. An error reply is a *runtime.CallError.", a.ClientCall, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ClientCall).Params(ctxParam(), jen.Id("req").Add(goType(m.Payload))).Params(goType(m.Reply), jen.Error()).Block(
				jen.Return(jen.Qual(rt, "Call").Call(jen.Id("ctx"), jen.Id("c").Dot("rt"), name.Clone(), g.codecOf(m.Payload), g.codecOf(m.Reply), jen.Id("req"))),
			)
		}
		if a.ClientHandle != "" {
			f.Add(comment(fmt.Sprintf("%s registers fn to answer the server's call %q. It panics if one is already registered.", a.ClientHandle, m.Wire), m.Doc))
			fn := jen.Func().Params(ctxType(), goType(m.Payload)).Params(goType(m.Reply), jen.Error())
			f.Func().Params(recv.Clone()).Id(a.ClientHandle).Params(jen.Id("fn").Add(fn)).Block(
				jen.Id("mustRegister").Call(jen.Qual(rt, "OnCall").Call(jen.Id("c").Dot("rt"), name.Clone(), g.codecOf(m.Payload), g.codecOf(m.Reply),
					jen.Func().Params(ctxParam(), jen.Id("_").Op("*").Qual(rt, "Conn"), jen.Id("req").Add(goType(m.Payload))).Params(goType(m.Reply), jen.Error()).Block(
						jen.Return(jen.Id("fn").Call(jen.Id("ctx"), jen.Id("req"))),
					))),
			)
		}
		if a.ClientOn != "" {
			f.Add(comment(fmt.Sprintf("%s registers fn for the message %q from the server. It panics if one is already registered.", a.ClientOn, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ClientOn).Params(jen.Id("fn").Func().Params(ctxType(), goType(m.Payload))).Block(
				jen.Id("mustRegister").Call(jen.Qual(rt, "On").Call(jen.Id("c").Dot("rt"), name.Clone(), g.codecOf(m.Payload),
					jen.Func().Params(ctxParam(), jen.Id("_").Op("*").Qual(rt, "Conn"), jen.Id("msg").Add(goType(m.Payload))).Block(
						jen.Id("fn").Call(jen.Id("ctx"), jen.Id("msg")),
					))),
			)
		}
		if a.ClientSend != "" {
			f.Add(comment(fmt.Sprintf("%s queues %q for the server; a msg that does not encode is not sent (a *runtime.EncodeError).", a.ClientSend, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ClientSend).Params(jen.Id("msg").Add(goType(m.Payload))).Error().Block(
				jen.Return(jen.Qual(rt, "Send").Call(jen.Id("c").Dot("rt"), name.Clone(), g.codecOf(m.Payload), jen.Id("msg"))),
			)
		}
	}
}

// handlersInterface declares the interface with one method per message the
// other side sends (named as the registration method of owner, with the
// handler's signature), and owner's Register, which registers them all: a
// type that leaves a message without a handler does not compile.
func (g *gen) handlersInterface(f *jen.File, iface, owner, sends string, method func(*spec.Message) (string, *jen.Statement)) {
	recvName := strings.ToLower(owner[:1])
	var methods []jen.Code
	var regs []jen.Code
	for _, m := range g.m.Messages {
		name, sig := method(m)
		if name == "" {
			continue
		}
		methods = append(methods, jen.Id(name).Add(sig))
		regs = append(regs, jen.Id(recvName).Dot(name).Call(jen.Id("h").Dot(name)))
	}
	f.Comment(fmt.Sprintf("%s has one method for each message and call %s, named and typed as the", iface, sends))
	f.Comment(fmt.Sprintf("%s method that registers its handler. Passing a value to %s.Register is the", owner, owner))
	f.Comment("compiler's check that every one of them is handled.")
	f.Type().Id(iface).Interface(methods...)
	f.Comment("Register registers every method of h as the handler of its message. It panics if one is")
	f.Comment("already registered.")
	f.Func().Params(jen.Id(recvName).Op("*").Id(owner)).Id("Register").Params(jen.Id("h").Id(iface)).Block(regs...)
}
