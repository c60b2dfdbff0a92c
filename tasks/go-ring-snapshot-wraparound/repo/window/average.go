// Package window computes statistics over the last N samples.
package window

import "example.com/metrics/ring"

// MovingAverage is the mean of the most recent samples.
type MovingAverage struct {
	buf *ring.Buffer
}

// NewMovingAverage averages over the last size samples.
func NewMovingAverage(size int) *MovingAverage {
	return &MovingAverage{buf: ring.New(size)}
}

// Add records a sample.
func (m *MovingAverage) Add(v float64) { m.buf.Push(v) }

// Value is the current average (0 before any sample).
func (m *MovingAverage) Value() float64 {
	values := m.buf.Snapshot()
	if len(values) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}
