package gen_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// The schema's constraints on ChatMessage hold on every way out of the
// generated API: a post that breaks one is refused with the field's path
// and the rule, and nothing is sent, so the first post a client receives is
// the next good one.
func TestGeneratedAPIRefusesWhatBreaksAConstraint(t *testing.T) {
	srv := runtime.NewServer(runtime.Options{})
	api := gen.Serve(srv)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan gen.ChatMessage, 4)
	c := gen.NewClient(runtime.ClientOptions{})
	c.OnPost(func(ctx context.Context, m gen.ChatMessage) { got <- m })
	if err := c.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/"); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for srv.Len() == 0 {
		if ctx.Err() != nil {
			t.Fatal("the server never saw the client")
		}
		time.Sleep(time.Millisecond)
	}

	tests := []struct {
		msg  gen.ChatMessage
		want string
	}{
		{gen.ChatMessage{User: "", Text: "hi"}, "user: shorter than 1 character (minLength 1)"},
		{gen.ChatMessage{User: strings.Repeat("ü", 41), Text: "hi"}, "user: longer than 40 characters (maxLength 40)"},
		{gen.ChatMessage{User: "ann", Text: strings.Repeat("x", 5001)}, "text: longer than 5000 characters (maxLength 5000)"},
		{gen.ChatMessage{User: "ann", Text: "hi", Tags: make([]gen.Tag, 11)}, "tags[0]: \"\" does not match (pattern ^[a-z0-9-]+$)"},
		{gen.ChatMessage{User: "ann", Text: "hi", Tags: strings.Split("a b c d e f g h i j k", " ")}, "tags: more than 10 items (maxItems 10)"},
		{gen.ChatMessage{User: "ann", Text: "hi", Tags: []gen.Tag{"go", "Go!"}}, `tags[1]: "Go!" does not match (pattern ^[a-z0-9-]+$)`},
		{gen.ChatMessage{User: "ann", Text: "hi", Tags: []gen.Tag{strings.Repeat("a", 25)}}, "tags[0]: longer than 24 characters (maxLength 24)"},
	}
	for _, tt := range tests {
		var ee *runtime.EncodeError
		if err := c.SendPost(tt.msg); !errors.As(err, &ee) || err.Error() != tt.want {
			t.Errorf("Client.SendPost: %v, want an *runtime.EncodeError %s", err, tt.want)
		}
		if n, err := api.BroadcastPost(tt.msg); n != 0 || !errors.As(err, &ee) || err.Error() != tt.want {
			t.Errorf("BroadcastPost: %d, %v, want 0 and %s", n, err, tt.want)
		}
	}
	good := gen.ChatMessage{User: "ann", Text: strings.Repeat("é", 5000), Tags: []gen.Tag{"go", "chat-2"}}
	if n, err := api.BroadcastPost(good); n != 1 || err != nil {
		t.Fatalf("BroadcastPost: %d, %v", n, err)
	}
	select {
	case m := <-got:
		if m.User != "ann" || len(m.Tags) != 2 {
			t.Errorf("the first post the client got is %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("the good post never came")
	}
}

// A post that arrives breaking a constraint is a payload error at its
// path: the handler never sees it, the connection stays open, and the next
// post is handled.
func TestServerRefusesPayloadsThatBreakAConstraint(t *testing.T) {
	errs := make(chan error, 8)
	srv := runtime.NewServer(runtime.Options{OnError: func(_ *runtime.Conn, err error) { errs <- err }})
	api := gen.Serve(srv)
	posts := make(chan gen.ChatMessage, 8)
	api.OnPost(func(_ context.Context, _ *gen.Conn, m gen.ChatMessage) { posts <- m })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	bad := []struct{ payload, want string }{
		{`{"user":"","text":"hi","tags":[]}`, "user: shorter than 1 character (minLength 1)"},
		{`{"user":"ann","text":"hi","tags":["ok","Not OK"]}`, `tags[1]: "Not OK" does not match (pattern ^[a-z0-9-]+$)`},
		{`{"user":"ann","text":"hi","tags":"Solo"}`, `tags: expected array: "Solo" does not match (pattern ^[a-z0-9-]+$)`},
		{`{"user":"ann","text":"` + strings.Repeat("😀", 5001) + `","tags":[]}`, "text: longer than 5000 characters (maxLength 5000)"},
	}
	for _, b := range bad {
		frame := `{"name":"post","message":` + b.payload + `,"isAmbiorix":true}`
		if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			var me *runtime.MessageError
			var pe *runtime.PayloadError
			if !errors.As(err, &me) || me.Kind != runtime.KindPayload || !errors.As(err, &pe) || pe.Error() != b.want {
				t.Errorf("a post breaking a constraint: %v, want a payload error %s", err, b.want)
			}
		case m := <-posts:
			t.Errorf("the handler got a post that breaks a constraint: %+v", m)
		case <-time.After(5 * time.Second):
			t.Fatalf("nothing reported the post %s", b.payload)
		}
	}
	// R's unboxed one-element list is checked as the list it stands for.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"name":"post","message":{"user":"ann","text":"ok","tags":"solo"},"isAmbiorix":true}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-posts:
		if len(m.Tags) != 1 || m.Tags[0] != "solo" {
			t.Errorf("got %+v", m)
		}
	case err := <-errs:
		t.Errorf("a good post was refused: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the good post was never handled")
	}
}
