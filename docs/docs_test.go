// Package docs holds wormlab's design document and the record schemas; its
// test keeps the code's citations of the design pointing somewhere.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDesignCitations checks that every file of the repository that cites
// DESIGN.md cites it as "docs/DESIGN.md §N" with N a section that exists,
// so a reader can follow every such comment.
func TestDesignCitations(t *testing.T) {
	design, err := os.ReadFile("DESIGN.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## ([0-9]+)\. `).FindAllStringSubmatch(string(design), -1) {
		sections[m[1]] = true
	}
	if len(sections) < 6 {
		t.Fatalf("DESIGN.md has %d numbered sections", len(sections))
	}
	cite := regexp.MustCompile(`DESIGN\.md`)
	good := regexp.MustCompile(`^docs/DESIGN\.md §([0-9]+)`)
	n := 0
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name != ".." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".toml", ".md", ".sh", ".json":
		default:
			return nil
		}
		if path == filepath.Join("..", "docs", "DESIGN.md") || path == filepath.Join("..", "docs", "docs_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		for _, loc := range cite.FindAllStringIndex(text, -1) {
			n++
			line := 1 + strings.Count(text[:loc[0]], "\n")
			from := max(loc[0]-len("docs/"), 0)
			m := good.FindStringSubmatch(text[from:])
			switch {
			case m == nil:
				t.Errorf("%s:%d: cites DESIGN.md without \"docs/DESIGN.md §N\"", path, line)
			case !sections[m[1]]:
				t.Errorf("%s:%d: cites docs/DESIGN.md §%s, which has no such section", path, line, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no citations found: the walk is broken")
	}
}
