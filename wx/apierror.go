package wx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/util"
)

// APIError is an error code returned by a WeChat API. Every outbound call of
// this package turns the SDK's errors (typed *util.CommonError or untyped
// "errcode=…, errmsg=…" strings) into *APIError, so callers can use errors.As
// and the classification methods below.
type APIError struct {
	Op   string // what we were doing: "send text", "send template", …
	Code int64  // WeChat errcode
	Msg  string // WeChat errmsg (never contains message content)
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: errcode=%d errmsg=%s", e.Op, e.Code, e.Msg)
}

// Permanent reports whether retrying the same call can never succeed: the user
// unsubscribed or refused, the openid or template is wrong, or the account
// lacks the permission. Record these and stop; never loop on them.
func (e *APIError) Permanent() bool {
	switch e.Code {
	case 40003, // invalid openid
		40013, // invalid appid
		40007, // invalid media_id (also: temporary media older than 3 days)
		40037, // invalid template_id
		40125, // invalid appsecret
		40164, // caller IP not in the whitelist (a deployment fix is needed)
		41001, // access_token missing
		43004, // require subscribe: the user unfollowed
		43101, // user refused to accept the message
		48001, // api unauthorized for this account
		50005: // user has not followed the account (subscribe message)
		return true
	}
	return false
}

// Transient reports whether the same call may succeed later: the system is
// busy or a rate/quota limit was hit. Back off before retrying.
func (e *APIError) Transient() bool {
	switch e.Code {
	case -1, // system busy
		45009, // daily api quota reached
		45011, // api minute quota reached
		45047: // customer-service downlink limit reached
		return true
	}
	return false
}

// OutsideWindow reports whether a customer-service message was refused because
// the user has not written within the last 48 hours (45015). Only a template or
// subscribe message can reach the user now.
func (e *APIError) OutsideWindow() bool { return e.Code == 45015 }

// TokenExpired reports whether the access token was rejected (invalid, expired
// or superseded by a newer one). The sender refreshes it and retries once.
func (e *APIError) TokenExpired() bool {
	switch e.Code {
	case 40001, 42001, 40014:
		return true
	}
	return false
}

// sdkErrRe matches the SDK's untyped errors, e.g.
// "customer msg send error : errcode=43004 , errmsg=require subscribe" and
// "get stable access_token error : errcode=40013 , errormsg=invalid appid".
var sdkErrRe = regexp.MustCompile(`errcode=(-?\d+)\s*,\s*(?:errmsg|errormsg)=(.*)$`)

// tokenRe finds an access token in a URL or an error text.
var tokenRe = regexp.MustCompile(`access_token=[^&\s"']*`)

// apiError converts an error from the SDK into *APIError when it carries a
// WeChat errcode. Other errors (network, timeouts) are wrapped with op, with
// any access token scrubbed from their text. nil stays nil.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	var ce *util.CommonError
	if errors.As(err, &ce) {
		return &APIError{Op: op, Code: ce.ErrCode, Msg: ce.ErrMsg}
	}
	if m := sdkErrRe.FindStringSubmatch(err.Error()); m != nil {
		if code, perr := strconv.ParseInt(m[1], 10, 64); perr == nil {
			return &APIError{Op: op, Code: code, Msg: strings.TrimSpace(m[2])}
		}
	}
	return fmt.Errorf("wechat %s: %w", op, redact(err))
}

// redactedError hides an access token that an error text would otherwise
// carry (net/http puts the full URL into *url.Error; the SDK puts it into its
// "http get error : uri=…" text), while still unwrapping to the cause so
// errors.Is(err, context.DeadlineExceeded) keeps working.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

func redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !strings.Contains(msg, "access_token=") {
		return err
	}
	var cause error
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		cause = ue.Err // the URL is in ue.URL, not in its cause
	case errors.Is(err, context.Canceled):
		cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		cause = context.DeadlineExceeded
	}
	return &redactedError{msg: redactString(msg), cause: cause}
}

func redactString(s string) string {
	return tokenRe.ReplaceAllString(s, "access_token=REDACTED")
}
