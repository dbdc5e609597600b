// Package shield lets a Go web server answer Code Red and Nimda probes
// itself, before they cost its handlers anything. It is the public face of
// the middleware that `wormlab shield` runs: wrap a handler with
// Middleware, or build a Shield with New to also read its totals, tarpit
// and series.
//
// Requests are classified from the request line alone, with the same
// signatures as `wormlab detect`.
package shield

import (
	"net/http"

	ishield "github.com/wormlab/wormlab/internal/shield"
	"github.com/wormlab/wormlab/internal/signature"
)

// Options, Action and Shield are those of the wormlab shield; see their
// documentation there for every field.
type (
	Options = ishield.Options
	Action  = ishield.Action
	Shield  = ishield.Shield
	Clock   = ishield.Clock
)

// The actions a signature family can be given.
const (
	Drop     = ishield.Drop
	NotFound = ishield.NotFound
	Tarpit   = ishield.Tarpit
	LogOnly  = ishield.LogOnly
)

// New returns a Shield for opts.
func New(opts Options) (*Shield, error) { return ishield.New(opts) }

// Middleware returns next behind a Shield for opts; it panics if opts are
// invalid (use New for the error).
func Middleware(next http.Handler, opts Options) http.Handler {
	return ishield.Middleware(next, opts)
}

// ParseActions parses "family=action,..." as `wormlab shield --actions`
// does.
func ParseActions(s string) (map[string]Action, error) { return ishield.ParseActions(s) }

// Rules returns the built-in signatures followed by those of a TOML rules
// file (the format of `wormlab detect --rules`), for Options.Signatures.
func Rules(path string) (*signature.Set, error) {
	user, err := signature.Load(path)
	if err != nil {
		return nil, err
	}
	return signature.Builtin().With(user), nil
}
