package faq

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed seed.json
var seedJSON []byte

// seedEntry is the JSON shape of one entry in seed.json.
type seedEntry struct {
	ID         int64    `json:"id"`
	Question   string   `json:"question"`
	Alternates []string `json:"alternates"`
	Answer     string   `json:"answer"`
	Category   string   `json:"category"`
}

// Seed returns the default knowledge base (Simplified Chinese, written for a
// county federation of trade unions, 县总工会) that storage loads into an
// empty FAQ table on first start. IDs run 1..N and never change meaning, so
// members can type an entry's number as a shortcut.
func Seed() ([]Entry, error) {
	var raw []seedEntry
	if err := json.Unmarshal(seedJSON, &raw); err != nil {
		return nil, fmt.Errorf("parse faq seed: %w", err)
	}
	out := make([]Entry, 0, len(raw))
	for i, r := range raw {
		if r.ID != int64(i+1) {
			return nil, fmt.Errorf("faq seed: entry %d has id %d, want %d", i, r.ID, i+1)
		}
		if r.Question == "" || r.Answer == "" {
			return nil, fmt.Errorf("faq seed: entry %d has an empty question or answer", r.ID)
		}
		out = append(out, Entry{ID: r.ID, Question: r.Question, Alternates: r.Alternates, Answer: r.Answer, Category: r.Category})
	}
	return out, nil
}
