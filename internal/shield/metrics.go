package shield

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wormlab/wormlab/internal/signature"
)

// metrics are the shield's Prometheus series. Labels stay low-cardinality:
// signature names come from the loaded set and actions from a fixed list;
// no label ever carries a source address or a path.
type metrics struct {
	probes         *prometheus.CounterVec
	passed         prometheus.Counter
	bannedRequests prometheus.Counter
	sourcesBanned  prometheus.Counter
	tarpitOverflow prometheus.Counter
	tarpitHeld     prometheus.Gauge

	// bySig caches each signature's counters, so a probe costs one
	// lock-free map load instead of hashing label values.
	bySig sync.Map // *signature.Signature -> *sigCounters
}

func newMetrics() *metrics {
	return &metrics{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "probes_total",
			Help: "Worm probes recognised, by signature and the action taken.",
		}, []string{"signature", "action"}),
		passed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "requests_passed_total",
			Help: "Requests passed to the next handler (log-only probes included).",
		}),
		bannedRequests: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "banned_requests_total",
			Help: "Requests dropped because their source was banned, probes or not.",
		}),
		sourcesBanned: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "sources_banned_total",
			Help: "Bans imposed on sources that sent too many probes.",
		}),
		tarpitOverflow: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "tarpit_overflow_total",
			Help: "Probes dropped instead of tarpitted because the tarpit was full.",
		}),
		tarpitHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "wormlab", Subsystem: "shield", Name: "tarpit_connections",
			Help: "Connections held in the tarpit now.",
		}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.probes, m.passed, m.bannedRequests, m.sourcesBanned, m.tarpitOverflow, m.tarpitHeld}
}

// sigCounters holds one signature's counters, created on first use so the
// exposition shows only the (signature, action) pairs that happened.
type sigCounters [numActions]atomic.Pointer[prometheus.Counter]

func (m *metrics) probe(sig *signature.Signature, a Action) {
	v, ok := m.bySig.Load(sig)
	if !ok {
		v, _ = m.bySig.LoadOrStore(sig, new(sigCounters))
	}
	slot := &v.(*sigCounters)[a]
	c := slot.Load()
	if c == nil {
		// Racing first uses may both get here; WithLabelValues returns the
		// same child, so either store is right.
		nc := m.probes.WithLabelValues(sig.Name, a.String())
		slot.Store(&nc)
		c = &nc
	}
	(*c).Inc()
}
