// Package dispatch sends customer emails through a priority queue.
package dispatch

import (
	"fmt"

	"example.com/mailq/queue"
)

// Priorities of the kinds of email we send.
const (
	Normal = 5
	Urgent = 9
)

// Sender delivers one email; it returns an error when delivery failed.
type Sender func(to, kind string) error

// Dispatcher queues emails and sends them in priority order.
type Dispatcher struct {
	q    queue.Queue
	send Sender
	next int
}

// New returns a Dispatcher that delivers through send.
func New(send Sender) *Dispatcher { return &Dispatcher{send: send} }

// Enqueue schedules an email of the given kind to a customer.
func (d *Dispatcher) Enqueue(to, kind string, priority int) string {
	d.next++
	id := fmt.Sprintf("mail-%d", d.next)
	d.q.Push(queue.Job{ID: id, Priority: priority, Payload: to + "\x00" + kind})
	return id
}

// Flush sends everything queued; it returns the ids sent and those that failed.
func (d *Dispatcher) Flush() (sent, failed []string) {
	for {
		job, ok := d.q.Pop()
		if !ok {
			return sent, failed
		}
		to, kind := split(job.Payload)
		if err := d.send(to, kind); err != nil {
			failed = append(failed, job.ID)
			continue
		}
		sent = append(sent, job.ID)
	}
}

func split(payload string) (string, string) {
	for i := 0; i < len(payload); i++ {
		if payload[i] == 0 {
			return payload[:i], payload[i+1:]
		}
	}
	return payload, ""
}
