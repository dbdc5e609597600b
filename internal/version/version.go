// Package version reports which build of wormlab is running, so every run
// record can say what produced it.
package version

import (
	"runtime/debug"
	"sync"
)

// Version is the release name. Release builds set it with
// -ldflags "-X github.com/wormlab/wormlab/internal/version.Version=v0.x.y";
// without that, a build that the go command gave a module version (go
// install module@version, or go build in a checkout, which derives a
// pseudo-version from the commit) reports that one.
var Version = devVersion

// devVersion is the name of a build that carries no version at all (go
// run, go test).
const devVersion = "v0.1.0-dev"

// buildInfo is the go command's stamp, decoded once: each decoding
// allocates a record per linked module, and start-up needs it twice.
var buildInfo = sync.OnceValues(debug.ReadBuildInfo)

func init() {
	if Version != devVersion {
		return
	}
	if info, ok := buildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		Version = info.Main.Version
	}
}

// commit is the revision a build from outside a git checkout (the
// Dockerfile's) stamps with -ldflags "-X
// github.com/wormlab/wormlab/internal/version.commit=REV"; it wins over
// the go command's own stamp.
var commit string

// Commit returns the VCS revision stamped into the binary by the go command,
// with a "+dirty" suffix for a modified tree, or "unknown" when the build
// carries none (go run and go test do not stamp one).
func Commit() string {
	if commit != "" {
		return commit
	}
	info, ok := buildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && rev != "unknown" {
		rev += "+dirty"
	}
	return rev
}
