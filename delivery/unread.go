package delivery

import (
	"context"

	"unionbot/storage"
)

// UnreadStore is what Unread reads; *storage.DB implements it.
type UnreadStore interface {
	UnreadNotices(ctx context.Context, openID string, memberID int64, limit int) ([]storage.OutboxRow, int, error)
}

// unreadShown is how many unread messages the notice quotes.
const unreadShown = 3

// Unread returns the notice to put at the top of openID's next conversation
// ("您有2条新通知：…"; "" when nothing is unread) and the ids of the messages
// it quotes. The caller marks them read (storage MarkNoticesRead) once the
// reply carrying the notice is out; the rest stay unread for next time.
func Unread(ctx context.Context, s UnreadStore, openID string, memberID int64) (string, []int64, error) {
	rows, total, err := s.UnreadNotices(ctx, openID, memberID, unreadShown)
	if err != nil || total == 0 {
		return "", nil, err
	}
	lines := make([]string, 0, len(rows))
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		line := r.Content.Unread
		if line == "" {
			line = r.Content.Text
		}
		if line == "" {
			line = r.Content.Fields["title"]
		}
		lines = append(lines, line)
		ids = append(ids, r.ID)
	}
	return UnreadNotice(lines, total), ids, nil
}
