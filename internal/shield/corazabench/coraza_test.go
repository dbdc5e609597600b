// Package corazabench compares the shield's classification with the OWASP
// Core Rule Set running in Coraza, the WAF an operator might reach for
// instead. It is its own module so that the main module does not depend on
// Coraza; run it with
//
//	cd internal/shield/corazabench && go test -run Detect -v && go test -bench . -count 6
package corazabench

import (
	"fmt"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"
)

// The requests, from docs/DESIGN.md §6. Code Red sends a 3379-byte body
// (its code) with Content-type text/xml; filler of that length stands in.
var (
	crShell = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"
	cases   = []struct {
		name, uri string
		body      bool // send Code Red's headers and body
	}{
		{"legit", "/index.html", false},
		{"codered2-line", "/default.ida?" + strings.Repeat("X", 224) + crShell, false},
		{"codered2-with-body", "/default.ida?" + strings.Repeat("X", 224) + crShell, true},
		{"nimda-root-exe", "/scripts/root.exe?/c+dir", false},
		{"nimda-cmd-exe", "/scripts/..%255c../winnt/system32/cmd.exe?/c+dir", false},
		{"nimda-c1-1c", "/scripts/..%c1%1c../winnt/system32/cmd.exe?/c+dir", false},
	}
	filler = make([]byte, 3379)
)

// newWAF returns Coraza with the recommended configuration and the CRS at
// its defaults (paranoia level 1, anomaly threshold 5), blocking.
func newWAF(tb testing.TB) coraza.WAF {
	waf, err := coraza.NewWAF(coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(`
Include @coraza.conf-recommended
Include @crs-setup.conf.example
Include @owasp_crs/*.conf
SecRuleEngine On
SecAuditEngine Off
`))
	if err != nil {
		tb.Fatal(err)
	}
	return waf
}

// inspect runs one request through every request phase and returns the
// interruption, if any, and the detection rules that matched.
func inspect(waf coraza.WAF, uri string, body bool) (*types.Interruption, []int) {
	tx := waf.NewTransaction()
	defer func() {
		tx.ProcessLogging()
		tx.Close()
	}()
	tx.ProcessConnection("192.0.2.10", 40000, "127.0.0.1", 80)
	tx.ProcessURI(uri, "GET", "HTTP/1.0")
	tx.AddRequestHeader("Host", "127.0.0.1") // CRS penalises a missing Host; a real worm sent none
	if body {
		tx.AddRequestHeader("Content-type", "text/xml")
		tx.AddRequestHeader("Content-length", "3379")
	}
	var ids []int
	collect := func() {
		for _, m := range tx.MatchedRules() {
			if m.Message() != "" { // skip setup and paranoia-level markers
				ids = append(ids, m.Rule().ID())
			}
		}
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		collect()
		return it, ids
	}
	if body {
		if it, _, err := tx.WriteRequestBody(filler); err != nil || it != nil {
			collect()
			return it, ids
		}
	}
	it, _ := tx.ProcessRequestBody()
	collect()
	return it, ids
}

// TestDetect records what the CRS makes of each request; it asserts only
// that the legitimate request passes, and logs the rest for PERFORMANCE.md.
func TestDetect(t *testing.T) {
	waf := newWAF(t)
	for _, c := range cases {
		it, ids := inspect(waf, c.uri, c.body)
		verdict := "passed"
		if it != nil {
			verdict = fmt.Sprintf("blocked (%s, rule %d, status %d)", it.Action, it.RuleID, it.Status)
		}
		t.Logf("%-20s %s; matched rules %v", c.name, verdict, ids)
		if c.name == "legit" && it != nil {
			t.Errorf("legit request blocked")
		}
	}
}

func BenchmarkCRS(b *testing.B) {
	waf := newWAF(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				inspect(waf, c.uri, c.body)
			}
		})
	}
}
