package roster

// Import jobs: the console's 确认导入 runs the importer here, on whichever replica claims the
// job, with the file read from the database (storage.RosterImport). Each batch commits with
// the job's progress under the worker's lease (Journal); a heartbeat renews the lease while
// the worker reads; a worker that dies leaves the lease to run out and Loop, on any replica,
// resumes the job after its last committed batch.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"unionbot/storage"
)

// DefaultJobLease is how long a worker holds an import between renewals (every third of it).
const DefaultJobLease = time.Minute

// Jobs runs roster import jobs. It is safe for concurrent use; every replica has one.
type Jobs struct {
	DB        *storage.DB
	Owner     string        // this worker's name in leases; NewJobs makes one unique to the process
	Lease     time.Duration // DefaultJobLease when zero
	BatchSize int           // rows per committed batch; the importer's default when zero
	Logger    *slog.Logger
	Now       func() time.Time // the importer's clock (dates not in the future)

	base atomic.Pointer[context.Context] // the worker's lifetime, set by Loop
}

// NewJobs returns a worker for db named after the host and process.
func NewJobs(db *storage.DB, logger *slog.Logger) *Jobs {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	if logger == nil {
		logger = slog.Default()
	}
	return &Jobs{DB: db, Owner: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:])), Logger: logger}
}

func (j *Jobs) lease() time.Duration {
	if j.Lease > 0 {
		return j.Lease
	}
	return DefaultJobLease
}

// Start runs import id in the background, within the worker's lifetime (Loop's context),
// so that a confirmed import starts at once on the replica that took the request.
func (j *Jobs) Start(id int64) {
	ctx := context.Background()
	if p := j.base.Load(); p != nil {
		ctx = *p
	}
	go func() {
		if err := j.Run(ctx, id); err != nil && ctx.Err() == nil {
			j.Logger.WarnContext(ctx, "roster import", "import", id, "err", err)
		}
	}()
}

// Loop looks for imports to run (queued ones, and those whose worker's lease ran out) every
// every, until ctx ends, and drops unconfirmed uploads past their hour. Jobs started with
// Start run within ctx from then on.
func (j *Jobs) Loop(ctx context.Context, every time.Duration) {
	j.base.Store(&ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := j.Sweep(ctx); err != nil && ctx.Err() == nil {
			j.Logger.WarnContext(ctx, "roster import sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep runs, one after the other, the imports waiting for a worker, and purges expired
// unconfirmed uploads.
func (j *Jobs) Sweep(ctx context.Context) error {
	if _, err := j.DB.PurgeRosterImports(ctx); err != nil {
		return err
	}
	ids, err := j.DB.RosterImportsToRun(ctx, 10)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := j.Run(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run claims import id and applies it, resuming after its last committed batch. It returns
// nil at once when another worker holds the import. A file the importer refuses, or an
// import claimed more than storage.MaxImportAttempts times, is marked failed with the reason
// for officers; any other error (the database went away, ctx ended) leaves the lease to run
// out so that a later Sweep resumes it.
func (j *Jobs) Run(ctx context.Context, id int64) error {
	imp, err := j.DB.ClaimRosterImport(ctx, id, j.Owner, j.lease())
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	if imp.Attempts > storage.MaxImportAttempts {
		return j.DB.FailRosterImport(ctx, id, j.Owner, fmt.Sprintf(
			"导入已中断 %d 次，系统已停止重试。已处理 %d 行，其余未导入；请稍后重新上传同一文件（按会员编号更新，已导入的行不会重复）。",
			imp.Attempts-1, imp.RowsDone))
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go j.heartbeat(ctx, cancel, id)

	data, err := j.DB.RosterImportData(ctx, id)
	if err != nil {
		return err
	}
	im := &Importer{Opts: Options{
		BatchSize: j.BatchSize, Now: j.Now,
		Journal: journal{db: j.DB, id: id, owner: j.Owner, lease: j.lease()},
		Resume: storage.ImportProgress{LastRow: imp.LastRow, Rows: imp.RowsDone, Inserted: imp.Inserted, Updated: imp.Updated,
			Unchanged: imp.Unchanged, Rejected: imp.Rejected, ErrorsOmitted: imp.ErrorsOmitted},
		ErrorsKept: imp.ErrorsKept,
	}}
	_, err = im.Import(ctx, bytes.NewReader(data), imp.Format)
	var fe *FileError
	switch {
	case err == nil:
		return j.DB.FinishRosterImport(ctx, id, j.Owner)
	case errors.As(err, &fe):
		return j.DB.FailRosterImport(ctx, id, j.Owner, fe.Reason+"（未导入任何数据）")
	default: // a lost lease shows as its cause
		return fmt.Errorf("roster import %d: %w", id, errors.Join(err, context.Cause(ctx)))
	}
}

// heartbeat renews the lease every third of it; a lost lease stops the import.
func (j *Jobs) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, id int64) {
	t := time.NewTicker(j.lease() / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := j.DB.RenewRosterImportLease(ctx, id, j.Owner, j.lease())
		if errors.Is(err, storage.ErrLeaseLost) {
			cancel(err)
			return
		}
		if err != nil && ctx.Err() == nil {
			j.Logger.WarnContext(ctx, "renew roster import lease", "import", id, "err", err)
		}
	}
}

// journal commits an import's batches under its worker's lease.
type journal struct {
	db    *storage.DB
	id    int64
	owner string
	lease time.Duration
}

func (jn journal) ApplyBatch(ctx context.Context, recs []storage.MemberRecord, progress func([]storage.UpsertOutcome) storage.ImportProgress) ([]storage.UpsertOutcome, error) {
	return jn.db.ApplyRosterBatch(ctx, jn.id, jn.owner, jn.lease, recs, progress)
}
