package storage

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// InTxForTest runs fn in a storage transaction, as a capability's own storage
// method would around Enqueue.
func (db *DB) InTxForTest(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return db.inTx(ctx, fn)
}
