package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Test values. The secrets are distinctive so a leak into an error or a
// summary is easy to spot.
const (
	testAppID   = "wx1234567890abcdef"
	testSecret  = "SECRETsecretSECRETsecret00000001"
	testToken   = "TOKENtoken42"
	testAESKey  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" // 43 chars
	testRedisPW = "REDISpassw0rd"
	testDSNPass = "MYSQLpassw0rd"
)

var (
	testKey    = bytes.Repeat([]byte{7}, 32)
	testKeyB64 = base64.StdEncoding.EncodeToString(testKey)
	testDSN    = "unionbot:" + testDSNPass + "@tcp(db:3306)/unionbot?parseTime=true"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// wechatEnv is a complete, valid production environment; cases tweak it.
func wechatEnv() map[string]string {
	return map[string]string{
		"UNIONBOT_ADDR":             "0.0.0.0:9000",
		"UNIONBOT_DATA_DIR":         "/var/lib/unionbot",
		"UNIONBOT_MYSQL_DSN":        testDSN,
		"UNIONBOT_REDIS_ADDR":       "redis:6379",
		"UNIONBOT_REDIS_PASSWORD":   testRedisPW,
		"UNIONBOT_REDIS_DB":         "3",
		"UNIONBOT_WECHAT_APPID":     testAppID,
		"UNIONBOT_WECHAT_SECRET":    testSecret,
		"UNIONBOT_WECHAT_TOKEN":     testToken,
		"UNIONBOT_WECHAT_AES_KEY":   testAESKey,
		"UNIONBOT_SECRET_KEY":       testKeyB64,
		"UNIONBOT_PUBLIC_URL":       "https://union.example.cn/",
		"UNIONBOT_LOG_LEVEL":        "debug",
		"UNIONBOT_LOG_FORMAT":       "text",
		"UNIONBOT_SESSION_TTL":      "30m",
		"UNIONBOT_REPLY_TIMEOUT":    "4s",
		"UNIONBOT_SHUTDOWN_TIMEOUT": "1m",
	}
}

func TestLoadDefaults(t *testing.T) {
	got, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load(empty): %v", err)
	}
	want := Default()
	want.WeChat.Token = DevToken
	if got.String() != want.String() || !slices.Equal(got.SecretKey, want.SecretKey) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if !got.LocalMode() {
		t.Error("empty environment should be local mode")
	}
	if got.WeChat.APIBase != "" {
		t.Errorf("local APIBase = %q, want empty (main fills in the emulator)", got.WeChat.APIBase)
	}
	if got.Addr != ":8080" || got.DataDir != "./data" || got.LogLevel != slog.LevelInfo ||
		got.LogFormat != "json" || got.SessionTTL != 24*time.Hour ||
		got.ReplyTimeout != 4500*time.Millisecond || got.ShutdownTimeout != 20*time.Second {
		t.Errorf("defaults wrong: %v", got)
	}
}

