package serve

// The lab in a real browser: headless Chromium driven over the DevTools
// protocol with chromedp. chromedp rather than the small hand-written
// client of internal/report's browser test: this test types into forms,
// presses Tab, uploads a file, follows network events to count bytes,
// emulates a phone's screen and opens tabs side by side, each of which
// the hand-written client would have to grow (and that client lives in
// another package's test files, so it could not be shared anyway).

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/wormlab/wormlab/internal/browsertest"
	"github.com/wormlab/wormlab/internal/logsynth"
	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/signature"
	"github.com/wormlab/wormlab/internal/simrun"
)

// artifactDir is where screenshots go: $WORMLAB_ARTIFACTS/<test> when set
// (kept for a person to look at), else the test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("WORMLAB_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium, its first tab, and what its pages
// reported: problems (console errors and warnings, uncaught exceptions)
// and the bytes the network brought.
type browser struct {
	ctx context.Context // of the first tab

	mu       sync.Mutex
	problems []string
	bytes    int64
}

// newBrowser starts Chromium with the flags a closed network needs (no
// updates, sync or field trials at start-up) and ends it with the test.
func newBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	// The profile lives outside t.TempDir: Chromium's helpers can still
	// be writing to it for a moment after the browser exits.
	profile, err := os.MkdirTemp("", "wormlab-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.UserDataDir(profile), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("mute-audio", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.record))
	b.ctx = ctx
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(profile)
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	return b
}

// record keeps the problems and the bytes of the tab's events. It runs in
// the tab's event loop, so it only appends.
func (b *browser) record(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			p = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = fmt.Sprintf("exception: %s %s:%d", d.Text, d.URL, d.LineNumber+1)
		if d.Exception != nil {
			p += " " + d.Exception.Description
		}
	case *network.EventLoadingFinished:
		b.mu.Lock()
		b.bytes += int64(ev.EncodedDataLength)
		b.mu.Unlock()
	}
	if p != "" {
		b.mu.Lock()
		b.problems = append(b.problems, p)
		b.mu.Unlock()
	}
}

// takeProblems returns the problems recorded since the last call.
func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// takeBytes returns the bytes transferred since the last call.
func (b *browser) takeBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.bytes
	b.bytes = 0
	return n
}

// chromeDo runs steps in the tab, failing the test on an error or after 30 s.
func chromeDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// chromeEval returns the value of a JavaScript expression, awaiting a promise.
func chromeEval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		v, err := chromedp.Run(tctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
		if err != nil && contextGone(err) && tctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
}

