package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/wormlab/wormlab/internal/ensemble"
	"github.com/wormlab/wormlab/internal/scenario"
)

// readTestdata returns testdata/name.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit decodes a JSON document, lets change edit it, and encodes it again.
func edit(t testing.TB, data []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fullRun is the scaled run record with the parts later versions add:
// per-/8 counts, top /16s, and a telescope and a census observer.
func fullRun(t testing.TB) []byte {
	return edit(t, readTestdata(t, "scaled-run.json"), func(m map[string]any) {
		sum := m["summary"].(map[string]any)
		per := make([]int64, 256)
		// A heavy-tailed layout: block b holds about 60000/b hosts, none in
		// the reserved blocks.
		for b := 1; b < 224; b++ {
			if b != 10 && b != 127 {
				per[b] = int64(60000 / b)
			}
		}
		sum["per_slash8"] = per
		sum["top_slash16"] = []map[string]any{{"prefix": "24.0.0.0/16", "infected": 812}, {"prefix": "61.12.0.0/16", "infected": 402}}
		series := m["series"].([]any)
		var tel, census []map[string]any
		for i, r := range series {
			row := r.(map[string]any)
			inf := row["infected"].(float64)
			tel = append(tel, map[string]any{"minute": row["minute"], "probes": inf * 3, "sources": math.Floor(inf * 0.9),
				"new_sources": math.Floor(inf * 0.1), "seen": math.Floor(inf * 0.95), "infected": inf})
			if i%12 == 0 {
				// A census of 200 of the 1,406 hosts finding inf/1406 of
				// them infected and none patched: all unprotected.
				census = append(census, map[string]any{"utc": row["utc"], "sample": 200, "unprotected": 200, "infected": math.Round(200 * inf / 1406),
					"share_unprotected": 1.0, "low": 0.98, "high": 1.0})
			}
		}
		m["observers"] = map[string]any{
			"telescope": map[string]any{"block": "44.0.0.0/8", "series": tel},
			"census":    census,
		}
	})
}

// ensembleJSON is an ensemble of runs written by package ensemble: bands
// per bin of which infected and new_infections vary (the rest are zero),
// and one members entry per run. Run j reaches half at 400+j%50 minutes
// with K = 1.7 + (j%20)/100; every tenth run has no fit.
func ensembleJSON(bins, runs int) []byte {
	start := time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC)
	f := ensemble.File{
		Schema: ensemble.Schema,
		Header: ensemble.Header{Version: "v0.1.0-dev", Commit: "unknown", Scenario: &scenario.Scenario{Name: "codered-v2-2001-07-19"},
			BaseSeed: 1, Runs: runs, Engine: "event", Start: start, StepSeconds: 60, Bins: bins, Columns: ensemble.Columns},
		QuantileMethod: ensemble.QuantileMethod,
		Percentiles:    ensemble.Percentiles,
	}
	for i := range bins {
		h := float64(i) / 60
		mid := 360000 / (1 + math.Exp(-1.8*(h-6.7)))
		f.Bands = append(f.Bands, ensemble.BandRow{
			Minute:        float64(i),
			UTC:           start.Add(time.Duration(i) * time.Minute),
			Infected:      ensemble.Quantiles{int64(math.Round(mid * 0.9)), int64(math.Round(mid)), int64(math.Round(math.Min(mid*1.1, 360000)))},
			NewInfections: ensemble.Quantiles{int64(math.Round(mid / 200)), int64(math.Round(mid / 150)), int64(math.Round(mid / 100))},
		})
	}
	for j := range runs {
		half, k := float64(400+j%50), 1.7+float64(j%20)/100
		m := ensemble.Member{Run: j, Seed: uint64(1 + j), FinalInfected: 360000, MinutesToHalf: &half, KPerHour: &k}
		if j%10 == 9 {
			m.KPerHour = nil
		}
		f.Members = append(f.Members, m)
	}
	var buf bytes.Buffer
	if err := f.WriteJSON(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func TestParseKinds(t *testing.T) {
	run, err := Parse("run.json", fullRun(t))
	if err != nil {
		t.Fatal(err)
	}
	if run.Run == nil || len(run.Run.Series) != 85 || run.Run.Summary.Population != 1406 {
		t.Fatalf("run record: got %+v", run.Run)
	}
	if got := run.Run.Summary.PerSlash8[2]; got != 30000 {
		t.Errorf("per_slash8[2] = %d, want 30000", got)
	}
	if len(run.Run.Summary.TopSlash16) != 2 || run.Run.Summary.TopSlash16[1].Infected != 402 {
		t.Errorf("top_slash16 = %+v", run.Run.Summary.TopSlash16)
	}
	if len(run.Run.Observers) != 2 {
		t.Fatalf("observers: got %d, want 2", len(run.Run.Observers))
	}
	// The observers come in name order.
	tel := run.Run.Observers[1]
	if tel.Kind != "telescope" || tel.Label != "44.0.0.0/8" || len(tel.Tables) != 1 || len(tel.Tables[0].Columns) != 5 {
		t.Errorf("telescope: %+v", tel)
	}
	// The last row: 1406 infected, so 4218 probes and floor(1265.4) sources,
	// in column name order: infected, new_sources, probes, seen, sources.
	cols := tel.Tables[0].Columns
	if cols[2].Name != "probes" || cols[2].Values[84] != 4218 || cols[4].Name != "sources" || cols[4].Values[84] != 1265 {
		t.Errorf("telescope columns: %s=%v %s=%v", cols[2].Name, cols[2].Values[84], cols[4].Name, cols[4].Values[84])
	}
	// Rows placed from the run's start, a minute apart.
	if got, want := tel.Tables[0].Times[84], run.Run.Series[84].UTC; !got.Equal(want) {
		t.Errorf("telescope row 84 at %v, want %v", got, want)
	}
	if c := run.Run.Observers[0]; c.Kind != "census" || len(c.Tables[0].Times) != 8 || len(c.Tables[0].Columns) != 6 {
		t.Errorf("census: %+v", c)
	}

	det, err := Parse("detect.json", readTestdata(t, "detect.json"))
	if err != nil {
		t.Fatal(err)
	}
	if det.Detect == nil || det.Detect.Totals.Probes != 220 || len(det.Detect.Series) != 288 {
		t.Fatalf("detect: %+v", det.Detect)
	}

	ens, err := Parse("ens.json", ensembleJSON(841, 1000))
	if err != nil {
		t.Fatal(err)
	}
	e := ens.Ensemble
	if e == nil || e.Runs != 1000 || e.Scenario != "codered-v2-2001-07-19" || len(e.Times) != 841 || len(e.Bands) != 6 {
		t.Fatalf("ensemble: %+v", e)
	}
	if b := e.Bands[0]; b.Name != "infected" || b.Mid[840] != 359999 || b.Hi[840] != 360000 || b.Lo[840] != 323999 {
		t.Errorf("infected band at the end: %v %v %v", b.Lo[840], b.Mid[840], b.Hi[840])
	}
	// 1000 runs, a tenth without a fit. At 14 h the logistic is
	// 360000/(1+e^(-1.8*7.3)) = 359999.3, so the median rounds to 359999.
	if k := e.Figures["k_per_hour"]; len(k) != 900 || len(e.Figures["minutes_to_half"]) != 1000 {
		t.Errorf("figures: %d K values, %d times to half", len(k), len(e.Figures["minutes_to_half"]))
	}
}

// TestBadInput checks that every malformed file is refused with an error
// that names it and says what is wrong.
func TestBadInput(t *testing.T) {
	good := readTestdata(t, "scaled-run.json")
	cols := `"columns":["susceptible","infected","patched","removed","new_infections","probes"]`
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty.json:1:1: truncated"},
		{"truncated", good[:len(good)/2], "truncated.json:"},
		{"not-json", []byte("minute,utc,probes\n0,2001-07-19T10:00:00Z,1\n"), "not-json.json:1:1: not a wormlab output (not JSON"},
		{"no-schema", []byte(`{"series": []}`), `no-schema.json: not a wormlab output: no "schema" field`},
		{"array", []byte(`[1, 2]`), "array.json:1:1: the top level holds a JSON array"},
		{"newer-run", bytes.Replace(good, []byte(`"wormlab.run/v1"`), []byte(`"wormlab.run/v2"`), 1), `newer-run.json: schema "wormlab.run/v2" is not one this wormlab reads (it reads "wormlab.run/v1"): written by another version`},
		{"newer-detect", []byte(`{"schema":"wormlab.detect/v9"}`), `schema "wormlab.detect/v9" is not one this wormlab reads`},
		{"newer-ensemble", []byte(`{"schema":"wormlab.ensemble/v2"}`), `schema "wormlab.ensemble/v2" is not one this wormlab reads`},
		{"shard", []byte(`{"schema":"wormlab.ensemble-shard/v1"}`), "shard.json: an ensemble shard: combine the shards with 'wormlab merge'"},
		{"other", []byte(`{"schema":"acme.thing/v1"}`), `schema "acme.thing/v1" is not a wormlab output`},
		{"no-rows", edit(t, good, func(m map[string]any) { m["series"] = []any{} }), "no-rows.json: the run record has no series rows"},
		{"short-slash8", edit(t, good, func(m map[string]any) { m["summary"].(map[string]any)["per_slash8"] = []int{1, 2} }), "summary.per_slash8 has 2 entries, want 256"},
		{"bad-type", []byte("{\"schema\": \"wormlab.detect/v1\",\n \"totals\": {\"probes\": \"many\"}}"), "bad-type.json:2:"},
		{"ensemble-no-bands", []byte(`{"schema":"wormlab.ensemble/v1",` + cols + `,"bands":[]}`), "ensemble-no-bands.json: no quantile bands"},
		{"ensemble-columns", []byte(`{"schema":"wormlab.ensemble/v1","columns":["infected"],"bands":[]}`), "ensemble-columns.json: columns [infected]: want [susceptible"},
		{"ensemble-short-row", []byte(`{"schema":"wormlab.ensemble/v1",` + cols + `,"bands":[{"utc":"2001-07-19T10:00:00Z","infected":[1,2]}]}`), "bands row 0: infected quantiles [1 2 0] are not in increasing order"},
		{"ensemble-bad-time", []byte(`{"schema":"wormlab.ensemble/v1",` + cols + `,"bands":[{"utc":"yesterday"}]}`), `ensemble-bad-time.json: parsing time "yesterday"`},
		{"observers-bad", edit(t, good, func(m map[string]any) { m["observers"] = 7 }), "observers-bad.json:1:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := Parse(c.name+".json", c.data)
			if err == nil {
				t.Fatalf("accepted: %+v", in)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for _, c := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 1}, {2, 1, 2}, {4, 2, 1}, {5, 2, 2}, {9, 4, 2}, {99, 4, 2}} {
		if l, col := position(data, c.off); l != c.line || col != c.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", c.off, l, col, c.line, c.col)
		}
	}
}

func TestUTCTicks(t *testing.T) {
	lo := float64(time.Date(2001, 7, 19, 10, 0, 0, 0, time.UTC).Unix())
	hi := float64(time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC).Unix())
	var labels []string
	for _, tk := range (utcTicks{}).Ticks(lo, hi) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	// 14 hours at most 8 labels: every 2 hours.
	want := "10:00 12:00 14:00 16:00 18:00 20:00 22:00 00:00"
	if got := strings.Join(labels, " "); got != want {
		t.Errorf("labels %q, want %q", got, want)
	}
	// Two weeks: daily marks would be 14 labels, so every 2 days, dated;
	// time.Truncate aligns 48 h steps on odd days of July 2001.
	hi = lo + 14*24*3600
	labels = labels[:0]
	for _, tk := range (utcTicks{}).Ticks(lo, hi) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if len(labels) != 7 || labels[0] != "21 Jul" || labels[6] != "2 Aug" {
		t.Errorf("two weeks: labels %q", labels)
	}
	if got := timeLabel(time.Unix(int64(lo), 0), time.Unix(int64(lo)+14*3600, 0)); got != "time (UTC), 19-20 July 2001" {
		t.Errorf("timeLabel = %q", got)
	}
}

