package golang

import (
	"fmt"

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
	f.Comment("Conn is the typed view of one connection on the server. It is safe for")
	f.Comment("concurrent use, like the runtime.Conn it embeds. A connection has one *Conn")
	f.Comment("for its whole life: handlers get the same value every time, so it can key a map.")
	f.Type().Id("Conn").Struct(jen.Op("*").Qual(rt, "Conn"))
	f.Comment("connOf returns the one typed view of c, built on first use (no allocation per message).")
	f.Func().Id("connOf").Params(jen.Id("c").Op("*").Qual(rt, "Conn")).Op("*").Id("Conn").Block(
		jen.Return(jen.Qual(rt, "View").Call(jen.Id("c"), jen.Func().Params(jen.Id("c").Op("*").Qual(rt, "Conn")).Op("*").Id("Conn").Block(
			jen.Return(jen.Op("&").Id("Conn").Values(jen.Id("c"))),
		))),
	)
	recv := jen.Id("c").Op("*").Id("Conn")
	for _, m := range g.m.Messages {
		a := m.API
		if a.ConnCall != "" {
			f.Add(comment(fmt.Sprintf("%s calls %q on this client and waits for its reply, ctx's end or the connection's close.", a.ConnCall, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ConnCall).Params(ctxParam(), jen.Id("req").Add(goType(m.Payload))).Params(goType(m.Reply), jen.Error()).Block(
				jen.Return(jen.Qual(rt, "Call").Call(jen.Id("ctx"), jen.Id("c").Dot("Conn"), jen.Id(a.Const), g.codecOf(m.Payload), g.codecOf(m.Reply), jen.Id("req"))),
			)
		}
		if a.ConnSend != "" {
			f.Add(comment(fmt.Sprintf("%s queues %q for this client; a msg that does not encode is not sent (a *runtime.EncodeError).", a.ConnSend, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ConnSend).Params(jen.Id("msg").Add(goType(m.Payload))).Error().Block(
				jen.Return(jen.Qual(rt, "Send").Call(jen.Id("c").Dot("Conn"), jen.Id(a.Const), g.codecOf(m.Payload), jen.Id("msg"))),
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
	f.Comment("Close closes the connection.")
	f.Func().Params(recv.Clone()).Id("Close").Params().Error().Block(jen.Return(jen.Id("c").Dot("rt").Dot("Close").Call()))
	for _, m := range g.m.Messages {
		a := m.API
		name := jen.Id(a.Const)
		if a.ClientCall != "" {
			f.Add(comment(fmt.Sprintf("%s calls %q on the server and waits for its reply, ctx's end or the connection's close. An error reply is a *runtime.CallError.", a.ClientCall, m.Wire), m.Doc))
			f.Func().Params(recv.Clone()).Id(a.ClientCall).Params(ctxParam(), jen.Id("req").Add(goType(m.Payload))).Params(goType(m.Reply), jen.Error()).Block(
				jen.Return(jen.Qual(rt, "Call").Call(jen.Id("ctx"), jen.Id("c").Dot("rt").Dot("Conn").Call(), name.Clone(), g.codecOf(m.Payload), g.codecOf(m.Reply), jen.Id("req"))),
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
				jen.Return(jen.Qual(rt, "Send").Call(jen.Id("c").Dot("rt").Dot("Conn").Call(), name.Clone(), g.codecOf(m.Payload), jen.Id("msg"))),
			)
		}
	}
}
