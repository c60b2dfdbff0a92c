// Package queue is a priority queue of jobs, safe for concurrent use: higher priority first.
package queue

import (
	"container/heap"
	"sync"
)

// Job is one unit of work.
type Job struct {
	ID       string
	Priority int
	Payload  string
}

type jobHeap []Job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].Priority > h[j].Priority }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

func (h *jobHeap) Push(x interface{}) { *h = append(*h, x.(Job)) }

func (h *jobHeap) Pop() interface{} {
	old := *h
	n := len(old)
	job := old[n-1]
	*h = old[:n-1]
	return job
}

// Queue holds jobs until they are popped.
type Queue struct {
	mu   sync.Mutex
	jobs jobHeap
}

// Push adds a job.
func (q *Queue) Push(job Job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	heap.Push(&q.jobs, job)
}

// Pop removes and returns the next job; ok is false when the queue is empty.
func (q *Queue) Pop() (job Job, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) == 0 {
		return Job{}, false
	}
	return heap.Pop(&q.jobs).(Job), true
}

// Len is the number of waiting jobs.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.jobs)
}
