package wx

import (
	"context"
	"fmt"

	"github.com/silenceper/wechat/v2/util"
)

// The follower list and user tags, for sync-followers (people who followed before the bot
// existed never sent us a subscribe event) and for notices targeted by tag.

// FollowerPage is one page of the follower list (user/get, up to 10,000 openids).
type FollowerPage struct {
	Total, Count int
	OpenIDs      []string
	// Next is the openid to continue from; "" or a page with no openids ends the list.
	Next string
}

// ListFollowers returns the page of followers after next ("" for the first page).
func (s *Sender) ListFollowers(ctx context.Context, next string) (FollowerPage, error) {
	var p FollowerPage
	err := s.do(ctx, "user list", func() error {
		l, err := s.wc.user.ListUserOpenIDs(next)
		if err != nil {
			return err
		}
		p = FollowerPage{Total: l.Total, Count: l.Count, OpenIDs: l.Data.OpenIDs, Next: l.NextOpenID}
		return nil
	})
	return p, err
}

// Tag is a user tag of the account.
type Tag struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// tagsGetURL and tagUsersURL are called directly: the SDK's GetTag and OpenIDListByTag
// drop WeChat's errcode.
const (
	tagsGetURL  = DefaultAPIBase + "/cgi-bin/tags/get"
	tagUsersURL = DefaultAPIBase + "/cgi-bin/user/tag/get"
)

// Tags returns the account's user tags.
func (s *Sender) Tags(ctx context.Context) ([]Tag, error) {
	var tags []Tag
	err := s.do(ctx, "tags", func() error {
		tok, err := s.wc.tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return err
		}
		body, err := util.HTTPGetContext(ctx, tagsGetURL+"?access_token="+tok)
		if err != nil {
			return err
		}
		var r struct {
			util.CommonError
			Tags []Tag `json:"tags"`
		}
		if err := util.DecodeWithError(body, &r, "GetTags"); err != nil {
			if r.ErrCode != 0 {
				return &util.CommonError{ErrCode: r.ErrCode, ErrMsg: r.ErrMsg}
			}
			return err
		}
		tags = r.Tags
		return nil
	})
	return tags, err
}

// TagFollowers returns the page of followers with tag id after next ("" first).
func (s *Sender) TagFollowers(ctx context.Context, id int64, next string) (FollowerPage, error) {
	var p FollowerPage
	err := s.do(ctx, "tag users", func() error {
		tok, err := s.wc.tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return err
		}
		req := map[string]any{"tagid": id, "next_openid": next}
		body, err := util.PostJSONContext(ctx, tagUsersURL+"?access_token="+tok, req)
		if err != nil {
			return err
		}
		var r struct {
			util.CommonError
			Count int `json:"count"`
			Data  struct {
				OpenIDs []string `json:"openid"`
			} `json:"data"`
			Next string `json:"next_openid"`
		}
		if err := util.DecodeWithError(body, &r, "TagUsers"); err != nil {
			if r.ErrCode != 0 {
				return &util.CommonError{ErrCode: r.ErrCode, ErrMsg: r.ErrMsg}
			}
			return err
		}
		p = FollowerPage{Count: r.Count, OpenIDs: r.Data.OpenIDs, Next: r.Next}
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("tag %d: %w", id, err)
	}
	return p, nil
}
