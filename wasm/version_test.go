package wasm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestVersionMatchesNPMPackage keeps Version and js/package.json in step: the
// JavaScript loader rejects a wasm module whose version differs from its own.
func TestVersionMatchesNPMPackage(t *testing.T) {
	path := filepath.Join("..", "js", "package.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("failed to read %s: %v", path, err)
	}
	var pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatalf("failed to parse %s: %v", path, err)
	}
	if pkg.Name != "eventwire" {
		t.Errorf("%s: name = %q, want %q", path, pkg.Name, "eventwire")
	}
	if pkg.Version != Version {
		t.Errorf("%s: version = %q, but wasm.Version = %q; keep them equal", path, pkg.Version, Version)
	}
}
