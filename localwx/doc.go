// Package localwx plays WeChat on both sides of the bot, for tests and for
// local mode.
//
//   - Emulator is an http.Handler that serves the WeChat API paths the bot
//     calls through silenceper/wechat (access tokens, customer-service and
//     template messages, temporary media, menu, user info), records what was
//     sent and can inject faults (errcodes, token invalidation, latency, rate
//     limits).
//   - Client plays the WeChat server calling the bot's callback URL: it builds
//     inbound XML exactly like WeChat, signs it, encrypts it in compatible and
//     safe mode, retries like WeChat and verifies and decrypts the reply.
//   - Chat (terminal) and LocalUI (browser page) let a person talk to the bot as
//     a WeChat user, with the Emulator delivering pushed messages.
//
// This is the project's only fake of WeChat. It has no global configuration;
// the only package state is the MsgId counter that keeps message ids unique and
// increasing within the process.
package localwx
