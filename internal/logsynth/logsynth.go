// Package logsynth writes synthetic web-server access logs with worm probes
// mixed into ordinary traffic, and says exactly how many probes of each
// signature, and from how many sources, it wrote. wormlab's detector tests
// and benchmarks run on its output, so their expected counts come from here
// rather than from the detector under test.
package logsynth

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Formats the generator writes.
const (
	Combined    = "combined"     // Apache/nginx combined, in Config.Zone
	Common      = "common"       // Apache/nginx common, in Config.Zone
	IIS         = "iis-w3c"      // IIS W3C extended, UTC; the #Fields change halfway
	IISStripped = "iis-stripped" // IIS W3C without cs-uri-query, as a server that does not log queries
	Fallback    = "fallback"     // a proxy log wrapped in syslog lines, ISO times in UTC
)

// Kinds of probe the generator sends, named by the built-in signature each
// one matches in a log that keeps the query.
var Kinds = []string{"codered1", "codered2", "codered-unknown", "nimda-root-exe", "nimda-cmd-exe"}

// Config describes one log.
type Config struct {
	Format   string
	Seed     uint64
	Start    time.Time      // time of the first line
	Duration time.Duration  // time of the last line minus Start
	Lines    int            // request lines, probes included
	Probes   map[string]int // probes per kind (see Kinds)
	Sources  map[string]int // size of each kind's pool of infected hosts; default 50
	Zone     int            // minutes east of UTC for the common and combined formats
	Junk     int            // extra lines of binary junk, each unparsable
	Long     int            // extra over-long lines (LongLen bytes) that are legitimate requests
	LongLen  int            // length of each long line; default 100 KiB

	// Growth, if positive, makes the outbreak grow logistically at this
	// rate per hour (Code Red v2 on 19 July 2001: about 1.8): each pool
	// host is infected at Start + Midpoint + logistic noise of scale
	// 1/Growth, and probes come from infected hosts only, with a rate
	// proportional to how many are infected. Zero spreads probes evenly
	// over the log, from any host of the pool.
	Growth   float64
	Midpoint time.Duration // default Duration/2
}

// Counts is what a generated log holds, as the built-in signatures name it.
type Counts struct {
	Format     string              `json:"format"`
	Lines      int                 `json:"lines"`    // all lines written, directives and junk included
	Requests   int                 `json:"requests"` // request lines
	Junk       int                 `json:"junk"`
	Long       int                 `json:"long"`
	Signatures map[string]SigCount `json:"signatures"`
}

// SigCount is one signature's expected figures.
type SigCount struct {
	Probes  int    `json:"probes"`
	Sources int    `json:"sources"`
	First   string `json:"first_seen"`
	Last    string `json:"last_seen"`
}

// NimdaStart is when the built-in signatures start calling root.exe and
// cmd.exe probes Nimda (CERT CA-2001-26, 18 September 2001); before it
// they are the sadmind/IIS worm's.
var NimdaStart = time.Date(2001, 9, 18, 0, 0, 0, 0, time.UTC)

// Expected returns the signature a probe of kind sent at t is detected as
// in format: without the query, the Code Red variants cannot be told
// apart, and Nimda's requests before Nimda are the sadmind/IIS worm's.
func Expected(kind, format string, t time.Time) string {
	if format == IISStripped && (kind == "codered1" || kind == "codered2") {
		return "codered-unknown"
	}
	if strings.HasPrefix(kind, "nimda-") && t.Before(NimdaStart) {
		return "sadmind-" + strings.TrimPrefix(kind, "nimda-")
	}
	return kind
}

