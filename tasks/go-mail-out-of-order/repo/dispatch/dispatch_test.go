package dispatch

import (
	"errors"
	"fmt"
	"testing"
)

type outbox struct{ lines []string }

func (o *outbox) send(to, kind string) error {
	if to == "bounce@example.com" {
		return errors.New("mailbox full")
	}
	o.lines = append(o.lines, to+" "+kind)
	return nil
}

func TestUrgentMailGoesFirst(t *testing.T) {
	var box outbox
	d := New(box.send)
	d.Enqueue("ann@example.com", "newsletter", Normal)
	d.Enqueue("bob@example.com", "password-reset", Urgent)
	d.Flush()
	if box.lines[0] != "bob@example.com password-reset" {
		t.Fatalf("got %v", box.lines)
	}
}

func TestFailedDeliveriesAreReported(t *testing.T) {
	var box outbox
	d := New(box.send)
	ok := d.Enqueue("ann@example.com", "receipt", Normal)
	bad := d.Enqueue("bounce@example.com", "receipt", Normal)
	sent, failed := d.Flush()
	if fmt.Sprint(sent) != fmt.Sprint([]string{ok}) || fmt.Sprint(failed) != fmt.Sprint([]string{bad}) {
		t.Fatalf("sent %v failed %v", sent, failed)
	}
}

func TestOrderEmailsArriveInSequence(t *testing.T) {
	var box outbox
	d := New(box.send)
	customers := []string{"ann", "bob", "cem", "dia"}
	for _, kind := range []string{"order-confirmed", "payment-received", "order-shipped"} {
		for _, c := range customers {
			d.Enqueue(c+"@example.com", kind, Normal)
		}
	}
	d.Flush()
	seen := map[string][]string{}
	for _, line := range box.lines {
		var to, kind string
		fmt.Sscan(line, &to, &kind)
		seen[to] = append(seen[to], kind)
	}
	for _, c := range customers {
		if got := fmt.Sprint(seen[c+"@example.com"]); got != "[order-confirmed payment-received order-shipped]" {
			t.Errorf("%s got %s", c, got)
		}
	}
}
