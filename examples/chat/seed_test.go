package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// documentationPage is the SHA-256 of the chat page printed in the Ambiorix documentation
// (section 15.6.1, "Example: Chat": the text from <!DOCTYPE html> to </html>, plus a final
// newline), 711 bytes. It was taken once from the documentation's text; keeping the digest rather
// than the chapter keeps the repository free of the documentation's prose while still pinning the
// page byte for byte.
const documentationPage = "2187e091e8e2358b43e1c8d427acc2e5673733d1dd633c14f1146ac47a20aa56"

// TestAmbiorixPageIsTheDocumentationsPage proves that the page the browser tests call "unchanged"
// is, byte for byte, the documentation's chat page.
func TestAmbiorixPageIsTheDocumentationsPage(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("templates", "ambiorix-chat.html"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(got)
	if hex.EncodeToString(sum[:]) != documentationPage || len(got) != 711 {
		t.Errorf("templates/ambiorix-chat.html (%d bytes, SHA-256 %x) is no longer the documentation's page (711 bytes, SHA-256 %s)",
			len(got), sum, documentationPage)
	}
}