var (
	crShell = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"
	nimda   = []string{
		"/scripts/root.exe?/c+dir",
		"/MSADC/root.exe?/c+dir",
		"/c/winnt/system32/cmd.exe?/c+dir",
		"/d/winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%255c../winnt/system32/cmd.exe?/c+dir",
		"/_vti_bin/..%255c../..%255c../..%255c../winnt/system32/cmd.exe?/c+dir",
		"/_mem_bin/..%255c../..%255c../..%255c../winnt/system32/cmd.exe?/c+dir",
		"/msadc/..%255c../..%255c../..%255c/..%c1%1c../..%c1%1c../..%c1%1c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c1%1c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c0%2f../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%c1%9c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%%35%63../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%%35c../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%25%35%63../winnt/system32/cmd.exe?/c+dir",
		"/scripts/..%252f../winnt/system32/cmd.exe?/c+dir",
	}
	// Legitimate requests, some chosen to look like probes to a careless
	// matcher: a real Index Server query, N and X in ordinary queries.
	legitTargets = []string{
		"/", "/index.html", "/images/logo.gif", "/images/banner.jpg", "/css/site.css",
		"/news/2001/07/19.html", "/search?q=default.ida", "/search?q=NNNN+XXXX",
		"/query.ida?CiRestriction=patch&CiMaxRecordsPerPage=10", "/downloads/q300972.exe",
		"/blog/code-red?ref=XXXXXXXXXXXX", "/scripts/search.asp?x=1", "/favicon.ico",
	}
	agents = []string{
		"Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0)",
		"Mozilla/5.0 (X11; U; Linux i686; en-US; rv:0.9.2) Gecko/20010726",
		"Googlebot/2.1 (+http://www.googlebot.com/bot.html)",
	}
	months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// event is one request line to write.
type event struct {
	kind   int // index into Kinds, or -1 for legitimate traffic
	src    uint32
	target string
}

// Generate writes the log described by cfg to w and returns its counts.
//
// Probes are spread over the lines by selection sampling (each line is a
// probe with probability remaining probes / remaining lines, Knuth TAOCP
// vol. 2, 3.4.2, Algorithm S), so the counts are exact and the generator
// streams. Each probe's source is drawn uniformly from its kind's pool;
// the distinct sources are counted as they are drawn.
func Generate(w io.Writer, cfg Config) (Counts, error) {
	switch cfg.Format {
	case Combined, Common, IIS, IISStripped, Fallback:
	default:
		return Counts{}, fmt.Errorf("logsynth: unknown format %q", cfg.Format)
	}
	if cfg.LongLen == 0 {
		cfg.LongLen = 100 << 10
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	remaining := make([]int, len(Kinds))
	totalProbes := 0
	for i, k := range Kinds {
		remaining[i] = cfg.Probes[k]
		totalProbes += remaining[i]
	}
	for k := range cfg.Probes {
		if !slices.Contains(Kinds, k) {
			return Counts{}, fmt.Errorf("logsynth: unknown probe kind %q", k)
		}
	}
	if totalProbes > cfg.Lines {
		return Counts{}, fmt.Errorf("logsynth: %d probes do not fit in %d lines", totalProbes, cfg.Lines)
	}
	// Each kind's pool lives in its own /16s; Nimda's two kinds share one
	// pool, as one Nimda host sends both.
	pools := make([][]uint32, len(Kinds))
	for i, k := range Kinds {
		n := cfg.Sources[k]
		if n == 0 {
			n = 50
		}
		pool := k
		if strings.HasPrefix(k, "nimda") {
			pool = "nimda"
		}
		base := map[string]uint32{"codered1": 0x18000000, "codered2": 0x3d000000, "codered-unknown": 0x81000000, "nimda": 0xc8000000}[pool]
		for j := 0; j < n; j++ {
			// Three /16s per pool, hosts spread inside them.
			pools[i] = append(pools[i], base|uint32(j%3)<<16|uint32(rng.IntN(65534)+1))
		}
		if strings.HasPrefix(k, "nimda") && i > 0 && strings.HasPrefix(Kinds[i-1], "nimda") {
			pools[i] = pools[i-1]
		}
	}
	if cfg.Midpoint == 0 {
		cfg.Midpoint = cfg.Duration / 2
	}
	// With growth, each pool is ordered by infection time and infected[i][j]
	// is the hour (from Start) at which pools[i][j] is infected.
	infected := make([][]float64, len(Kinds))
	mid := cfg.Midpoint.Hours()
	if cfg.Growth > 0 {
		for i := range pools {
			if i > 0 && len(pools[i]) > 0 && len(pools[i-1]) > 0 && &pools[i][0] == &pools[i-1][0] {
				infected[i] = infected[i-1]
				continue
			}
			ts := make([]float64, len(pools[i]))
			for j := range ts {
				// Inverse of the logistic CDF 1/(1+e^{-K(t-mid)}).
				u := (float64(j) + rng.Float64()) / float64(len(ts))
				ts[j] = mid + math.Log(u/(1-u))/cfg.Growth
			}
			infected[i] = ts // increasing in j by construction
		}
	}
	hours := cfg.Duration.Hours()
	// active returns the share of hosts infected at hour h, and area the
	// integral of it from h to the end of the log, in hours.
	active := func(h float64) float64 { return 1 / (1 + math.Exp(-cfg.Growth*(h-mid))) }
	softplus := func(x float64) float64 {
		if x > 30 {
			return x
		}
		return math.Log1p(math.Exp(x))
	}
	area := func(h float64) float64 {
		return (softplus(cfg.Growth*(hours-mid)) - softplus(cfg.Growth*(h-mid))) / cfg.Growth
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	c := Counts{Format: cfg.Format, Requests: cfg.Lines, Junk: cfg.Junk, Long: cfg.Long, Signatures: map[string]SigCount{}}
	seen := map[string]map[uint32]bool{}
	g := &gen{cfg: cfg, w: bw, rng: rng}
	g.header()
	extras := cfg.Junk + cfg.Long
	total := cfg.Lines + extras
	probesLeft, linesLeft := totalProbes, cfg.Lines
	junkLeft, longLeft := cfg.Junk, cfg.Long
	for i := 0; i < total; i++ {
		var t time.Time
		if total > 1 {
			// In float64: Duration*i overflows int64 nanoseconds for a day
			// of millions of lines; a float's 53 bits keep well under a
			// second of error, and the time is cut to seconds anyway.
			t = cfg.Start.Add(time.Duration(float64(cfg.Duration) * float64(i) / float64(total-1)))
		} else {
			t = cfg.Start
		}
		t = t.Truncate(time.Second)
		if i == total/2 {
			g.midpoint(t)
		}
		// Extra lines are interleaved the same way as probes.
		if extrasLeft := junkLeft + longLeft; extrasLeft > 0 && rng.IntN(total-i) < extrasLeft {
			if rng.IntN(extrasLeft) < junkLeft {
				junkLeft--
				g.junk()
			} else {
				longLeft--
				g.long(t)
			}
			continue
		}
		ev := event{kind: -1}
		isProbe := rng.IntN(linesLeft) < probesLeft
		h := t.Sub(cfg.Start).Hours()
		if cfg.Growth > 0 && probesLeft > 0 {
			// Weighted selection sampling: this line is a probe with
			// probability left * w(t) / (sum of w over the lines left),
			// the sum taken as the lines left times the mean of w over the
			// time left. The last lines are forced, so counts stay exact.
			p := 1.0
			if probesLeft < linesLeft {
				mean := active(h)
				if span := hours - h; span > 1e-9 {
					mean = area(h) / span
				}
				p = float64(probesLeft) * active(h) / (float64(linesLeft) * mean)
			}
			isProbe = rng.Float64() < p
		}
		if isProbe {
			k := rng.IntN(probesLeft)
			for j := range remaining {
				if k < remaining[j] {
					ev.kind = j
					break
				}
				k -= remaining[j]
			}
			remaining[ev.kind]--
			probesLeft--
			n := len(pools[ev.kind])
			if cfg.Growth > 0 {
				// Only hosts infected by now probe; before the first
				// infection, the first host.
				n = max(1, sort.SearchFloat64s(infected[ev.kind], h))
				if n > len(pools[ev.kind]) {
					n = len(pools[ev.kind])
				}
			}
			ev.src = pools[ev.kind][rng.IntN(n)]
			ev.target = g.probeTarget(Kinds[ev.kind])
			name := Expected(Kinds[ev.kind], cfg.Format, t)
			sc := c.Signatures[name]
			if seen[name] == nil {
				seen[name] = map[uint32]bool{}
			}
			if !seen[name][ev.src] {
				seen[name][ev.src] = true
				sc.Sources++
			}
			ts := t.UTC().Format(time.RFC3339)
			if sc.Probes == 0 {
				sc.First = ts
			}
			sc.Last = ts
			sc.Probes++
			c.Signatures[name] = sc
		} else {
			// Legitimate clients live in 192.0.2.0/24-like space spread
			// over 172.16/12, away from the worms' pools.
			ev.src = 0xac100000 | uint32(rng.IntN(1<<20))
			ev.target = legitTargets[rng.IntN(len(legitTargets))]
		}
		linesLeft--
		g.request(t, ev)
	}
	c.Lines = g.lines
	return c, bw.Flush()
}

type gen struct {
	cfg     Config
	w       *bufio.Writer
	rng     *rand.Rand
	lines   int
	buf     []byte
	midSeen bool   // the IIS columns have changed
	day     string // the date of the last #Date directive
}

func (g *gen) emit(b []byte) {
	g.w.Write(b)
	g.w.WriteByte('\n')
	g.lines++
}

func (g *gen) header() {
	switch g.cfg.Format {
	case IIS:
		g.emit([]byte("#Software: Microsoft Internet Information Services 5.0"))
		g.emit([]byte("#Version: 1.0"))
		g.emit([]byte("#Date: " + g.cfg.Start.UTC().Format("2006-01-02 15:04:05")))
		g.emit([]byte("#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent)"))
	case IISStripped:
		g.emit([]byte("#Software: Microsoft Internet Information Services 5.0"))
		g.emit([]byte("#Version: 1.0"))
		g.emit([]byte("#Fields: date time c-ip cs-method cs-uri-stem sc-status"))
	}
}

// midpoint is where an IIS log restarts with other columns, as IIS does when
// its logging settings change.
func (g *gen) midpoint(t time.Time) {
	if g.cfg.Format == IIS {
		g.midSeen = true
		g.emit([]byte("#Software: Microsoft Internet Information Services 5.0"))
		g.emit([]byte("#Version: 1.0"))
		g.emit([]byte("#Date: " + t.UTC().Format("2006-01-02 15:04:05")))
		g.day = t.UTC().Format("2006-01-02")
		g.emit([]byte("#Fields: time cs-method cs-uri-stem cs-uri-query c-ip sc-status"))
	}
}

func (g *gen) probeTarget(kind string) string {
	switch kind {
	case "codered1":
		return "/default.ida?" + strings.Repeat("N", 224) + crShell
	case "codered2":
		return "/default.ida?" + strings.Repeat("X", 224) + crShell
	case "codered-unknown":
		// A variant with other padding.
		return "/default.ida?" + strings.Repeat("A", 224) + crShell
	case "nimda-root-exe":
		return nimda[g.rng.IntN(2)]
	default:
		return nimda[2+g.rng.IntN(len(nimda)-2)]
	}
}

func v4(a uint32) string {
	return strconv.Itoa(int(a>>24)) + "." + strconv.Itoa(int(a>>16&255)) + "." + strconv.Itoa(int(a>>8&255)) + "." + strconv.Itoa(int(a&255))
}

func (g *gen) clfTime(t time.Time) string {
	z := time.FixedZone("", g.cfg.Zone*60)
	lt := t.In(z)
	return fmt.Sprintf("%02d/%s/%04d:%02d:%02d:%02d %s", lt.Day(), months[lt.Month()-1], lt.Year(), lt.Hour(), lt.Minute(), lt.Second(), lt.Format("-0700"))
}

func (g *gen) request(t time.Time, ev event) {
	status, size := 200, 1000+g.rng.IntN(20000)
	if ev.kind >= 0 {
		status, size = 404, 205
	}
	agent := agents[g.rng.IntN(len(agents))]
	if ev.kind >= 0 {
		agent = "-"
	}
	path, query, _ := strings.Cut(ev.target, "?")
	b := g.buf[:0]
	switch g.cfg.Format {
	case Combined, Common:
		b = fmt.Appendf(b, "%s - - [%s] \"GET %s HTTP/1.%d\" %d %d", v4(ev.src), g.clfTime(t), ev.target, g.rng.IntN(2), status, size)
		if g.cfg.Format == Combined {
			b = fmt.Appendf(b, " \"-\" \"%s\"", agent)
		}
	case IIS:
		q := query
		if q == "" {
			q = "-"
		}
		ua := strings.ReplaceAll(agent, " ", "+")
		if !g.midSeen {
			b = fmt.Appendf(b, "%s %s - 192.0.2.80 80 GET %s %s %d %s", t.UTC().Format("2006-01-02 15:04:05"), v4(ev.src), path, q, status, ua)
		} else {
			// This layout has no date column: a new #Date dates the lines
			// after midnight.
			if day := t.UTC().Format("2006-01-02"); day != g.day {
				g.day = day
				g.emit([]byte("#Date: " + day + " 00:00:00"))
			}
			b = fmt.Appendf(b, "%s GET %s %s %s %d", t.UTC().Format("15:04:05"), path, q, v4(ev.src), status)
		}
	case IISStripped:
		b = fmt.Appendf(b, "%s %s GET %s %d", t.UTC().Format("2006-01-02 15:04:05"), v4(ev.src), path, status)
	case Fallback:
		b = fmt.Appendf(b, "%s proxy squid[412]: %s TCP_MISS/%d %d \"GET %s HTTP/1.0\" -", t.UTC().Format("2006-01-02T15:04:05Z"), v4(ev.src), status, size, ev.target)
	}
	g.emit(b)
	g.buf = b
}

func (g *gen) junk() {
	n := 1 + g.rng.IntN(200)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.IntN(256))
		if b[i] == '\n' {
			b[i] = 0
		}
	}
	// Start with a control byte so no format can read it as a request.
	b[0] = 0x16
	g.emit(b)
}

// long writes a legitimate request made over-long by a query of LongLen
// bytes.
func (g *gen) long(t time.Time) {
	pad := strings.Repeat("a", g.cfg.LongLen)
	g.request(t, event{kind: -1, src: 0xac1f0001, target: "/search?q=" + pad})
}
