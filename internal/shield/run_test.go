package shield

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/series"
)

// TestRun runs a whole deployment as `wormlab shield` does: listener with
// the early check, proxy, metrics listener, and the series written at
// shutdown.
func TestRun(t *testing.T) {
	up := &recordingUpstream{}
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	u, err := ParseUpstream(upSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	seriesPath := filepath.Join(t.TempDir(), "probes.csv")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	var sum Summary
	go func() {
		var err error
		sum, err = Run(ctx, Config{
			Listen: "127.0.0.1:0", Metrics: "127.0.0.1:0", Upstream: u, Series: seriesPath,
			Options: Options{Actions: map[string]Action{"nimda": NotFound}},
		}, func(a, m net.Addr) { addrs <- [2]net.Addr{a, m} })
		done <- err
	}()
	var a [2]net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	addr := a[0].String()
	if r := sendRaw(t, addr, wormRequest(codeRed2), 5*time.Second); r.data != "" {
		t.Errorf("Code Red II: got %q, want a drop", r.data)
	}
	if r := sendRaw(t, addr, "GET "+nimda+" HTTP/1.0\r\n\r\n", 5*time.Second); !strings.HasPrefix(r.data, "HTTP/1.0 404") {
		t.Errorf("Nimda: got %.40q, want 404", r.data)
	}
	resp, err := http.Get("http://" + addr + "/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + a[1].String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`wormlab_shield_probes_total{action="drop",signature="codered2"} 1`,
		`wormlab_shield_requests_passed_total 1`,
		`wormlab_shield_upstream_duration_seconds_count 1`,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Both probes fall in one minute unless the test straddles a minute
	// boundary, when they fall in two.
	if sum.Probes != 2 || sum.Blocked != 2 || sum.Passed != 1 || sum.SeriesPoints < 1 || sum.SeriesPoints > 2 {
		t.Errorf("summary %+v", sum)
	}
	b, err := os.ReadFile(seriesPath)
	if err != nil {
		t.Fatal(err)
	}
	ser, err := series.Read(strings.NewReader(string(b)), seriesPath)
	if err != nil {
		t.Fatal(err)
	}
	var probes, news int64
	for _, p := range ser.Points {
		probes += p.Probes
		news += p.NewSources
	}
	if probes != 2 || news != 1 {
		t.Errorf("series file has %d probes from %d new sources, want 2 from 1:\n%s", probes, news, b)
	}
	if got := up.requests(); len(got) != 1 {
		t.Errorf("upstream saw %q, want only /page", got)
	}
}

// TestRejectedCounted sends Run the requests net/http refuses itself,
// before any handler, and wants each answered with its status and counted
// in wormlab_shield_requests_rejected_total by that status; a 400 the
// proxy gives (an opaque target) and a normal answer are not counted.
func TestRejectedCounted(t *testing.T) {
	up := &recordingUpstream{}
	addr, maddr, stop := runOnLoopback(t, up)
	for _, c := range []struct {
		name, req, status string
	}{
		{"headers over the limit", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2*maxHeaderBytes) + "\r\n\r\n", "431"},
		{"malformed header line", "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", "400"},
		{"malformed request line", "GET\r\n\r\n", "400"},
		{"no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", "400"},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
		{"unknown version", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", "505"},
		{"opaque target (the proxy's 400)", "GET http:http://secret.internal/admin HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"a normal request", "GET /ok HTTP/1.0\r\n\r\n", "200"},
	} {
		res := sendRaw(t, addr, c.req, 5*time.Second)
		if !strings.HasPrefix(res.data, "HTTP/1.1 "+c.status) && !strings.HasPrefix(res.data, "HTTP/1.0 "+c.status) {
			t.Errorf("%s: answered %.40q, want %s", c.name, res.data, c.status)
		}
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`wormlab_shield_requests_rejected_total{code="400"} 3`,
		`wormlab_shield_requests_rejected_total{code="431"} 1`,
		`wormlab_shield_requests_rejected_total{code="501"} 1`,
		`wormlab_shield_requests_rejected_total{code="505"} 1`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(b), `wormlab_shield_requests_rejected_total{code="200"}`) {
		t.Error("a normal answer was counted as a refusal")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
