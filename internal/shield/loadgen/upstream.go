package loadgen

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wormlab/wormlab/internal/signature"
)

// StatsPath is where an Upstream serves its counters. Requests to it are
// not counted.
const StatsPath = "/__loadgen/stats"

// UpstreamStats are an Upstream's counters.
type UpstreamStats struct {
	Requests   int64   `json:"requests"`    // every request but stats requests
	Legit      int64   `json:"legit"`       // requests no signature matches
	Probes     int64   `json:"probes"`      // requests the built-in signatures recognise
	CPUSeconds float64 `json:"cpu_seconds"` // user+system CPU of the whole process
}

// Sub returns s minus o: what happened between two readings.
func (s UpstreamStats) Sub(o UpstreamStats) UpstreamStats {
	return UpstreamStats{s.Requests - o.Requests, s.Legit - o.Legit, s.Probes - o.Probes, s.CPUSeconds - o.CPUSeconds}
}

// page is the legitimate response: about the size of a small HTML page.
var page = []byte("<!doctype html><title>wormlab upstream</title><p>" + strings.Repeat("patched and still serving. ", 80) + "\n")

// Upstream is a stand-in for the patched web server behind a shield: it
// answers legitimate requests with a small page, answers probes with 404
// as a patched IIS would, and counts both. Work, if set, is CPU time spent
// on every request before answering (the cost of a dynamic page), so that a
// probe that gets through costs what it would on a real site.
type Upstream struct {
	Work time.Duration

	requests, legit, probes atomic.Int64
	sigs                    *signature.Set
}

// NewUpstream returns an Upstream that spends work of CPU on each request.
func NewUpstream(work time.Duration) *Upstream {
	return &Upstream{Work: work, sigs: signature.Builtin()}
}

func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == StatsPath {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(u.Stats())
		return
	}
	u.requests.Add(1)
	if u.Work > 0 {
		spin(u.Work)
	}
	io.Copy(io.Discard, r.Body)
	_, probe := u.sigs.Match(signature.Request{Path: []byte(r.URL.Path), Query: []byte(r.URL.RawQuery), URI: []byte(r.RequestURI)})
	if probe {
		u.probes.Add(1)
		http.NotFound(w, r)
		return
	}
	u.legit.Add(1)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// Stats returns the counters so far.
func (u *Upstream) Stats() UpstreamStats {
	return UpstreamStats{
		Requests: u.requests.Load(), Legit: u.legit.Load(), Probes: u.probes.Load(),
		CPUSeconds: cpuTime().Seconds(),
	}
}

var spinSink uint64

// spin burns CPU for about d, as a page that computes something would.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(end) {
		for range 64 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	atomic.AddUint64(&spinSink, x)
}