// chromeShot saves the top of the page at a width and height, and checks
// that the page fits that width; a phone also emulates touch.
func chromeShot(t *testing.T, ctx context.Context, file string, width, height int64, phone bool) {
	t.Helper()
	chromeEval[chromedp.Void](t, ctx, `document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`)
	var opts []chromedp.EmulateViewportOption
	if phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	chromeDo(t, ctx, "viewport for "+file, chromedp.EmulateViewport(width, height, opts...))
	// Nothing may run off the screen's edge: a page wider than the
	// viewport makes a phone user scroll sideways to read a row.
	if wide := chromeEval[int64](t, ctx, `document.documentElement.scrollWidth`); wide > width {
		t.Errorf("%s: the page is %d pixels wide on a screen of %d", filepath.Base(file), wide, width)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	chromeDo(t, ctx, "reset viewport", chromedp.ResetViewport())
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Figures the browser test holds the lab to (issue 16).
const (
	// firstLoadBudget bounds the bytes a first visit to the gallery
	// transfers: page, styles, scripts and the thumbnails in view.
	firstLoadBudget = 300 << 10
	// redrawBudget bounds the median time from a parameter change to the
	// redrawn chart of the Code Red day. Timing is asserted only when
	// WORMLAB_TIMING=1 (a measurement under the heavy lock): under
	// `go test ./...` the other packages' tests share the two cores.
	redrawBudget = 500 * time.Millisecond
)

// TestLabInBrowser walks through the lab as a person would, in one
// headless Chromium: the gallery, a scenario, a parameter change that
// redraws the chart (timed, median of 10), two pinned runs compared, a
// small ensemble with its progress, a log uploaded and its families. On
// every page: no console error, a label for every control, Tab reaching
// the controls with a visible focus, and screenshots at desktop
// (1280x800) and phone (390x844) widths in artifactDir.
func TestLabInBrowser(t *testing.T) {
	bin := browsertest.Need(t)
	_, hs := newTestServer(t, Config{Data: t.TempDir()})
	b := newBrowser(t, bin)
	ctx := b.ctx
	dir := artifactDir(t)
	shots := func(name string) {
		t.Helper()
		chromeShot(t, ctx, filepath.Join(dir, name+"-desktop.png"), 1280, 800, false)
		chromeShot(t, ctx, filepath.Join(dir, name+"-phone.png"), 390, 844, true)
	}
	clean := func(where string) {
		t.Helper()
		if p := b.takeProblems(); len(p) > 0 {
			t.Errorf("%s: the page reported problems:\n%s", where, strings.Join(p, "\n"))
		}
	}

	t.Run("gallery", func(t *testing.T) {
		b.takeBytes()
		chromeDo(t, ctx, "open the gallery", chromedp.Navigate(hs.URL+"/"))
		// The thumbnails in view load lazily; wait for them to finish.
		chromeDo(t, ctx, "thumbnails", chromedp.Poll[chromedp.Void](`[...document.images].every(i => i.complete)`))
		waitNetworkQuiet(t, b)
		if n := b.takeBytes(); n > firstLoadBudget || n == 0 {
			t.Errorf("the first load of the gallery transferred %d bytes, want at most %d", n, firstLoadBudget)
		} else {
			t.Logf("first load of the gallery: %d bytes transferred (budget %d)", n, firstLoadBudget)
		}
		cards := chromeEval[[]string](t, ctx, `[...document.querySelectorAll('[data-test=scenario-card]')].map(c => c.dataset.name)`)
		if want := scenario.Names(); !slices.Equal(cards, want) {
			t.Errorf("gallery cards %v, want every built-in %v", cards, want)
		}
		checkAccessible(t, ctx, "gallery", nil)
		shots("gallery")
		clean("gallery")
	})

	t.Run("scenario", func(t *testing.T) {
		clickToLoad(t, ctx, `a[data-test=open-scenario][data-name="`+scenario.Default+`"]`)
		chromeDo(t, ctx, "open the Code Red day",
			chromedp.Poll[chromedp.Void](`document.body.dataset.page === 'run' && Number(document.querySelector('#chart-states').dataset.drawn) > 0`))
		if title := chromeEval[string](t, ctx, `document.querySelector('#run-title').textContent`); title != scenario.Default {
			t.Errorf("run title %q", title)
		}
		checkAccessible(t, ctx, "run view", []string{"#seed", `#scenario-form [data-key="worm.scan_rate"]`, "#toml", "#pin"})
		shots("run")
		if out := os.Getenv("WORMLAB_SCREENSHOTS"); out != "" {
			// The README's picture of the lab: the run view, desktop width,
			// its form showing the scan rate.
			chromeEval[chromedp.Void](t, ctx, `document.querySelector('[data-key="worm.scan_rate"]').parentElement.scrollIntoView({block: 'start'})`)
			chromeShot(t, ctx, filepath.Join(out, "serve-desktop.png"), 1280, 800, false)
		}
		clean("run view")
	})

	t.Run("change a parameter", func(t *testing.T) {
		before, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("chart-states")))
		if err != nil {
			t.Fatal(err)
		}
		summary := chromeEval[string](t, ctx, `document.querySelector('#summary').textContent`)
		// Ten changes of the scan rate, each a new run of the Code Red
		// day, timed in the page from the input event to the chart's
		// next draw (the lab waits 80 ms for typing to pause: that is
		// part of the figure).
		var times []time.Duration
		for i := range 10 {
			ms := chromeEval[float64](t, ctx, fmt.Sprintf(redrawJS, "worm.scan_rate", fmt.Sprint(4+0.25*float64(i))))
			times = append(times, time.Duration(ms*float64(time.Millisecond)))
		}
		slices.Sort(times)
		median := (times[4] + times[5]) / 2
		t.Logf("parameter change to redrawn chart, Code Red day, 10 changes: median %v, min %v, max %v", median.Round(time.Millisecond), times[0].Round(time.Millisecond), times[9].Round(time.Millisecond))
		if os.Getenv("WORMLAB_TIMING") == "1" {
			// The peer: the same run by the CLI's code path, no browser or
			// server in between (median of 3).
			sc, err := scenario.Builtin(scenario.Default)
			if err != nil {
				t.Fatal(err)
			}
			var cli []time.Duration
			for seed := range uint64(3) {
				began := time.Now()
				if _, _, _, err := simrun.Run(sc, seed+1, "", nil); err != nil {
					t.Fatal(err)
				}
				cli = append(cli, time.Since(began))
			}
			slices.Sort(cli)
			t.Logf("peer: the Code Red day through the CLI's code path (simrun.Run), median of 3: %v; change-to-redraw / CLI run = %.2f", cli[1].Round(time.Millisecond), float64(median)/float64(cli[1]))
		}
		if os.Getenv("WORMLAB_TIMING") == "1" && median > redrawBudget {
			t.Errorf("median change-to-redraw %v, want under %v", median, redrawBudget)
		}
		after, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("chart-states")))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(before, after) {
			t.Errorf("the chart looks the same after the scan rate went from 5.9667 to 6.25")
		}
		if s := chromeEval[string](t, ctx, `document.querySelector('#summary').textContent`); s == summary {
			t.Errorf("the summary did not change: %s", s)
		}
		if u := chromeEval[string](t, ctx, `location.search`); !strings.Contains(u, "worm.scan_rate=6.25") {
			t.Errorf("the address %q does not carry the changed scan rate", u)
		}
		// A value the scenario checks reject shows its message at the field.
		chromeEval[chromedp.Void](t, ctx, fmt.Sprintf(setFieldJS, "worm.scan_rate", "-1"))
		chromeDo(t, ctx, "field error", chromedp.Poll[chromedp.Void](`document.querySelector('[data-error-for="worm.scan_rate"]').textContent.includes('want a positive number')`))
		chromeEval[float64](t, ctx, fmt.Sprintf(redrawJS, "worm.scan_rate", "6.25"))
		clean("editor")
	})

	t.Run("pin and compare", func(t *testing.T) {
		chromeDo(t, ctx, "pin the edited run", chromedp.Click(chromedp.ID("pin")))
		chromeEval[float64](t, ctx, fmt.Sprintf(redrawJS, "seed", "2"))
		chromeDo(t, ctx, "pin seed 2", chromedp.Click(chromedp.ID("pin")),
			chromedp.Poll[chromedp.Void](`document.querySelector('#pin').textContent.includes('2')`))
		clickToLoad(t, ctx, "#open-compare")
		chromeDo(t, ctx, "compare",
			chromedp.Poll[chromedp.Void](`document.body.dataset.page === 'compare' && Number(document.querySelector('#compare-chart').dataset.drawn) > 0`))
		if n := chromeEval[int](t, ctx, `document.querySelectorAll('[data-test=pin-item]').length`); n != 2 {
			t.Errorf("%d pinned runs listed, want 2", n)
		}
		legend := chromeEval[string](t, ctx, `document.querySelector('#compare-chart').textContent`)
		if !strings.Contains(legend, "seed=2") {
			t.Errorf("the comparison's legend %q does not say the runs differ by seed", legend)
		}
		checkAccessible(t, ctx, "compare", nil)
		shots("compare")
		clean("compare")
	})

	t.Run("ensemble", func(t *testing.T) {
		// Ten runs of the Code Red day (each about a tenth of a second on
		// a quiet machine, so the stream has time to show); the page
		// records every progress value it shows, so the test sees the
		// stream, not only its end.
		chromeDo(t, ctx, "ensemble page", chromedp.Navigate(hs.URL+"/ensemble?scenario="+scenario.Default+"&seed=1"))
		chromeEval[chromedp.Void](t, ctx, `window.progressSeen = [];
			new MutationObserver((ms) => { for (const m of ms) window.progressSeen.push(Number(m.oldValue || 0)); })
				.observe(document.body, {attributes: true, attributeOldValue: true, attributeFilter: ['data-ensemble-done']});
			document.querySelector('#ens-runs').value = '10';
			document.querySelector('#ens-form').requestSubmit();`)
		chromeDo(t, ctx, "ensemble done", chromedp.Poll[chromedp.Void](`document.body.dataset.ensemble === 'done' || document.body.dataset.ensemble === 'error'`,
			chromedp.WithPollingTimeout(60*time.Second)))
		state := chromeEval[string](t, ctx, `document.body.dataset.ensemble + ': ' + document.querySelector('#ens-status').textContent`)
		seen := chromeEval[[]int](t, ctx, `window.progressSeen.concat([Number(document.body.dataset.ensembleDone)])`)
		if !strings.HasPrefix(state, "done") {
			t.Fatalf("ensemble %s", state)
		}
		if len(seen) < 4 || seen[len(seen)-1] != 10 || !slices.IsSorted(seen) {
			t.Errorf("progress went %v, want several steps up to 10", seen)
		}
		if v := chromeEval[float64](t, ctx, `document.querySelector('#ens-progress').value`); v != 10 {
			t.Errorf("progress bar at %v, want 10", v)
		}
		if n := chromeEval[int](t, ctx, `Number(document.querySelector('#ens-chart').dataset.drawn)`); n < 2 {
			t.Errorf("the bands were drawn %d times, want them redrawn as they fill", n)
		}
		checkAccessible(t, ctx, "ensemble", []string{"#ens-runs", "#ens-start"})
		shots("ensemble")
		clean("ensemble")
	})

	t.Run("upload a log", func(t *testing.T) {
		log := filepath.Join(t.TempDir(), "access.log")
		counts := writeLog(t, log)
		chromeDo(t, ctx, "upload",
			chromedp.Navigate(hs.URL+"/pipeline"),
			chromedp.SetUploadFiles(chromedp.ID("log-file"), []string{log}),
			chromedp.Click(chromedp.ID("upload")),
			chromedp.Poll[chromedp.Void](`!document.querySelector('#detect-section').hidden || document.querySelector('#upload-status').classList.contains('error')`))
		type row struct {
			Family string `json:"family"`
			Probes string `json:"probes"`
		}
		rows := chromeEval[[]row](t, ctx, `[...document.querySelectorAll('tr[data-test=family-row]')].map(r => ({family: r.dataset.family, probes: r.cells[1].textContent}))`)
		got := map[string]string{}
		for _, r := range rows {
			got[r.Family] = r.Probes
		}
		if len(got) == 0 {
			t.Fatalf("no families: %s", chromeEval[string](t, ctx, `document.querySelector('#upload-status').textContent`))
		}
		for fam, n := range counts {
			if want := fmt.Sprintf("%d", n); strings.ReplaceAll(got[fam], ",", "") != want {
				t.Errorf("family %s: the page says %q probes, the log holds %s", fam, got[fam], want)
			}
		}
		for fam, n := range got {
			if _, ok := counts[fam]; !ok && n != "0" {
				t.Errorf("family %s: the page says %s probes, the log holds none", fam, n)
			}
		}
		checkAccessible(t, ctx, "pipeline", []string{"#log-file", "#upload"})
		shots("pipeline")
		clean("pipeline")
	})
}

