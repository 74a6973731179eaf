package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"unionbot/storage"
	"unionbot/storage/storagetest"
)

func backupRec(i int) storage.MemberRecord {
	return storage.MemberRecord{
		MemberNo:       fmt.Sprintf("B%06d", i),
		Name:           fmt.Sprintf("备份%04d", i),
		IDNumber:       fmt.Sprintf("110101198801%06d", i),
		Phone:          fmt.Sprintf("139%08d", i),
		UnitName:       fmt.Sprintf("第%d基层工会", i%3),
		JoinedOn:       time.Date(2021, time.May, 1+i%28, 0, 0, 0, 0, time.UTC),
		Status:         storage.StatusActive,
		MutualAidYears: []int{2025, 2026},
	}
}

func openEmbedded(t *testing.T, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(t.Context(), storage.Options{DataDir: dir, Cipher: storagetest.TestCipher(t)})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestBackupUnderLoad takes a backup while writers commit batches of members,
// restores it into a fresh data directory and opens it: the schema is
// current, the members stored before the backup read back the same, and the
// concurrent batches are there whole or not at all (issue 6 §1.12).
func TestBackupUnderLoad(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := openEmbedded(t, dir)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const seeded, batch = 300, 7
	var recs []storage.MemberRecord
	for i := range seeded {
		recs = append(recs, backupRec(i))
	}
	if _, err := db.UpsertMembers(ctx, recs); err != nil {
		t.Fatal(err)
	}

	// Writers: each commits batches of `batch` new members in one transaction.
	wctx, stop := context.WithCancel(ctx)
	var next atomic.Int64
	next.Store(seeded)
	var wg sync.WaitGroup
	var written atomic.Int64
	errc := make(chan error, 4)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wctx.Err() == nil {
				first := int(next.Add(batch)) - batch
				var b []storage.MemberRecord
				for i := first; i < first+batch; i++ {
					b = append(b, backupRec(i))
				}
				if _, err := db.UpsertMembers(context.WithoutCancel(wctx), b); err != nil {
					errc <- err
					return
				}
				written.Add(1)
			}
		}()
	}
	for written.Load() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	dest := filepath.Join(t.TempDir(), "unionbot-backup.db")
	size, err := storage.BackupEmbedded(ctx, dir, dest)
	for written.Load() < 10 { // writes keep going after the snapshot too
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("concurrent writer: %v", err)
	}
	if err != nil {
		t.Fatalf("BackupEmbedded: %v", err)
	}
	if st, err := os.Stat(dest); err != nil || st.Size() != size || st.Mode().Perm() != 0o600 {
		t.Fatalf("copy: %v %v, size %d", st, err, size)
	}
	total, err := db.CountMembers(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Restore: the copy goes into a new data directory under the file name.
	restoredDir := t.TempDir()
	b, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restoredDir, storage.EmbeddedFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := openEmbedded(t, restoredDir)
	if applied, err := restored.Migrate(ctx); err != nil || len(applied) != 0 {
		t.Fatalf("Migrate on the restored copy: applied %v, %v; want nothing to do", applied, err)
	}
	n, err := restored.CountMembers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < seeded+5*batch || n >= total || (n-seeded)%batch != 0 {
		t.Errorf("restored copy has %d members; want the %d seeded plus whole batches of %d, fewer than the %d at the end",
			n, seeded, batch, total)
	}
	for _, i := range []int{0, 1, seeded / 2, seeded - 1} {
		r := backupRec(i)
		want, err := db.MemberByNo(ctx, r.MemberNo)
		if err != nil {
			t.Fatal(err)
		}
		got, err := restored.MemberByNo(ctx, r.MemberNo)
		if err != nil {
			t.Fatalf("restored MemberByNo(%s): %v", r.MemberNo, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("member %s: restored %+v, want %+v", r.MemberNo, got, want)
		}
		byID, err := restored.MemberByIDNumber(ctx, r.IDNumber)
		if err != nil || byID.MemberNo != r.MemberNo || byID.Name != r.Name {
			t.Errorf("restored MemberByIDNumber(%s): %+v, %v", r.MemberNo, byID, err)
		}
	}
	// The restored database takes writes.
	if _, err := restored.UpsertMembers(ctx, []storage.MemberRecord{backupRec(999999)}); err != nil {
		t.Errorf("write to the restored copy: %v", err)
	}
}

func TestBackupRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	db := openEmbedded(t, dir)
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"precious", ""} {
		dest := filepath.Join(t.TempDir(), "existing.db")
		if err := os.WriteFile(dest, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := storage.BackupEmbedded(t.Context(), dir, dest); !errors.Is(err, fs.ErrExist) {
			t.Errorf("backup over an existing file (%q): %v, want fs.ErrExist", content, err)
		}
		if b, _ := os.ReadFile(dest); string(b) != content {
			t.Errorf("existing file changed to %d bytes", len(b))
		}
	}
	// Nor onto the database itself.
	if _, err := storage.BackupEmbedded(t.Context(), dir, filepath.Join(dir, storage.EmbeddedFile)); !errors.Is(err, fs.ErrExist) {
		t.Errorf("backup onto the database itself: %v", err)
	}
}

func TestBackupWithoutDatabase(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(t.TempDir(), "b.db")
	if _, err := storage.BackupEmbedded(t.Context(), dir, dest); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("backup of an empty data dir: %v, want fs.ErrNotExist", err)
	}
	for _, p := range []string{filepath.Join(dir, storage.EmbeddedFile), dest} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
}
