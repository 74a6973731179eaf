// Package wx is the WeChat edge and the only importer of silenceper/wechat:
// the callback (signatures, safe mode, the timestamp window, de-duplication
// of WeChat's retries, the reply deadline), outbound API calls with typed
// errors (customer-service and template messages, media download, menu, user
// info) and the access token shared by every replica. It turns WeChat's XML
// into bot.Input and the engine's bot.Reply back into XML; the dialog engine
// itself knows nothing of WeChat.
package wx