// redrawJS sets a key's control (%q) to a value (%q), as typing would,
// and resolves with the milliseconds until the states chart draws again.
const redrawJS = `new Promise((resolve, reject) => {
	const chart = document.querySelector('#chart-states');
	const before = Number(chart.dataset.drawn);
	const t0 = performance.now();
	const obs = new MutationObserver(() => {
		if (Number(chart.dataset.drawn) > before) { obs.disconnect(); resolve(performance.now() - t0); }
	});
	obs.observe(chart, {attributes: true, attributeFilter: ['data-drawn']});
	setTimeout(() => { obs.disconnect(); reject(new Error('no redraw in 20 s: ' + document.querySelector('#status').textContent)); }, 20000);
	(` + setFieldFunc + `)(%q, %q);
})`

// setFieldJS sets a key's control (%q) to a value (%q), as typing would.
const setFieldJS = `(` + setFieldFunc + `)(%q, %q)`

// setFieldFunc types value into the control of key (the seed's, or the
// generated form's).
const setFieldFunc = `function (key, value) {
	const el = document.querySelector('[data-key="' + key + '"]');
	el.focus();
	el.value = value;
	el.dispatchEvent(new Event('input', {bubbles: true}));
}`

// clickToLoad clicks a link and waits for the page it opens to load.
func clickToLoad(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	// The load event can come before chromedp has heard of the new page's
	// execution context, and a Poll sent then names the old one ("Cannot
	// find context with specified id"; chromedp issue 890). An Evaluate
	// takes up the new context, so the next step runs in the new page.
	chromeEval[bool](t, ctx, `document.readyState === 'complete'`)
}

