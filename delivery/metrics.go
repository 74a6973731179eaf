package delivery

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the delivery figures on /metrics. The queue figures are read
// from the database by every replica, so each shows the same global value:
// aggregate them with max(), not sum().
type Metrics struct {
	depth     *prometheus.GaugeVec
	sends     *prometheus.CounterVec
	failures  *prometheus.CounterVec
	oldest    prometheus.Gauge
	unknown   prometheus.Gauge
	quotaUsed prometheus.Gauge
	overQuota prometheus.Counter
}

// NewMetrics registers the delivery metrics on reg (nil: not registered,
// for tests that do not look).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "unionbot_delivery_queue_depth", Help: "Outbox messages waiting or being sent, by kind.",
		}, []string{"kind"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unionbot_delivery_sends_total", Help: "Messages delivered by this process, by channel (unread: kept for the member).",
		}, []string{"channel"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unionbot_delivery_failures_total", Help: "Failed send attempts by WeChat errcode (network: no answer).",
		}, []string{"errcode"}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "unionbot_delivery_oldest_pending_seconds", Help: "How long the oldest due outbox message has waited.",
		}),
		unknown: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "unionbot_delivery_unknown", Help: "Mass batches whose send was in flight when their worker died.",
		}),
		quotaUsed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "unionbot_delivery_mass_quota_used", Help: "Mass messages counted against followers' monthly quota this month (Asia/Shanghai).",
		}),
		overQuota: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "unionbot_delivery_mass_over_quota_total", Help: "Followers left out of a mass batch because they had their 4 this month.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.depth, m.sends, m.failures, m.oldest, m.unknown, m.quotaUsed, m.overQuota)
	}
	return m
}

func (m *Metrics) sent(c Channel) {
	if m != nil {
		m.sends.WithLabelValues(string(c)).Inc()
	}
}

func (m *Metrics) failed(code int) {
	if m == nil {
		return
	}
	label := "network"
	if code != 0 {
		label = strconv.Itoa(code)
	}
	m.failures.WithLabelValues(label).Inc()
}
