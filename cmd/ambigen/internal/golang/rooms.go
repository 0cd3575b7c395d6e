package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// audience prints the typed rooms and users: Server.Room, User and Everyone
// make an Audience, whose Broadcast<Name> methods send each message the
// server may send to it; Server.Join and Leave move connections in and out
// of rooms. Everything is a one-line wrapper over runtime.Audience and
// runtime.BroadcastTo. The method names are the Server's Broadcast<Name>,
// which the model already checked; the fixed names are reserved in spec.
func (g *gen) audience(f *jen.File) {
	f.Comment("Audience is whom a message is addressed to: everyone, the members of a room, or the")
	f.Comment("connections of a user, on every node of the cluster when the server has a")
	f.Comment("runtime.Broker, or on this node alone (Local). Make one with Server.Room, Server.User")
	f.Comment("or Server.Everyone; it is a small value, cheap to make for each message.")
	f.Type().Id("Audience").Struct(jen.Id("rt").Qual(rt, "Audience"))

	srv := jen.Id("s").Op("*").Id("Server")
	f.Comment("Room is the members of the room named name; the server adds connections with Join.")
	f.Func().Params(srv.Clone()).Id("Room").Params(jen.Id("name").String()).Id("Audience").Block(
		jen.Return(jen.Id("Audience").Values(jen.Id("s").Dot("rt").Dot("Room").Call(jen.Id("name")))),
	)
	f.Comment("User is every connection whose user key is key (see runtime.Options.UserKey): all the")
	f.Comment("tabs of one person.")
	f.Func().Params(srv.Clone()).Id("User").Params(jen.Id("key").String()).Id("Audience").Block(
		jen.Return(jen.Id("Audience").Values(jen.Id("s").Dot("rt").Dot("User").Call(jen.Id("key")))),
	)
	f.Comment("Everyone is every connection.")
	f.Func().Params(srv.Clone()).Id("Everyone").Params().Id("Audience").Block(
		jen.Return(jen.Id("Audience").Values(jen.Id("s").Dot("rt").Dot("Everyone").Call())),
	)
	f.Comment("Join adds c to room; a connection may be in many rooms and leaves them all when it")
	f.Comment("closes. Clients cannot join rooms by themselves (see runtime.Server.Join).")
	f.Func().Params(srv.Clone()).Id("Join").Params(jen.Id("c").Op("*").Id("Conn"), jen.Id("room").String()).Error().Block(
		jen.Return(jen.Id("s").Dot("rt").Dot("Join").Call(jen.Id("c").Dot("Runtime").Call(), jen.Id("room"))),
	)
	f.Comment("Leave takes c out of room and reports whether it was in it.")
	f.Func().Params(srv.Clone()).Id("Leave").Params(jen.Id("c").Op("*").Id("Conn"), jen.Id("room").String()).Bool().Block(
		jen.Return(jen.Id("s").Dot("rt").Dot("Leave").Call(jen.Id("c").Dot("Runtime").Call(), jen.Id("room"))),
	)
	f.Comment("Presence is who is in room now, on every node of the cluster.")
	f.Func().Params(srv.Clone()).Id("Presence").Params(jen.Id("room").String()).Qual(rt, "Presence").Block(
		jen.Return(jen.Id("s").Dot("rt").Dot("Presence").Call(jen.Id("room"))),
	)

	aud := jen.Id("a").Id("Audience")
	f.Comment("Local is the same audience on this node only: a hook that runs on every node (such as")
	f.Comment("runtime.Options.OnPresence) uses it so that each node tells its own connections once.")
	f.Func().Params(aud.Clone()).Id("Local").Params().Id("Audience").Block(
		jen.Return(jen.Id("Audience").Values(jen.Id("a").Dot("rt").Dot("Local").Call())),
	)
	f.Comment("Runtime returns the untyped audience underneath.")
	f.Func().Params(aud.Clone()).Id("Runtime").Params().Qual(rt, "Audience").Block(jen.Return(jen.Id("a").Dot("rt")))
	for _, m := range g.m.Messages {
		a := m.API
		if a.ServerBroadcast == "" {
			continue
		}
		f.Add(comment(fmt.Sprintf("%s sends %q to the audience and returns how many connections of this node it was queued to (see runtime.BroadcastTo).", a.ServerBroadcast, m.Wire), m.Doc))
		f.Func().Params(aud.Clone()).Id(a.ServerBroadcast).Params(jen.Id("msg").Add(goType(m.Payload))).Params(jen.Int(), jen.Error()).Block(
			jen.Return(jen.Qual(rt, "BroadcastTo").Call(jen.Id("a").Dot("rt"), jen.Id(a.Const), g.codecOf(m.Payload), jen.Id("msg"))),
		)
	}
}
