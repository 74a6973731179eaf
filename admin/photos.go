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

// servePhotoOf serves the photo that the URL's {id} names in a record the officer may read:
// media returns the stored medium of that id, or an error (the record's own: not found, not
// allowed) when the record has none such.
func (s *Server) servePhotoOf(w http.ResponseWriter, r *http.Request, media func(id int64) (int64, error)) {
	id, err := pathID(r)
	if err == nil {
		id, err = media(id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.servePhoto(w, r, id)
}

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
