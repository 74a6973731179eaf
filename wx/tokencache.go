package wx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"

	"unionbot/storage/kv"
)

// kvCache adapts kv.Store to the SDK's cache.Cache and cache.ContextCache.
// The SDK type-asserts cached values with val.(string), so Get returns string
// (or nil when the key is missing), never []byte.
type kvCache struct {
	store   kv.Store
	timeout time.Duration // for the SDK's context-less calls
}

var _ cache.ContextCache = kvCache{}

func (c kvCache) bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

func (c kvCache) Get(key string) interface{} {
	ctx, cancel := c.bg()
	defer cancel()
	return c.GetContext(ctx, key)
}

func (c kvCache) Set(key string, val interface{}, ttl time.Duration) error {
	ctx, cancel := c.bg()
	defer cancel()
	return c.SetContext(ctx, key, val, ttl)
}

func (c kvCache) IsExist(key string) bool {
	ctx, cancel := c.bg()
	defer cancel()
	return c.IsExistContext(ctx, key)
}

func (c kvCache) Delete(key string) error {
	ctx, cancel := c.bg()
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// GetContext returns the value as a string, or nil (an untyped nil interface)
// when the key is missing or the store fails.
func (c kvCache) GetContext(ctx context.Context, key string) interface{} {
	b, err := c.store.Get(ctx, key)
	if err != nil {
		return nil
	}
	return string(b)
}

func (c kvCache) SetContext(ctx context.Context, key string, val interface{}, ttl time.Duration) error {
	var b []byte
	switch v := val.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		b = fmt.Appendf(nil, "%v", v)
	}
	return c.store.Set(ctx, key, b, ttl)
}

func (c kvCache) IsExistContext(ctx context.Context, key string) bool {
	_, err := c.store.Get(ctx, key)
	return err == nil
}

func (c kvCache) DeleteContext(ctx context.Context, key string) error {
	return c.store.Delete(ctx, key)
}

// Key names of the access token in kv (the store adds its own namespace).
func tokenKey(appID string) string      { return "wx:token:" + appID }
func tokenLockKey(appID string) string  { return "wx:token:lock:" + appID }
func tokenForceKey(appID string) string { return "wx:token:force:" + appID }

const (
	// tokenMargin is taken off WeChat's expires_in so a token is never used in
	// its last minutes.
	tokenMargin = 300 * time.Second
	// tokenMinTTL guards against a tiny or missing expires_in.
	tokenMinTTL = 60 * time.Second
	// tokenLockTTL bounds how long a crashed fetcher can hold the lock.
	tokenLockTTL = 30 * time.Second
	// forceTTL is how long an invalidation asks for a forced refresh.
	forceTTL = 5 * time.Minute
)

// stableFetcher gets a token from WeChat; *credential.StableAccessToken in
// production.
type stableFetcher interface {
	GetAccessTokenDirectly(ctx context.Context, forceRefresh bool) (credential.ResAccessToken, error)
}

// Tokens is the access-token handle shared by every replica through kv. It
// implements credential.AccessTokenContextHandle and is plugged into the SDK
// with SetAccessTokenHandle, so all SDK calls take their token from here.
//
// A token is fetched through the stable-token endpoint (/cgi-bin/stable_token)
// only by the holder of the kv lock, after re-checking kv, so N replicas
// sharing Redis fetch it once. Invalidate drops a rejected token; the next
// fetch then asks WeChat for a forced refresh, again once across replicas.
type Tokens struct {
	appID   string
	store   kv.Store
	fetch   stableFetcher
	timeout time.Duration // for context-less SDK calls
	logger  *slog.Logger
}

var _ credential.AccessTokenContextHandle = (*Tokens)(nil)

func newTokens(appID string, store kv.Store, fetch stableFetcher, timeout time.Duration, logger *slog.Logger) *Tokens {
	return &Tokens{appID: appID, store: store, fetch: fetch, timeout: timeout, logger: logger}
}

// GetAccessToken serves the SDK, whose calls carry no context: it runs under a
// background context bounded by the HTTP timeout plus the lock wait.
func (t *Tokens) GetAccessToken() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	return t.GetAccessTokenContext(ctx)
}

// GetAccessTokenContext returns the shared token, fetching it when kv has none.
func (t *Tokens) GetAccessTokenContext(ctx context.Context) (string, error) {
	return t.Token(ctx)
}

