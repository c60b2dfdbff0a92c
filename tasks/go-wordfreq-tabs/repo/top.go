package wordfreq

import "sort"

// WordCount is one entry of a frequency table.
type WordCount struct {
	Word  string
	Count int
}

// Top returns the n most frequent words, most frequent first; ties are broken alphabetically.
func Top(counts map[string]int, n int) []WordCount {
	all := make([]WordCount, 0, len(counts))
	for w, c := range counts {
		all = append(all, WordCount{w, c})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].Word < all[j].Word
	})
	if n < len(all) {
		all = all[:n]
	}
	return all
}