func TestCountTicks(t *testing.T) {
	var labels []string
	for _, tk := range (countTicks{}).Ticks(0, 360000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	// 360,000/6 = 60,000 rounds up to a step of 100,000.
	if got := strings.Join(labels, " "); got != "0 100k 200k 300k" {
		t.Errorf("labels %q", got)
	}
	// Marks 20 apart near 360,000 cannot be told apart in k: written whole.
	labels = labels[:0]
	for _, tk := range (countTicks{}).Ticks(359900, 360000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "359,900 359,920 359,940 359,960 359,980 360,000" {
		t.Errorf("labels near 360k: %q", got)
	}
	for v, want := range map[float64]string{0: "0", 950: "950", 12500: "12,500", 350000: "350k", 1.5e6: "1.5M", 2.5e9: "2.5G", 0.25: "0.25"} {
		if got := shortCount(v); got != want {
			t.Errorf("shortCount(%v) = %q, want %q", v, got, want)
		}
	}
}

// chartIDs returns the ids of the figures in an HTML page.
func chartIDs(html string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<figure id="fig-([^"]+)"`).FindAllStringSubmatch(html, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func buildHTML(t testing.TB, inputs ...*Input) string {
	t.Helper()
	r, err := Build(inputs)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func mustParse(t testing.TB, name string, data []byte) *Input {
	t.Helper()
	in, err := Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestSectionsFollowInputs checks that a section appears exactly when its
// input holds the data for it.
func TestSectionsFollowInputs(t *testing.T) {
	plain := buildHTML(t, mustParse(t, "plain.json", readTestdata(t, "scaled-run.json")))
	if got, want := strings.Join(chartIDs(plain), " "), "states new-infections logistic"; got != want {
		t.Errorf("plain run charts %q, want %q", got, want)
	}
	for _, s := range []string{"K = 1.82 per hour", "midpoint T = 2001-07-19 15:33 UTC", "1,406 (100.0%)", "scenario codered-v2-scaled, seed 7, event engine"} {
		if !strings.Contains(plain, s) {
			t.Errorf("plain report lacks %q", s)
		}
	}
	if strings.Contains(plain, "slash8") || strings.Contains(plain, "Observer") {
		t.Error("plain report has a section its input does not hold")
	}

	full := buildHTML(t, mustParse(t, "full.json", fullRun(t)))
	if got, want := strings.Join(chartIDs(full), " "), "states new-infections logistic slash8 obs1-1 obs2-1 obs2-2 obs2-3"; got != want {
		t.Errorf("full run charts %q, want %q", got, want)
	}
	// 60000/b summed over the public blocks, and 219 blocks with hosts.
	var total int64
	for b := 1; b < 224; b++ {
		if b != 10 && b != 127 {
			total += int64(60000 / b)
		}
	}
	if want := fmt.Sprintf("%s in 221 blocks", thousands(total)); !strings.Contains(full, want) {
		t.Errorf("full report lacks %q", want)
	}
	for _, s := range []string{"61.12.0.0/16", "Observer: Telescope 44.0.0.0/8", "Observer: census", "100.00% (98.00% to 100.00%)", `<a href="#obs2">Observer: Telescope`} {
		if !strings.Contains(full, s) {
			t.Errorf("full report lacks %q", s)
		}
	}
	// The sources seen so far share the first chart with the truth.
	tel := full[strings.Index(full, `id="fig-obs2-1"`):strings.Index(full, `id="fig-obs2-2"`)]
	if !strings.Contains(tel, "infected hosts (truth)") || !strings.Contains(tel, "distinct sources seen so far") {
		t.Error("the telescope's first chart should hold the sources seen and the truth")
	}

	det := buildHTML(t, mustParse(t, "detect.json", readTestdata(t, "detect.json")))
	if got, want := strings.Join(chartIDs(det), " "), "detect-probes detect-sources detect-signatures"; got != want {
		t.Errorf("detect charts %q, want %q", got, want)
	}
	if !strings.Contains(det, "220 from 166 sources") {
		t.Error("detect report lacks the probe totals")
	}

	ens := buildHTML(t, mustParse(t, "ens.json", ensembleJSON(841, 1000)), mustParse(t, "plain.json", readTestdata(t, "scaled-run.json")))
	if got, want := strings.Join(chartIDs(ens), " "), "compare-infected 1-ensemble-states 1-ensemble-new_infections 1-ensemble-probes 1-ensemble-minutes_to_half 1-ensemble-k_per_hour 2-states 2-new-infections 2-logistic"; got != want {
		t.Errorf("ensemble charts %q, want %q", got, want)
	}
	if !strings.Contains(ens, "ensemble of 1000 runs of scenario codered-v2-2001-07-19 from seed 1") {
		t.Error("ensemble footer missing")
	}

	two := buildHTML(t, mustParse(t, "a.json", readTestdata(t, "scaled-run.json")), mustParse(t, "b.json", fullRun(t)))
	if ids := chartIDs(two); len(ids) != 12 || ids[0] != "compare-infected" {
		t.Errorf("two runs: charts %q", ids)
	}
}

// TestSelfContained checks that the page can fetch nothing: no external
// URL in any attribute or style, and a policy that forbids loading.
func TestSelfContained(t *testing.T) {
	html := buildHTML(t, mustParse(t, "full.json", fullRun(t)), mustParse(t, "detect.json", readTestdata(t, "detect.json")), mustParse(t, "ens.json", ensembleJSON(200, 10)))
	// The SVG namespace URIs are names, never fetched; anything else that
	// looks like a URL is a defect.
	stripped := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", `xmlns:xlink="http://www.w3.org/1999/xlink"`, "").Replace(html)
	for _, bad := range []string{"http://", "https://", "src=", "url(", "@import", "<link", "//cdn"} {
		if strings.Contains(stripped, bad) {
			i := strings.Index(stripped, bad)
			t.Errorf("page holds %q: ...%s...", bad, stripped[max(0, i-60):min(len(stripped), i+60)])
		}
	}
	if !strings.Contains(html, `content="default-src 'none';`) {
		t.Error("no Content-Security-Policy forbidding loads")
	}
	if n := strings.Count(html, "<svg"); n != len(chartIDs(html)) {
		t.Errorf("%d svg elements for %d figures", n, len(chartIDs(html)))
	}
}

func TestWritePNGs(t *testing.T) {
	r, err := Build([]*Input{mustParse(t, "full.json", fullRun(t))})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := r.WritePNGs(filepath.Join(dir, "png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 8 {
		t.Fatalf("wrote %d PNGs, want 8", len(paths))
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// 16 cm at 150 dpi is 945 pixels; the IHDR width is bytes 16-19.
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 24 {
			t.Fatalf("%s: not a PNG", p)
		}
		w := int(b[16])<<24 | int(b[17])<<16 | int(b[18])<<8 | int(b[19])
		if w != 945 {
			t.Errorf("%s: %d pixels wide, want 945", p, w)
		}
	}
}

// gunzipTestdata returns the decompressed testdata/name.
func gunzipTestdata(t testing.TB, name string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(readTestdata(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBlockLoad reads a real record: `wormlab forecast --scenario
// codered-ii-2001-08-04 --block 24.0.0.0/16 --json` (seed 1), which holds
// the block-load observer, per-/8 counts and the top /16s.
func TestBlockLoad(t *testing.T) {
	in := mustParse(t, "crii.json", gunzipTestdata(t, "crii-block.json.gz"))
	obs := in.Run.Observers
	if len(obs) != 1 || obs[0].Kind != "block_load" || obs[0].Label != "24.0.0.0/16" {
		t.Fatalf("observers %+v", obs)
	}
	tab := obs[0].Tables[0]
	// Row 100 is minute 1000, 10 minutes a bin from 4 August 00:00 UTC.
	if want := time.Date(2001, 8, 4, 16, 40, 0, 0, time.UTC); !tab.Times[100].Equal(want) {
		t.Errorf("row 100 at %v, want %v", tab.Times[100], want)
	}
	html := buildHTML(t, in)
	if got, want := strings.Join(chartIDs(html), " "), "states new-infections slash8 obs1-1 obs1-2"; got != want {
		t.Errorf("charts %q, want %q (no chart of the block's own hosts: it has none)", got, want)
	}
	for _, s := range []string{"Probes a second arriving at 24.0.0.0/16", "350,550 in 124 blocks", "43.209.0.0/16"} {
		if !strings.Contains(html, s) {
			t.Errorf("report lacks %q", s)
		}
	}
}

func TestFromRecordMatchesFile(t *testing.T) {
	in := mustParse(t, "run.json", readTestdata(t, "scaled-run.json"))
	again, err := FromRecord("run.json", in.Run.Record)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := buildHTML(t, in), buildHTML(t, again); a != b {
		t.Error("the report of a record in memory differs from the report of its file")
	}
}

func TestWriteRecordHTML(t *testing.T) {
	in := mustParse(t, "run.json", readTestdata(t, "scaled-run.json"))
	path := filepath.Join(t.TempDir(), "run.html")
	if err := WriteRecordHTML(path, in.Run.Record); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(chartIDs(string(b)), " "); got != "states new-infections logistic" {
		t.Errorf("charts %q", got)
	}
	if !strings.Contains(string(b), "this run: run record of scenario codered-v2-scaled, seed 7") {
		t.Error("footer does not name the run")
	}
}

func TestShortDuration(t *testing.T) {
	for in, want := range map[string]string{"24h0m0s": "24h", "1h30m0s": "1h30m", "9h0m5s": "9h0m5s", "30m0s": "30m", "0s": "0s", "junk": "junk"} {
		if got := shortDuration(in); got != want {
			t.Errorf("shortDuration(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPublishedFigures checks that a run of the Code Red v2 day is drawn
// with the counts published for that day, and other runs are not.
func TestPublishedFigures(t *testing.T) {
	day := edit(t, readTestdata(t, "scaled-run.json"), func(m map[string]any) {
		m["scenario"].(map[string]any)["name"] = "codered-v2-2001-07-19"
	})
	html := buildHTML(t, mustParse(t, "day.json", day))
	for _, s := range []string{"CERT: over 250,000 in 9 h", "Moore et al.: over 359,000", "Moore, Shannon, Brown, IMW 2002"} {
		if !strings.Contains(html, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	if other := buildHTML(t, mustParse(t, "run.json", readTestdata(t, "scaled-run.json"))); strings.Contains(other, "CERT") {
		t.Error("published figures drawn for another scenario")
	}
}

func TestThin(t *testing.T) {
	short := make(plotter.XYs, thinAbove)
	if got := thin(short); len(got) != thinAbove {
		t.Errorf("a line of %d points was thinned to %d", thinAbove, len(got))
	}
	// A month at one point a minute: a sine with one spike up and one down.
	n := 43200
	pts := make(plotter.XYs, n)
	for i := range pts {
		pts[i] = plotter.XY{X: float64(i), Y: math.Sin(float64(i) / 500)}
	}
	pts[12345].Y, pts[30001].Y = 7, -7
	got := thin(pts)
	if len(got) > 2*thinBuckets+2 {
		t.Errorf("%d points kept, want at most %d", len(got), 2*thinBuckets+2)
	}
	var hasUp, hasDown bool
	for i, p := range got {
		if i > 0 && p.X <= got[i-1].X {
			t.Fatalf("x not increasing at %d: %v after %v", i, p.X, got[i-1].X)
		}
		hasUp = hasUp || p == plotter.XY{X: 12345, Y: 7}
		hasDown = hasDown || p == plotter.XY{X: 30001, Y: -7}
	}
	if !hasUp || !hasDown || got[0] != pts[0] || got[len(got)-1] != pts[n-1] {
		t.Error("the thinned line lost a spike or an end")
	}
	lo, hi := make(plotter.XYs, n), make(plotter.XYs, n)
	for i := range lo {
		lo[i] = plotter.XY{X: float64(i), Y: -1}
		hi[i] = plotter.XY{X: float64(i), Y: 1}
	}
	lo[777].Y, hi[40000].Y = -5, 5
	tl, th := thinBand(lo, hi)
	if len(tl) != thinBuckets+1 || len(th) != thinBuckets+1 || minOf(ys(tl)) != -5 || maxOf(ys(th)) != 5 {
		t.Errorf("band thinned to %d/%d points, extremes %v %v", len(tl), len(th), minOf(ys(tl)), maxOf(ys(th)))
	}
}

func ys(pts plotter.XYs) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = p.Y
	}
	return out
}

// TestFloodAndCensus reads a real record of `wormlab simulate --scenario
// codered-v2-july-august-2001 --json` (seed 1): its flood observer and one
// census of 20,000 servers on 31 July finding 779 unprotected.
func TestFloodAndCensus(t *testing.T) {
	in := mustParse(t, "julaug.json", gunzipTestdata(t, "julaug.json.gz"))
	html := buildHTML(t, in)
	// One census is a table row, not a chart; the flood gets two charts.
	if got, want := strings.Join(chartIDs(html), " "), "states new-infections slash8 obs2-1 obs2-2"; got != want {
		t.Errorf("charts %q, want %q", got, want)
	}
	// 779/20000 = 3.895%, Wilson interval 3.636% to 4.172%.
	for _, s := range []string{"Flood packets a second arriving at 198.137.240.91", "Infected hosts flooding 198.137.240.91",
		"<td class=\"num\">20,000</td><td class=\"num\">779</td>", "3.90% (3.64% to 4.17%)"} {
		if !strings.Contains(html, s) {
			t.Errorf("report lacks %q", s)
		}
	}
}

// TestTelescope reads a real record: the built-in codered-v2-2001-07-19
// with [telescope] block = "auto" added (seed 1), whose telescope on
// 1.0.0.0/8 carries the true infected count beside the sources it saw.
func TestTelescope(t *testing.T) {
	in := mustParse(t, "tel.json", gunzipTestdata(t, "telescope-run.json.gz"))
	html := buildHTML(t, in)
	if got, want := strings.Join(chartIDs(html), " "), "states new-infections logistic slash8 obs1-1 obs1-2 obs1-3"; got != want {
		t.Errorf("charts %q, want %q", got, want)
	}
	first := html[strings.Index(html, `id="fig-obs1-1"`):strings.Index(html, `id="fig-obs1-2"`)]
	for _, s := range []string{"Sources seen by the telescope 1.0.0.0/8, against the truth", "distinct sources seen so far", "infected hosts (truth)"} {
		if !strings.Contains(first, s) {
			t.Errorf("the telescope's first chart lacks %q", s)
		}
	}
	if !strings.Contains(html, "probes per minute") {
		t.Error("the telescope's probes are not labelled per minute")
	}
}

// TestEnsembleTelescope reads a real ensemble with a telescope: 40 runs of
// codered-v2-2001-07-19 with [telescope] block = "auto" (seeds 1 to 40),
// whose summary has the telescope's sources seen by the end at 359,972,
// 359,998 and 360,000.
func TestEnsembleTelescope(t *testing.T) {
	html := buildHTML(t, mustParse(t, "enstel.json", gunzipTestdata(t, "ensemble-telescope.json.gz")))
	want := "ensemble-states ensemble-telescope ensemble-new_infections ensemble-probes ensemble-telescope_new_sources ensemble-telescope_probes ensemble-telescope_sources ensemble-minutes_to_half ensemble-k_per_hour ensemble-final_infected"
	if got := strings.Join(chartIDs(html), " "); got != want {
		t.Errorf("charts %q\nwant %q", got, want)
	}
	for _, s := range []string{"Sources seen by the telescope against the truth", "359,998 (359,972 to 360,000)", "sources per minute"} {
		if !strings.Contains(html, s) {
			t.Errorf("report lacks %q", s)
		}
	}
}
