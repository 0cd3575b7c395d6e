package gen_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// compileSchema compiles a committed JSON Schema with an independent validator, asserting
// formats such as date-time.
func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatalf("%s is not a valid JSON Schema: %v", path, err)
	}
	return sch
}

func validate(sch *jsonschema.Schema, frame string) error {
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(frame))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// TestEnvelopesMatchTheJSONSchema: the frames the generated Go API really puts on the wire
// validate against gen/messages.schema.json, and frames with a wrong payload do not, so the
// document describes the protocol that runs rather than a copy of it.
func TestEnvelopesMatchTheJSONSchema(t *testing.T) {
	sch := compileSchema(t, "messages.schema.json")

	srv := runtime.NewServer(runtime.Options{})
	api := gen.Serve(srv)
	sent := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	mood := gen.MoodSad
	api.OnGreeting(func(ctx context.Context, c *gen.Conn, msg string) {
		c.SendGreeting("Hello from the server!")
		c.SendPost(gen.ChatMessage{User: "ann", Text: "hi", SentAt: &sent, Tags: []string{"a"}, Mood: &mood})
		c.SendPost(gen.ChatMessage{User: "bob", Text: "", Tags: nil})
		api.BroadcastUpdate(gen.Update{Count: 3})
		api.BroadcastChat("a <b>line</b> & more")
	})
	api.HandleAdd(func(ctx context.Context, c *gen.Conn, req gen.AddRequest) (int64, error) {
		return req.A + req.B, nil
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, f := range []string{
		`{"name":"greeting","message":"hi","isAmbiorix":true}`,
		`{"name":"add","message":{"a":1,"b":2},"isAmbiorix":true,"id":"7"}`,
	} {
		if err := validate(sch, f); err != nil {
			t.Errorf("a client frame fails the schema: %s\n%v", f, err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 6; i++ {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, frame, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if err := validate(sch, string(frame)); err != nil {
			t.Errorf("the server's frame fails gen/messages.schema.json: %s\n%v", frame, err)
		}
	}

	for _, bad := range []string{
		`{"name":"post","message":{"user":"ann","text":"hi"},"isAmbiorix":true}`,                      // tags missing
		`{"name":"post","message":{"user":"ann","text":"hi","tags":[1]},"isAmbiorix":true}`,           // wrong element
		`{"name":"post","message":{"user":"a","text":"b","tags":[],"mood":"glad"},"isAmbiorix":true}`, // not in the enum
		`{"name":"post","message":{"user":"a","text":"b","tags":[],"sentAt":"yesterday"},"isAmbiorix":true}`,
		`{"name":"post","message":{"user":"","text":"b","tags":[]},"isAmbiorix":true}`,                                             // user: minLength 1
		`{"name":"post","message":{"user":"a","text":"b","tags":["Bad Tag"]},"isAmbiorix":true}`,                                   // tags[0]: the pattern
		`{"name":"post","message":{"user":"a","text":"b","tags":["a","b","c","d","e","f","g","h","i","j","k"]},"isAmbiorix":true}`, // maxItems 10
		`{"name":"update","message":{"count":"three"},"isAmbiorix":true}`,
		`{"name":"chat","message":42,"isAmbiorix":true}`,
		`{"name":"chat","message":"hi","isAmbiorix":false}`,
		`{"name":"nosuch","message":null,"isAmbiorix":true}`,
	} {
		if err := validate(sch, bad); err == nil {
			t.Errorf("gen/messages.schema.json accepts a frame the decoders refuse: %s", bad)
		}
	}
}
