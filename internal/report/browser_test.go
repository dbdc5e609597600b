package report

import (
	"bufio"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/browsertest"
)

// chromiumFlags keep a headless Chromium from reaching for the network at
// start-up (updates, sync, field trials): on a machine whose network is
// closed those attempts fail by the dozen and slow every start.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio",
	"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
	"--window-size=1100,900", "--hide-scrollbars",
}

// TestReportInBrowser opens a report holding every kind of section in
// headless Chromium, as a reader would, and checks that it loads with no
// console error, that every chart drew, and takes a full-page screenshot
// (kept at $WORMLAB_SCREENSHOT when set, for a person to look at).
func TestReportInBrowser(t *testing.T) {
	bin := browsertest.Need(t)
	dir := t.TempDir()
	r, err := Build([]*Input{
		mustParse(t, "crii-block.json", gunzipTestdata(t, "crii-block.json.gz")),
		mustParse(t, "scaled-run.json", fullRun(t)),
		mustParse(t, "julaug.json", gunzipTestdata(t, "julaug.json.gz")),
		mustParse(t, "telescope-run.json", gunzipTestdata(t, "telescope-run.json.gz")),
		mustParse(t, "ensemble-1000.json", gunzipTestdata(t, "ensemble-1000.json.gz")),
		mustParse(t, "detect.json", readTestdata(t, "detect.json")),
	})
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	if err := r.WriteHTMLFile(page); err != nil {
		t.Fatal(err)
	}
	wantCharts := len(r.Charts())

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The profile lives outside t.TempDir: Chromium's helper processes can
	// still be writing to it for a moment after the browser exits.
	profile, err := os.MkdirTemp("", "wormlab-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	args := append(append([]string(nil), chromiumFlags...), "--user-data-dir="+profile, "about:blank")
	cmd := exec.CommandContext(ctx, bin, args...)
	// Its own process group, so that ending it ends its helpers too and
	// nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	defer stop()
	// Chromium prints "DevTools listening on ws://127.0.0.1:PORT/..." once
	// its debugging port is open; the rest of its log is kept for failures.
	wsURL := make(chan string, 1)
	var log strings.Builder
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		re := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := re.FindStringSubmatch(line); m != nil {
				wsURL <- m[1]
			} else if len(line) < 400 {
				log.WriteString(line + "\n")
			}
		}
	}()
	var ws string
	select {
	case ws = <-wsURL:
	case <-time.After(30 * time.Second):
		t.Fatalf("chromium did not open its DevTools port in 30 s")
	}
	c, err := dialCDP(ws)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatal(err)
	}
	s := attached.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := c.call(s, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// First a canary page with one console error and one load that the
	// report's policy forbids: the checks below must see both, or they
	// could not see them in the report either.
	canary := filepath.Join(dir, "canary.html")
	os.WriteFile(canary, []byte(`<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">`+
		`</head><body><img src="https://example.invalid/x.png"><script>console.error("canary")</script></body></html>`), 0o644)
	navigate(t, c, s, canary)
	if p := c.problems(); len(p) < 2 || !strings.Contains(strings.Join(p, "\n"), "canary") {
		t.Fatalf("the canary page's console error and blocked load were not both seen: %q", p)
	}
	navigate(t, c, s, page)

	var eval struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	if err := c.call(s, "Runtime.evaluate", map[string]any{"expression": "document.body.dataset.charts", "returnByValue": true}, &eval); err != nil {
		t.Fatal(err)
	}
	if want := "ok " + strconv.Itoa(wantCharts); eval.Result.Value != want {
		t.Errorf("data-charts = %q, want %q", eval.Result.Value, want)
	}

	var metrics struct {
		CSSContentSize struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := c.call(s, "Page.getLayoutMetrics", nil, &metrics); err != nil {
		t.Fatal(err)
	}
	var shot struct {
		Data string `json:"data"`
	}
	clip := map[string]any{"x": 0, "y": 0, "width": metrics.CSSContentSize.Width, "height": metrics.CSSContentSize.Height, "scale": 1}
	if err := c.call(s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true, "clip": clip}, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("screenshot is not a PNG (%v)", err)
	}
	// A page of this many charts is taller than a few screens; a blank or
	// collapsed page would be one screen or less.
	if metrics.CSSContentSize.Height < 400*float64(wantCharts) {
		t.Errorf("page is %.0f px tall for %d charts: charts collapsed?", metrics.CSSContentSize.Height, wantCharts)
	}
	if out := os.Getenv("WORMLAB_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes, %.0fx%.0f css px)", out, len(png), metrics.CSSContentSize.Width, metrics.CSSContentSize.Height)
	}
	if p := c.problems(); len(p) > 0 {
		t.Errorf("the page reported %d problems:\n%s", len(p), strings.Join(p, "\n"))
	}
	c.call("", "Browser.close", nil, nil)
	stop()
	if t.Failed() {
		<-logDone
		t.Logf("chromium's log:\n%s", log.String())
	}
}

// navigate opens path in the session and waits for its load event, after
// forgetting the events of the page before.
func navigate(t *testing.T, c *cdpConn, session, path string) {
	t.Helper()
	c.events = nil
	if err := c.call(session, "Page.navigate", map[string]any{"url": "file://" + path}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.waitEvent("Page.loadEventFired", time.Now().Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
}
