package shield

import (
	"bytes"
	_ "embed"
	"net/http"
	"sync"

	"github.com/wormlab/wormlab/internal/iisnorm"
	"github.com/wormlab/wormlab/internal/signature"
)

//go:embed iis.toml
var iisTOML []byte

// iisSignatures are the shield's own additions to the shared signatures;
// see iis.toml.
var iisSignatures = sync.OnceValue(func() *signature.Set {
	s, err := signature.Parse(iisTOML, "internal/shield/iis.toml")
	if err != nil {
		panic(err) // embedded and tested
	}
	return s
})

// withIIS returns sigs followed by the shield's IIS signatures, unless
// sigs already defines one of their names (a rules file that redefines
// them wins).
func withIIS(sigs *signature.Set) *signature.Set {
	extra := iisSignatures()
	for _, sig := range extra.Signatures() {
		if sigs.Lookup(sig.Name) != nil {
			return sigs
		}
	}
	return sigs.With(extra)
}

// normBufs hold the IIS form of a path while it is matched. (A buffer on
// classify's stack would escape: the matcher's regular expressions keep
// the compiler from proving that the bytes stay local.)
var normBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Classify returns the signature r matches, if any. It reads only the
// request line and allocates nothing.
//
// A request is matched as received first (path decoded once by net/http,
// raw query, request URI): the worms' own requests are found there. If
// that finds nothing and the raw path is not canonical (an escape, a
// backslash, a dot or empty segment, ';', or a dot before the last
// segment: see iisnorm.Canonical), it is matched again with the path an
// IIS 5 would have resolved it to (see internal/iisnorm), so that escapes,
// overlong UTF-8, double decoding, backslashes, dot segments and
// PATH_INFO cannot hide a probe. Only the few paths that could need it
// pay for the second match.
func (s *Shield) Classify(r *http.Request) (*signature.Signature, bool) {
	return s.classify(signature.Request{
		Path:  bytesOf(r.URL.Path),
		Query: bytesOf(r.URL.RawQuery),
		URI:   bytesOf(r.RequestURI),
	})
}

// classify matches req as received and then, if needed, in its IIS form.
// req.URI must hold the request target or the whole request line; a
// request line alone (no Path) is read once for both matches.
func (s *Shield) classify(req signature.Request) (*signature.Signature, bool) {
	var raw []byte
	line := len(req.Path) == 0
	if line {
		// As Match would complete req from URI.
		var query []byte
		raw, query = signature.PathQuery(req.URI)
		req.Path = raw
		if len(req.Query) == 0 {
			req.Query = query
		}
	}
	if sig, ok := s.sigs.Match(req); ok {
		return sig, true
	}
	if !line {
		raw, _ = signature.PathQuery(req.URI)
	}
	if iisnorm.Canonical(raw) {
		return nil, false
	}
	bp := normBufs.Get().(*[]byte)
	norm := iisnorm.Append((*bp)[:0], raw)
	var sig *signature.Signature
	ok := false
	if !bytes.Equal(norm, req.Path) {
		// An escaped but otherwise plain path ("/caf%C3%A9/") resolves
		// to what net/http decoded and was matched already.
		req.Path = norm
		sig, ok = s.sigs.Match(req)
	}
	if cap(norm) <= 64<<10 {
		// Keep a buffer a long path grew, within reason.
		*bp = norm[:0]
	}
	normBufs.Put(bp)
	return sig, ok
}