// contextGone reports whether err says a command named a JavaScript
// context that no longer exists, as happens across a navigation: the
// command never ran, so sending it again is safe. ("Execution context was
// destroyed" is not such an error: the script may have run, and caused
// the navigation.)
func contextGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context with specified id") ||
		strings.Contains(msg, "Cannot find default execution context")
}

// waitNetworkQuiet waits until no bytes have arrived for 300 ms, so a
// count of bytes is complete.
func waitNetworkQuiet(t *testing.T, b *browser) {
	t.Helper()
	b.mu.Lock()
	last := b.bytes
	b.mu.Unlock()
	for range 50 {
		time.Sleep(300 * time.Millisecond)
		b.mu.Lock()
		n := b.bytes
		b.mu.Unlock()
		if n == last {
			return
		}
		last = n
	}
}

// checkAccessible checks the page's form controls and its keyboard path:
// every visible control has a label (a <label>, aria-label or
// aria-labelledby); pressing Tab moves focus through the page, each
// focused element showing a focus ring, and reaches each of reach.
func checkAccessible(t *testing.T, ctx context.Context, page string, reach []string) {
	t.Helper()
	unlabelled := chromeEval[[]string](t, ctx, `[...document.querySelectorAll('input, select, textarea, button')]
		.filter(el => el.type !== 'hidden' && el.getClientRects().length > 0)
		.filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
		.map(el => el.outerHTML.slice(0, 120))`)
	for _, u := range unlabelled {
		t.Errorf("%s: a control without a label: %s", page, u)
	}
	chromeEval[chromedp.Void](t, ctx, `document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`)
	want := map[string]bool{}
	for _, sel := range reach {
		want[sel] = false
	}
	for i := 0; i < 80 && slices.Contains(slices.Collect(maps.Values(want)), false); i++ {
		chromeDo(t, ctx, "Tab", chromedp.KeyEvent(kb.Tab))
		type focus struct {
			Tag     string `json:"tag"`
			Visible bool   `json:"visible"`
			Ring    bool   `json:"ring"`
		}
		f := chromeEval[focus](t, ctx, `(() => {
			const el = document.activeElement;
			const st = getComputedStyle(el);
			return {tag: el.outerHTML.slice(0, 80), visible: el.matches(':focus-visible'),
				ring: (st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0) || st.boxShadow !== 'none'};
		})()`)
		if f.Tag == "" || strings.HasPrefix(f.Tag, "<body") {
			continue
		}
		if !f.Visible || !f.Ring {
			t.Errorf("%s: Tab focused %s without a visible focus ring", page, f.Tag)
		}
		for sel := range want {
			if chromeEval[bool](t, ctx, fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)) {
				want[sel] = true
			}
		}
	}
	for sel, ok := range want {
		if !ok {
			t.Errorf("%s: Tab never reached %s", page, sel)
		}
	}
}

// writeLog writes a synthetic access log with Code Red and Nimda probes
// to file and returns the probes it holds per detector family.
func writeLog(t *testing.T, file string) map[string]int {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := logsynth.Generate(f, logsynth.Config{
		Format: logsynth.Combined, Seed: 16, Start: time.Date(2001, 9, 18, 0, 0, 0, 0, time.UTC), Duration: 24 * time.Hour,
		Lines: 3000, Probes: map[string]int{"codered1": 120, "codered2": 80, "nimda-cmd-exe": 60},
	})
	if err != nil {
		t.Fatal(err)
	}
	sigs := signature.Builtin()
	out := map[string]int{}
	for name, sc := range c.Signatures {
		if sc.Probes > 0 {
			out[sigs.Lookup(name).Family] += sc.Probes
		}
	}
	return out
}
