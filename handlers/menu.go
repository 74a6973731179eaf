package handlers

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"unionbot/bot"
)

// menuJSON is the WeChat custom menu (the body of menu/create). Every click
// key is an intent name; a test checks that each one is registered and that
// the names fit WeChat's length limits.
//
//go:embed menu.json
var menuJSON []byte

// MenuJSON returns the WeChat custom menu definition, ready to post to the
// menu/create API.
func MenuJSON() []byte { return bytes.Clone(menuJSON) }

// MenuButton is one button of the WeChat custom menu.
type MenuButton struct {
	Type      string       `json:"type,omitempty"`
	Name      string       `json:"name"`
	Key       string       `json:"key,omitempty"`
	URL       string       `json:"url,omitempty"`
	SubButton []MenuButton `json:"sub_button,omitempty"`
}

// Menu is the WeChat custom menu.
type Menu struct {
	Button []MenuButton `json:"button"`
}

// ParseMenu decodes a menu definition such as MenuJSON().
func ParseMenu(b []byte) (Menu, error) {
	var m Menu
	if err := json.Unmarshal(b, &m); err != nil {
		return Menu{}, fmt.Errorf("parse menu: %w", err)
	}
	return m, nil
}

// MenuKeys returns the click keys of the custom menu in menu order.
func MenuKeys() []string {
	m, err := ParseMenu(menuJSON)
	if err != nil {
		panic(err) // embedded at build time; the menu test catches a bad file
	}
	var keys []string
	var walk func([]MenuButton)
	walk = func(bs []MenuButton) {
		for _, b := range bs {
			if b.Type == "click" {
				keys = append(keys, b.Key)
			}
			walk(b.SubButton)
		}
	}
	walk(m.Button)
	return keys
}

// menuText lists what a member can type. Short lines: it is read on a phone.
const menuText = `直接回复下面的文字即可办理：

【会员服务】
· 绑定：绑定会员身份
· 我的信息：查看会员信息
· 互助保障：查询参保情况
· 解绑：解除绑定

【办事大厅】
· 互助金：申领互助金（即将开通）
· 法律援助：法律咨询与援助（即将开通）
· 进度：查询办理进度（即将开通）

【更多】
· 活动：近期活动和报名
· 常见问题：热门问题解答
· 人工：联系工作人员
· 退订／订阅：通知设置

也可以直接输入您的问题，例如“怎么入会”。`

// ServiceMenu answers "菜单": what a member can do here.
type ServiceMenu struct {
	unionName string
}

func (m *ServiceMenu) register(r *bot.Router) {
	intent(r, IntentMenu, m.handleMenu, "菜单", "帮助", "服务", "功能", "help")
}

func (m *ServiceMenu) handleMenu(context.Context, *bot.Session, bot.Input) (bot.Reply, error) {
	return bot.Text(m.unionName + "服务菜单\n" + menuText), nil
}