func TestLoadFull(t *testing.T) {
	got, err := Load(env(wechatEnv()))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.LocalMode() {
		t.Error("APPID set but LocalMode() is true")
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", got.Addr, "0.0.0.0:9000"},
		{"DataDir", got.DataDir, "/var/lib/unionbot"},
		{"MySQLDSN", got.MySQLDSN, testDSN},
		{"Redis.Addrs", strings.Join(got.Redis.Addrs, "|"), "redis:6379"},
		{"Redis.Password", got.Redis.Password, testRedisPW},
		{"Redis.DB", got.Redis.DB, 3},
		{"WeChat.AppID", got.WeChat.AppID, testAppID},
		{"WeChat.Secret", got.WeChat.Secret, testSecret},
		{"WeChat.Token", got.WeChat.Token, testToken},
		{"WeChat.AESKey", got.WeChat.AESKey, testAESKey},
		{"WeChat.APIBase", got.WeChat.APIBase, DefaultAPIBase},
		{"SecretKey", string(got.SecretKey), string(testKey)},
		{"PublicURL", got.PublicURL, "https://union.example.cn"},
		{"LogLevel", got.LogLevel, slog.LevelDebug},
		{"LogFormat", got.LogFormat, "text"},
		{"SessionTTL", got.SessionTTL, 30 * time.Minute},
		{"ReplyTimeout", got.ReplyTimeout, 4 * time.Second},
		{"ShutdownTimeout", got.ShutdownTimeout, time.Minute},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestLoadValues covers accepted variants of single variables.
func TestLoadValues(t *testing.T) {
	urlKey := base64.RawURLEncoding.EncodeToString(append(bytes.Repeat([]byte{0xfb}, 31), 0xff))
	tests := []struct {
		name  string
		env   map[string]string
		check func(Config) bool
	}{
		{"cluster addresses split and trimmed",
			map[string]string{"UNIONBOT_REDIS_ADDR": " r1:7000, r2:7001 ,,r3:7002"},
			func(c Config) bool { return slices.Equal(c.Redis.Addrs, []string{"r1:7000", "r2:7001", "r3:7002"}) }},
		{"raw url-safe secret key",
			map[string]string{"UNIONBOT_SECRET_KEY": urlKey},
			func(c Config) bool { return len(c.SecretKey) == 32 && c.SecretKey[31] == 0xff }},
		{"unpadded standard secret key",
			map[string]string{"UNIONBOT_SECRET_KEY": strings.TrimRight(testKeyB64, "=")},
			func(c Config) bool { return bytes.Equal(c.SecretKey, testKey) }},
		{"local mode keeps an explicit token",
			map[string]string{"UNIONBOT_WECHAT_TOKEN": "mytoken"},
			func(c Config) bool { return c.WeChat.Token == "mytoken" }},
		{"api base trailing slash removed",
			map[string]string{"UNIONBOT_WECHAT_API_BASE": "http://127.0.0.1:9999/"},
			func(c Config) bool { return c.WeChat.APIBase == "http://127.0.0.1:9999" }},
		{"log level is case-insensitive",
			map[string]string{"UNIONBOT_LOG_LEVEL": "WARN"},
			func(c Config) bool { return c.LogLevel == slog.LevelWarn }},
		{"union name",
			map[string]string{"UNIONBOT_UNION_NAME": " 鄂托克前旗总工会 "},
			func(c Config) bool { return c.UnionName == "鄂托克前旗总工会" }},
		{"union name default",
			map[string]string{},
			func(c Config) bool { return c.UnionName == "县总工会" }},
		{"debug address",
			map[string]string{"UNIONBOT_DEBUG_ADDR": "127.0.0.1:6060"},
			func(c Config) bool { return c.DebugAddr == "127.0.0.1:6060" }},
		{"metrics address default",
			map[string]string{},
			func(c Config) bool { return c.MetricsAddr == "127.0.0.1:9090" }},
		{"metrics address",
			map[string]string{"UNIONBOT_METRICS_ADDR": ":9100"},
			func(c Config) bool { return c.MetricsAddr == ":9100" }},
		{"metrics off",
			map[string]string{"UNIONBOT_METRICS_ADDR": "Off"},
			func(c Config) bool { return c.MetricsAddr == "" }},
		{"redis prefix",
			map[string]string{"UNIONBOT_REDIS_PREFIX": "staging:"},
			func(c Config) bool { return c.Redis.Prefix == "staging:" }},
		{"log level error",
			map[string]string{"UNIONBOT_LOG_LEVEL": "error"},
			func(c Config) bool { return c.LogLevel == slog.LevelError }},
		{"redis db above 15 is allowed (redis databases setting)",
			map[string]string{"UNIONBOT_REDIS_DB": "20"},
			func(c Config) bool { return c.Redis.DB == 20 }},
		{"ipv6 listen address",
			map[string]string{"UNIONBOT_ADDR": "[::1]:8080"},
			func(c Config) bool { return c.Addr == "[::1]:8080" }},
		{"mysql with secret key",
			map[string]string{"UNIONBOT_MYSQL_DSN": testDSN, "UNIONBOT_SECRET_KEY": testKeyB64},
			func(c Config) bool { return c.MySQLDSN == testDSN }},
		{"legal-aid promise default and crisis retention default",
			map[string]string{},
			func(c Config) bool { return c.LegalPromise == "" && c.CrisisRetention == 180*24*time.Hour }},
		{"legal-aid promise and crisis retention",
			map[string]string{"UNIONBOT_LEGAL_PROMISE": " 工作人员将在工作时间内尽快联系您 ", "UNIONBOT_CRISIS_RETENTION": "720h"},
			func(c Config) bool {
				return c.LegalPromise == "工作人员将在工作时间内尽快联系您" && c.CrisisRetention == 720*time.Hour
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected config: %v (key len %d)", c, len(c.SecretKey))
			}
		})
	}
}

// TestLoadErrors: each broken rule yields one line that names the variable,
// says what is wrong, and never echoes a secret.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(m map[string]string) // applied to wechatEnv()
		want []string                  // each must appear as (part of) a line
	}{
		{"union name too long",
			func(m map[string]string) { m["UNIONBOT_UNION_NAME"] = strings.Repeat("工", 31) },
			[]string{"UNIONBOT_UNION_NAME: must be at most 30 characters (got 31)"}},
		{"debug address not host:port",
			func(m map[string]string) { m["UNIONBOT_DEBUG_ADDR"] = "6060" },
			[]string{"UNIONBOT_DEBUG_ADDR: must be host:port"}},
		{"metrics address not host:port",
			func(m map[string]string) { m["UNIONBOT_METRICS_ADDR"] = "9090" },
			[]string{`UNIONBOT_METRICS_ADDR: must be host:port, or off (got "9090")`}},
		{"aes key wrong length",
			func(m map[string]string) { m["UNIONBOT_WECHAT_AES_KEY"] = testAESKey[:40] },
			[]string{"UNIONBOT_WECHAT_AES_KEY: must be 43 characters (got 40)"}},
		{"aes key not base64",
			func(m map[string]string) { m["UNIONBOT_WECHAT_AES_KEY"] = testAESKey[:42] + "!" },
			[]string{"UNIONBOT_WECHAT_AES_KEY: must be base64"}},
		{"appid without secret and token",
			func(m map[string]string) { delete(m, "UNIONBOT_WECHAT_SECRET"); delete(m, "UNIONBOT_WECHAT_TOKEN") },
			[]string{"UNIONBOT_WECHAT_SECRET: required when UNIONBOT_WECHAT_APPID is set",
				"UNIONBOT_WECHAT_TOKEN: required when UNIONBOT_WECHAT_APPID is set"}},
		{"secret without appid",
			func(m map[string]string) { delete(m, "UNIONBOT_WECHAT_APPID") },
			[]string{"UNIONBOT_WECHAT_SECRET: set without UNIONBOT_WECHAT_APPID"}},
		{"mysql without secret key",
			func(m map[string]string) { delete(m, "UNIONBOT_SECRET_KEY") },
			[]string{"UNIONBOT_SECRET_KEY: required when UNIONBOT_MYSQL_DSN is set"}},
		{"bad mysql dsn",
			func(m map[string]string) { m["UNIONBOT_MYSQL_DSN"] = "unionbot:" + testDSNPass + "@tcp(db:3306)" },
			[]string{"UNIONBOT_MYSQL_DSN: not a valid go-sql-driver DSN"}},
		{"secret key too short",
			func(m map[string]string) {
				m["UNIONBOT_SECRET_KEY"] = base64.StdEncoding.EncodeToString(testKey[:16])
			},
			[]string{"UNIONBOT_SECRET_KEY: must decode to exactly 32 bytes (got 16)"}},
		{"secret key not base64",
			func(m map[string]string) { m["UNIONBOT_SECRET_KEY"] = "not*base64*at*all" },
			[]string{"UNIONBOT_SECRET_KEY: not valid base64"}},
		{"redis db not a number",
			func(m map[string]string) { m["UNIONBOT_REDIS_DB"] = "one" },
			[]string{`UNIONBOT_REDIS_DB: must be a whole number 0 or above (got "one")`}},
		{"redis db negative",
			func(m map[string]string) { m["UNIONBOT_REDIS_DB"] = "-1" },
			[]string{"UNIONBOT_REDIS_DB: must be a whole number 0 or above"}},
		{"redis prefix with a hash tag",
			func(m map[string]string) { m["UNIONBOT_REDIS_PREFIX"] = "ub{1}:" },
			[]string{`UNIONBOT_REDIS_PREFIX: must not contain { or } (got "ub{1}:")`}},
		{"redis db in cluster",
			func(m map[string]string) { m["UNIONBOT_REDIS_ADDR"] = "r1:7000,r2:7000" },
			[]string{"UNIONBOT_REDIS_DB: must be 0 with Redis Cluster"}},
		{"redis addr without port",
			func(m map[string]string) { m["UNIONBOT_REDIS_ADDR"] = "redis" },
			[]string{`UNIONBOT_REDIS_ADDR: each address must be host:port (got "redis")`}},
		{"addr without port",
			func(m map[string]string) { m["UNIONBOT_ADDR"] = "8080" },
			[]string{`UNIONBOT_ADDR: must be host:port`}},
		{"addr with bad port",
			func(m map[string]string) { m["UNIONBOT_ADDR"] = ":http" },
			[]string{`UNIONBOT_ADDR: port must be a number`}},
		{"api base not a URL",
			func(m map[string]string) { m["UNIONBOT_WECHAT_API_BASE"] = "api.weixin.qq.com" },
			[]string{"UNIONBOT_WECHAT_API_BASE: must be an absolute http:// or https:// URL"}},
		{"public url wrong scheme",
			func(m map[string]string) { m["UNIONBOT_PUBLIC_URL"] = "ftp://union.example.cn" },
			[]string{"UNIONBOT_PUBLIC_URL: must be an absolute http:// or https:// URL"}},
		{"public url with credentials",
			func(m map[string]string) { m["UNIONBOT_PUBLIC_URL"] = "https://u:" + testSecret + "@x.cn" },
			[]string{"UNIONBOT_PUBLIC_URL: must not contain a user name or password"}},
		{"session ttl not a duration",
			func(m map[string]string) { m["UNIONBOT_SESSION_TTL"] = "1 day" },
			[]string{"UNIONBOT_SESSION_TTL: not a duration"}},
		{"crisis retention too short",
			func(m map[string]string) { m["UNIONBOT_CRISIS_RETENTION"] = "1h" },
			[]string{"UNIONBOT_CRISIS_RETENTION: must be at least 24h"}},
		{"legal promise too long",
			func(m map[string]string) { m["UNIONBOT_LEGAL_PROMISE"] = strings.Repeat("尽快", 51) },
			[]string{"UNIONBOT_LEGAL_PROMISE: must be at most 100 characters (got 102)"}},
		{"session ttl zero",
			func(m map[string]string) { m["UNIONBOT_SESSION_TTL"] = "0s" },
			[]string{"UNIONBOT_SESSION_TTL: must be positive"}},
		{"reply timeout too long",
			func(m map[string]string) { m["UNIONBOT_REPLY_TIMEOUT"] = "5s" },
			[]string{"UNIONBOT_REPLY_TIMEOUT: must be above 0 and below 5s"}},
		{"reply timeout negative",
			func(m map[string]string) { m["UNIONBOT_REPLY_TIMEOUT"] = "-1s" },
			[]string{"UNIONBOT_REPLY_TIMEOUT: must be above 0"}},
		{"shutdown timeout bad",
			func(m map[string]string) { m["UNIONBOT_SHUTDOWN_TIMEOUT"] = "soon" },
			[]string{"UNIONBOT_SHUTDOWN_TIMEOUT: not a duration"}},
		{"log level unknown",
			func(m map[string]string) { m["UNIONBOT_LOG_LEVEL"] = "verbose" },
			[]string{`UNIONBOT_LOG_LEVEL: must be debug, info, warn or error (got "verbose")`}},
		{"log format unknown",
			func(m map[string]string) { m["UNIONBOT_LOG_FORMAT"] = "xml" },
			[]string{`UNIONBOT_LOG_FORMAT: must be json or text (got "xml")`}},
		{"secret and its file both set",
			func(m map[string]string) { m["UNIONBOT_WECHAT_SECRET_FILE"] = "/run/secrets/wx" },
			[]string{"UNIONBOT_WECHAT_SECRET: set either UNIONBOT_WECHAT_SECRET or UNIONBOT_WECHAT_SECRET_FILE, not both"}},
		{"unreadable secret file",
			func(m map[string]string) {
				delete(m, "UNIONBOT_REDIS_PASSWORD")
				m["UNIONBOT_REDIS_PASSWORD_FILE"] = "/nonexistent/redis-password"
			},
			[]string{"UNIONBOT_REDIS_PASSWORD_FILE: cannot read the file"}},
		{"every problem reported at once",
			func(m map[string]string) {
				m["UNIONBOT_ADDR"] = "nope"
				m["UNIONBOT_LOG_FORMAT"] = "xml"
				m["UNIONBOT_WECHAT_AES_KEY"] = "short"
				delete(m, "UNIONBOT_SECRET_KEY")
			},
			[]string{"UNIONBOT_ADDR:", "UNIONBOT_LOG_FORMAT:", "UNIONBOT_WECHAT_AES_KEY: must be 43 characters (got 5)",
				"UNIONBOT_SECRET_KEY: required"}},
	}
	secrets := []string{testSecret, testToken, testRedisPW, testDSNPass, testKeyB64, testAESKey[:40]}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := wechatEnv()
			tc.mod(m)
			_, err := Load(env(m))
			if err == nil {
				t.Fatal("got no error")
			}
			msg := err.Error()
			lines := strings.Split(msg, "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(lines), len(tc.want), msg)
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
					t.Errorf("no line starting %q in:\n%s", w, msg)
				}
			}
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("error leaks secret %q:\n%s", s, msg)
				}
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFromFiles(t *testing.T) {
	m := map[string]string{
		"UNIONBOT_WECHAT_APPID":        testAppID,
		"UNIONBOT_WECHAT_SECRET_FILE":  writeFile(t, "secret", testSecret+"\n"),
		"UNIONBOT_WECHAT_TOKEN_FILE":   writeFile(t, "token", testToken+"\r\n"),
		"UNIONBOT_WECHAT_AES_KEY_FILE": writeFile(t, "aes", testAESKey),
		"UNIONBOT_SECRET_KEY_FILE":     writeFile(t, "key", testKeyB64+"\n"),
		"UNIONBOT_MYSQL_DSN_FILE":      writeFile(t, "dsn", testDSN+"\n"),
		"UNIONBOT_REDIS_PASSWORD_FILE": writeFile(t, "redis", " "+testRedisPW+" \n"),
	}
	c, err := Load(env(m))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"secret", c.WeChat.Secret, testSecret},
		{"token", c.WeChat.Token, testToken},
		{"aes key", c.WeChat.AESKey, testAESKey},
		{"secret key", string(c.SecretKey), string(testKey)},
		{"dsn", c.MySQLDSN, testDSN},
		// Only the trailing newline goes: a password may have spaces.
		{"redis password", c.Redis.Password, " " + testRedisPW + " "},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestStringRedacts(t *testing.T) {
	c, err := Load(env(wechatEnv()))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	outputs := map[string]string{"String": c.String(), "Sprintf %+v": fmt.Sprintf("%+v", c), "Sprintf %#v": fmt.Sprintf("%#v", c), "slog JSON": buf.String(), "slog text": textLog(c)}
	for name, out := range outputs {
		for _, s := range []string{testSecret, testToken, testRedisPW, testDSNPass, testKeyB64, testAESKey} {
			if strings.Contains(out, s) {
				t.Errorf("%s leaks %q: %s", name, s, out)
			}
		}
		for _, s := range []string{testAppID, "redis:6379", "unionbot:***@tcp(db:3306)/unionbot", "wechat_secret"} {
			if !strings.Contains(out, s) {
				t.Errorf("%s lacks %q: %s", name, s, out)
			}
		}
	}
	local, _ := Load(env(nil))
	if s := local.String(); !strings.Contains(s, "wechat_token="+DevToken) || !strings.Contains(s, "mode=local") {
		t.Errorf("local summary should show the public dev token and mode: %s", s)
	}
}

func textLog(c Config) string {
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "c", c)
	return b.String()
}