// Token returns the shared token, fetching it when kv has none.
func (t *Tokens) Token(ctx context.Context) (string, error) {
	if tok, err := t.cached(ctx); err == nil {
		return tok, nil
	} else if !errors.Is(err, kv.ErrNotFound) {
		return "", fmt.Errorf("access token: %w", err)
	}
	unlock, err := t.store.Lock(ctx, tokenLockKey(t.appID), tokenLockTTL)
	if err != nil {
		return "", fmt.Errorf("access token lock: %w", err)
	}
	defer unlock()
	// Another replica may have fetched it while we waited for the lock.
	if tok, err := t.cached(ctx); err == nil {
		return tok, nil
	} else if !errors.Is(err, kv.ErrNotFound) {
		return "", fmt.Errorf("access token: %w", err)
	}
	force := false
	if _, err := t.store.Get(ctx, tokenForceKey(t.appID)); err == nil {
		force = true
	}
	res, err := t.fetch.GetAccessTokenDirectly(ctx, force)
	if err != nil && force {
		// Forced refreshes are rationed by WeChat; when one is refused, the
		// token the normal fetch returns is the best there is. Clear the flag
		// so every replica does not keep asking for a forced refresh.
		t.logger.WarnContext(ctx, "forced token refresh failed, fetching normally", "err", err)
		if derr := t.store.Delete(ctx, tokenForceKey(t.appID)); derr != nil {
			t.logger.WarnContext(ctx, "clear token refresh flag", "err", derr)
		}
		force = false
		res, err = t.fetch.GetAccessTokenDirectly(ctx, false)
	}
	if err != nil {
		return "", apiError("fetch access token", err)
	}
	if res.AccessToken == "" {
		return "", errors.New("fetch access token: empty token")
	}
	ttl := tokenTTL(time.Duration(res.ExpiresIn) * time.Second)
	if err := t.store.Set(ctx, tokenKey(t.appID), []byte(res.AccessToken), ttl); err != nil {
		// The token is good; the next call will fetch again, which the
		// stable endpoint tolerates (it returns the same token).
		t.logger.WarnContext(ctx, "store access token", "err", err)
	}
	if force {
		if err := t.store.Delete(ctx, tokenForceKey(t.appID)); err != nil {
			t.logger.WarnContext(ctx, "clear token refresh flag", "err", err)
		}
	}
	t.logger.InfoContext(ctx, "access token fetched", "force_refresh", force, "ttl", ttl.String())
	return res.AccessToken, nil
}

// tokenTTL is how long a token that expires in expiresIn is cached: with a
// safety margin, and never past its real expiry (a stable token may come back
// with little time left).
func tokenTTL(expiresIn time.Duration) time.Duration {
	ttl := expiresIn - tokenMargin
	if ttl < tokenMinTTL {
		ttl = min(tokenMinTTL, expiresIn/2)
	}
	return max(ttl, time.Second)
}

func (t *Tokens) cached(ctx context.Context) (string, error) {
	b, err := t.store.Get(ctx, tokenKey(t.appID))
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", kv.ErrNotFound
	}
	return string(b), nil
}

// Invalidate drops the token WeChat rejected. bad is the token that failed;
// when kv already holds a different one (another replica refreshed it), it is
// kept. The next fetch asks WeChat for a forced refresh.
func (t *Tokens) Invalidate(ctx context.Context, bad string) error {
	unlock, err := t.store.Lock(ctx, tokenLockKey(t.appID), tokenLockTTL)
	if err != nil {
		return fmt.Errorf("invalidate access token: %w", err)
	}
	defer unlock()
	cur, err := t.cached(ctx)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		// Already gone: someone else invalidated it.
		return nil
	case err != nil:
		return fmt.Errorf("invalidate access token: %w", err)
	case bad != "" && cur != bad:
		return nil
	}
	if err := t.store.Set(ctx, tokenForceKey(t.appID), []byte("1"), forceTTL); err != nil {
		return fmt.Errorf("invalidate access token: %w", err)
	}
	if err := t.store.Delete(ctx, tokenKey(t.appID)); err != nil {
		return fmt.Errorf("invalidate access token: %w", err)
	}
	t.logger.WarnContext(ctx, "access token invalidated")
	return nil
}
