package storage

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxCachedStmts bounds the statement cache: the queries of this package are
// constants, so the bound only matters for the few built at run time (IN
// lists of varying length), which beyond it simply run unprepared.
const maxCachedStmts = 1024

// pool is a connection pool of the DB. On SQLite it keeps the statements it
// runs prepared: the embedded engine parses SQL in process, and parsing every
// query again was a sixth of the CPU of a message on the embedded backend.
// database/sql prepares a cached statement once per connection, lazily, and
// drops it with the connection. On MySQL the cache is off: the driver
// interpolates arguments client-side, one round trip a query, which a
// server-side statement would not beat.
//
// Only the query methods the package uses are overridden; everything else
// (transactions, Conn, Ping) is the embedded *sqlx.DB's.
type pool struct {
	*sqlx.DB
	cache bool

	mu    sync.RWMutex
	stmts map[string]*sqlx.Stmt
}

func newPool(x *sqlx.DB, cache bool) *pool {
	return &pool{DB: x, cache: cache, stmts: make(map[string]*sqlx.Stmt)}
}

// stmt returns the prepared statement for query, preparing it on first use;
// nil when query should run unprepared (cache off or full, a preparation
// failure — the plain call then reports the error — or several statements
// in one string, which a prepared statement would cut to the first).
func (p *pool) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if !p.cache {
		return nil
	}
	p.mu.RLock()
	s, ok := p.stmts[query]
	n := len(p.stmts)
	p.mu.RUnlock()
	if ok {
		return s
	}
	if n >= maxCachedStmts || strings.Contains(strings.TrimRight(query, "; \t\n"), ";") {
		return nil
	}
	s, err := p.DB.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, ok := p.stmts[query]; ok {
		s.Close() // prepared twice at once: keep the first
		return cur
	}
	if len(p.stmts) >= maxCachedStmts {
		s.Close()
		return nil
	}
	p.stmts[query] = s
	return s
}

// Close closes the cached statements and the pool.
func (p *pool) Close() error {
	p.mu.Lock()
	for q, s := range p.stmts {
		s.Close()
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	return p.DB.Close()
}

func (p *pool) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryRowxContext(ctx, args...)
	}
	return p.DB.QueryRowxContext(ctx, query, args...)
}

func (p *pool) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryxContext(ctx, args...)
	}
	return p.DB.QueryxContext(ctx, query, args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, query, args...)
}

// GetContext and SelectContext go through the methods above (sqlx's own
// would call the embedded pool's).
func (p *pool) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, p, dest, query, args...)
}

func (p *pool) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, p, dest, query, args...)
}
