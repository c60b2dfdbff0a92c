package queue

import (
	"fmt"
	"sync"
	"testing"
)

func drain(q *Queue) []string {
	var ids []string
	for {
		job, ok := q.Pop()
		if !ok {
			return ids
		}
		ids = append(ids, job.ID)
	}
}

func TestEmptyPop(t *testing.T) {
	var q Queue
	if _, ok := q.Pop(); ok || q.Len() != 0 {
		t.Fatal("empty queue returned a job")
	}
}

func TestHigherPriorityFirst(t *testing.T) {
	var q Queue
	q.Push(Job{ID: "low", Priority: 1})
	q.Push(Job{ID: "high", Priority: 9})
	q.Push(Job{ID: "mid", Priority: 5})
	if got := fmt.Sprint(drain(&q)); got != "[high mid low]" {
		t.Fatalf("got %s", got)
	}
}

func TestSamePriorityFirstInFirstOut(t *testing.T) {
	var q Queue
	var want []string
	for i := 0; i < 8; i++ {
		id := fmt.Sprintf("job%d", i)
		q.Push(Job{ID: id, Priority: 5})
		want = append(want, id)
	}
	if got := drain(&q); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestConcurrentPush(t *testing.T) {
	var q Queue
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			q.Push(Job{ID: fmt.Sprint(i), Priority: i % 3})
		}(i)
	}
	wg.Wait()
	if q.Len() != 50 {
		t.Fatalf("len %d", q.Len())
	}
}
