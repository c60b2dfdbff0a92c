// Package ring implements a fixed-size circular buffer of float64 samples.
package ring

// Buffer keeps the most recent Cap() values; older ones are overwritten.
type Buffer struct {
	data  []float64
	start int // index of the oldest value
	size  int
}

// New returns an empty buffer that holds up to capacity values.
func New(capacity int) *Buffer {
	if capacity < 1 {
		panic("ring: capacity must be at least 1")
	}
	return &Buffer{data: make([]float64, capacity)}
}

// Push adds v, overwriting the oldest value when the buffer is full.
func (b *Buffer) Push(v float64) {
	if b.size < len(b.data) {
		b.data[(b.start+b.size)%len(b.data)] = v
		b.size++
		return
	}
	b.data[b.start] = v
	b.start = (b.start + 1) % len(b.data)
}

// Len is the number of values held.
func (b *Buffer) Len() int { return b.size }

// Cap is the most values the buffer can hold.
func (b *Buffer) Cap() int { return len(b.data) }

// Snapshot returns the values held, oldest first.
func (b *Buffer) Snapshot() []float64 {
	out := make([]float64, b.size)
	copy(out, b.data[b.start:])
	return out
}
