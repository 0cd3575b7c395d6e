package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAmbiorixPageIsTheDocumentationsPage proves that the page the browser test calls "unchanged"
// is, byte for byte, the chat page printed in the Ambiorix documentation (section 15.6.1), which
// the design documents keep beside the repository.
func TestAmbiorixPageIsTheDocumentationsPage(t *testing.T) {
	chapter, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "seed", "ambiorix-websocket-chapter.txt"))
	if err != nil {
		t.Fatalf("the Ambiorix documentation chapter is missing (it lives in shared/ beside the repository): %v", err)
	}
	text := string(chapter)
	start := strings.Index(text, "<!DOCTYPE html>")
	end := strings.Index(text, "</html>")
	if start < 0 || end < start {
		t.Fatal("no HTML page found in the chapter")
	}
	want := text[start:end+len("</html>")] + "\n"
	got, err := os.ReadFile(filepath.Join("templates", "ambiorix-chat.html"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("templates/ambiorix-chat.html differs from the documentation's page:\n--- documentation\n%s\n--- template\n%s", want, got)
	}
}
