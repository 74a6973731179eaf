package admin

import (
	"errors"
	"net/http"
	"strings"

	"unionbot/admin/auth"
	"unionbot/storage"
	"unionbot/web"
)

// httpError is an error whose status, code and message may be shown as they are (the
// message is for an officer, in Chinese).
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.code + ": " + e.msg }

func userErr(status int, code, msg string) error { return &httpError{status, code, msg} }

var (
	errCrossOrigin     = userErr(http.StatusForbidden, "cross_origin", "跨站请求已被拒绝。")
	errCSRF            = userErr(http.StatusForbidden, "csrf", "页面已过期或表单令牌无效，请刷新页面后重试。")
	errUnauthenticated = userErr(http.StatusUnauthorized, "unauthenticated", "请先登录，或提供有效的 API 令牌。")
	errForbidden       = userErr(http.StatusForbidden, "forbidden", "您的角色没有权限执行此操作。")
	errNotFound        = userErr(http.StatusNotFound, "not_found", "未找到该记录，或它不在您的管辖范围内。")
)

// classify maps an error to what the client is told: the one place errors meet HTTP.
func classify(err error) *httpError {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, auth.ErrForbidden):
		return errForbidden.(*httpError)
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, storage.ErrNotFound):
		return errNotFound.(*httpError)
	case errors.Is(err, storage.ErrConflict):
		return &httpError{http.StatusConflict, "conflict", "记录已存在或已被他人修改，请刷新后重试。"}
	case errors.Is(err, storage.ErrInvalid):
		return &httpError{http.StatusUnprocessableEntity, "invalid", "提交的内容无效，请检查后重试。"}
	}
	return nil
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// fail answers a request that went wrong: JSON for the API, a page for the console.
// Unknown errors are logged and become a generic 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	he := classify(err)
	if he == nil {
		web.Logger(r.Context(), s.logger).ErrorContext(r.Context(), "admin request", "path", r.URL.Path, "err", err)
		he = &httpError{http.StatusInternalServerError, "internal", "服务器内部错误，请稍后重试。"}
	}
	if isAPI(r) {
		web.Error(w, he.status, he.code, he.msg)
		return
	}
	if he.status == http.StatusUnauthorized {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
		return
	}
	s.renderStatus(w, r, he.status, "error", &pageData{Title: errorTitle(he.status), Data: he.msg})
}

func errorTitle(status int) string {
	switch status {
	case http.StatusForbidden:
		return "没有权限"
	case http.StatusNotFound:
		return "未找到"
	case http.StatusInternalServerError:
		return "出错了"
	}
	return "无法完成"
}
