package scenario

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed builtin/*.toml
var builtinFS embed.FS

// Default is the scenario `wormlab simulate` runs when given none.
const Default = "codered-v2-2001-07-19"

// Names returns the built-in scenarios' names, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".toml"))
	}
	slices.Sort(out)
	return out
}

// Builtin returns the built-in scenario called name.
func Builtin(name string) (*Scenario, error) {
	src, err := builtinFS.ReadFile(path.Join("builtin", name+".toml"))
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (wormlab scenarios lists them: %s)", name, strings.Join(Names(), ", "))
	}
	return Parse(src, "builtin:"+name)
}

// Load reads a scenario file.
func Load(file string) (*Scenario, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(src, file)
}
