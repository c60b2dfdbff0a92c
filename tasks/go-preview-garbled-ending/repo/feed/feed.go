// Package feed turns articles into notification and preview texts.
package feed

import (
	"sort"
	"time"

	"example.com/newsfeed/text"
)

// Article is one story from the CMS.
type Article struct {
	Title     string
	Body      string
	Published time.Time
}

// Notification is what the mobile app shows in a push message.
type Notification struct {
	Title   string
	Preview string
}

// Notify builds the push notification for a: a title of at most 40 characters and a preview of at most 90.
func Notify(a Article) Notification {
	return Notification{Title: text.Truncate(a.Title, 40), Preview: text.Excerpt(a.Body, 90)}
}

// Latest returns the n most recently published articles, newest first.
func Latest(articles []Article, n int) []Article {
	sorted := append([]Article(nil), articles...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Published.After(sorted[j].Published) })
	if n < len(sorted) {
		sorted = sorted[:n]
	}
	return sorted
}
