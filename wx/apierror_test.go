package wx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/util"
)

func TestAPIErrorClassification(t *testing.T) {
	cases := []struct {
		code                                    int64
		permanent, transient, window, tokenDead bool
	}{
		{-1, false, true, false, false},
		{40001, false, false, false, true},
		{40003, true, false, false, false},
		{40013, true, false, false, false},
		{40014, false, false, false, true},
		{42001, false, false, false, true},
		{43004, true, false, false, false},
		{43101, true, false, false, false},
		{45009, false, true, false, false},
		{45015, false, false, true, false},
		{45047, false, true, false, false},
		{48001, true, false, false, false},
		{99999, false, false, false, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			e := &APIError{Op: "x", Code: tc.code}
			got := [4]bool{e.Permanent(), e.Transient(), e.OutsideWindow(), e.TokenExpired()}
			want := [4]bool{tc.permanent, tc.transient, tc.window, tc.tokenDead}
			if got != want {
				t.Errorf("permanent/transient/window/token = %v, want %v", got, want)
			}
		})
	}
}

func TestAPIErrorParsing(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code int64
		msg  string
	}{
		{"customer send", errors.New("customer msg send error : errcode=43004 , errmsg=require subscribe rid: 1-2"), 43004, "require subscribe rid: 1-2"},
		{"template send", errors.New("template msg send error : errcode=40037 , errmsg=invalid template_id"), 40037, "invalid template_id"},
		{"stable token", errors.New("get stable access_token error : errcode=40013 , errormsg=invalid appid"), 40013, "invalid appid"},
		{"user info", errors.New("GetUserInfo Error , errcode=-1 , errmsg=system error"), -1, "system error"},
		{"common error", util.NewCommonError("SetMenuByJSON", 40016, "invalid button size"), 40016, "invalid button size"},
		{"wrapped common error", fmt.Errorf("menu: %w", util.NewCommonError("x", 45009, "quota")), 45009, "quota"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := apiError("op", tc.err)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %T %v, want *APIError", err, err)
			}
			if ae.Code != tc.code || ae.Msg != tc.msg || ae.Op != "op" {
				t.Errorf("got %+v, want code %d msg %q", ae, tc.code, tc.msg)
			}
			// Wrapping further keeps errors.As working.
			if !errors.As(fmt.Errorf("notify: %w", err), &ae) {
				t.Error("errors.As through a wrap failed")
			}
		})
	}
	if apiError("op", nil) != nil {
		t.Error("nil error must stay nil")
	}
	var ae *APIError
	if err := apiError("op", errors.New("connection refused")); errors.As(err, &ae) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("plain error: got %v", err)
	}
}

func TestAPIErrorRedactsToken(t *testing.T) {
	ue := &url.Error{Op: "Get", URL: "https://api.weixin.qq.com/cgi-bin/media/get?access_token=SECRET123&media_id=m", Err: context.DeadlineExceeded}
	err := apiError("download media", ue)
	if strings.Contains(err.Error(), "SECRET123") {
		t.Errorf("token leaked: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cause lost: %v", err)
	}
	err = apiError("download media", errors.New("http get error : uri=https://x/?access_token=SECRET123&media_id=m , statusCode=500"))
	if strings.Contains(err.Error(), "SECRET123") || !strings.Contains(err.Error(), "statusCode=500") {
		t.Errorf("got %v", err)
	}
}
