package admin

import (
	"bytes"
	"net/http"
	"slices"
	"time"
)

// photoTypes are the image types a stored photo is served as; anything else is offered as a
// download and never rendered.
var photoTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// servePhoto answers stored medium id (a claim's document, a legal-aid case's evidence),
// decrypted, to an officer the caller has authorized for the record it belongs to. It is
// never cached outside the officer's browser session.
func (s *Server) servePhoto(w http.ResponseWriter, r *http.Request, id int64) {
	m, err := s.db.MediaByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The stored type was checked by magic bytes on arrival; check the bytes again before a
	// browser is told to render them.
	ct := http.DetectContentType(m.Data)
	h := w.Header()
	if !slices.Contains(photoTypes, ct) {
		ct = "application/octet-stream"
		h.Set("Content-Disposition", "attachment")
	}
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(m.Data))
}
