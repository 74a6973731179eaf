package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"
)

// EmbeddedFile is the embedded database's file name inside the data directory:
// a restored backup goes there under this name.
const EmbeddedFile = embeddedFile

// BackupEmbedded writes a consistent copy of the embedded database in dataDir
// to dest with SQLite's VACUUM INTO, while the bot may be serving and writing:
// the copy is one read transaction's snapshot, compacted, with every committed
// write up to its start (the WAL included) and none after. It refuses an
// existing dest (the error wraps fs.ErrExist) and a data directory without a
// database (fs.ErrNotExist; it never creates one), checks the copy with
// PRAGMA quick_check and returns its size. The copy is readable by its owner
// only; personal data in it stays encrypted with the secret key, which is not
// in the copy.
func BackupEmbedded(ctx context.Context, dataDir, dest string) (int64, error) {
	src, err := filepath.Abs(filepath.Join(dataDir, embeddedFile))
	if err != nil {
		return 0, fmt.Errorf("backup: data dir path: %w", err)
	}
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("backup: no embedded database: %w", err)
	}
	if dest, err = filepath.Abs(dest); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if dest == src {
		return 0, fmt.Errorf("backup: %s is the database itself: %w", dest, fs.ErrExist)
	}
	if _, err := os.Lstat(dest); err == nil {
		return 0, fmt.Errorf("backup: %s: %w", dest, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("backup: %w", err)
	}

	// An ordinary connection beside the bot's, as WAL allows; VACUUM INTO
	// only reads from it. busy_timeout covers a checkpoint in progress.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	x, err := sqlx.Open("sqlite", (&url.URL{Scheme: "file", Path: src, RawQuery: q.Encode()}).String())
	if err != nil {
		return 0, fmt.Errorf("backup: open database: %w", err)
	}
	defer x.Close()
	x.SetMaxOpenConns(1)
	if _, err := x.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		if _, statErr := os.Lstat(dest); statErr == nil {
			// Ours: dest did not exist a moment ago. A concurrent backup
			// to the same name would fail the same way; both may go.
			_ = os.Remove(dest)
		}
		return 0, fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	if err := os.Chmod(dest, 0o600); err != nil {
		return 0, fmt.Errorf("backup: restrict the copy: %w", err)
	}
	if err := checkCopy(ctx, dest); err != nil {
		return 0, err
	}
	st, err := os.Stat(dest)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return st.Size(), nil
}

// checkCopy opens the copy read-only and runs PRAGMA quick_check.
func checkCopy(ctx context.Context, path string) error {
	q := url.Values{}
	q.Set("mode", "ro")
	x, err := sqlx.Open("sqlite", (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String())
	if err != nil {
		return fmt.Errorf("backup: open the copy: %w", err)
	}
	defer x.Close()
	var res string
	if err := x.GetContext(ctx, &res, "PRAGMA quick_check"); err != nil {
		return fmt.Errorf("backup: check the copy: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("backup: the copy fails its check: %s", res)
	}
	return nil
}
