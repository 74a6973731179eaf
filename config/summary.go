package config

import (
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// String is a one-line summary safe to log: every secret is shown only as
// "set" or "***", and the DSN's password is masked.
func (c Config) String() string {
	var b strings.Builder
	for i, a := range c.summary() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(a.Value.String())
	}
	return b.String()
}

// GoString keeps %#v from printing the secrets field by field.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

// LogValue makes slog print the same redacted summary as String, as a group,
// so logging a Config with any handler (JSON too) never leaks a secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(c.summary()...)
}

func (c Config) summary() []slog.Attr {
	mode := "wechat"
	if c.LocalMode() {
		mode = "local"
	}
	database := "embedded:" + c.DataDir
	if c.MySQLDSN != "" {
		database = "mysql:" + redactDSN(c.MySQLDSN)
	}
	redis := "in-process"
	if len(c.Redis.Addrs) > 0 {
		redis = strings.Join(c.Redis.Addrs, ",")
	}
	token := setOrNot(c.WeChat.Token)
	if c.WeChat.Token == DevToken {
		token = DevToken // public by design, printed so local users can configure clients
	}
	aesKey := setOrNot(c.WeChat.AESKey)
	// Without UNIONBOT_SECRET_KEY (allowed only with the embedded database)
	// the key is the one in the data directory, generated there on first
	// start: say so rather than "unset", which reads as "not encrypted".
	secretKey := "set"
	if c.SecretKey == nil {
		secretKey = "file:" + filepath.Join(c.DataDir, SecretKeyFile)
	}
	return []slog.Attr{
		slog.String("mode", mode),
		slog.String("addr", c.Addr),
		slog.String("data_dir", c.DataDir),
		slog.String("database", database),
		slog.String("redis", redis),
		slog.String("redis_password", setOrNot(c.Redis.Password)),
		slog.Int("redis_db", c.Redis.DB),
		slog.String("redis_prefix", c.Redis.Prefix),
		slog.String("union_name", c.UnionName),
		slog.String("wechat_appid", orNone(c.WeChat.AppID)),
		slog.String("wechat_secret", setOrNot(c.WeChat.Secret)),
		slog.String("wechat_token", token),
		slog.String("wechat_aes_key", aesKey),
		slog.String("wechat_api_base", orNone(c.WeChat.APIBase)),
		slog.String("secret_key", secretKey),
		slog.String("public_url", orNone(c.PublicURL)),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.String("session_ttl", c.SessionTTL.String()),
		slog.String("reply_timeout", c.ReplyTimeout.String()),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
	}
}

func setOrNot(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// redactDSN shows where the database is without its password; a DSN that
// does not parse is shown only as "set".
func redactDSN(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "set"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "***"
	}
	return cfg.User + ":" + cfg.Passwd + "@" + cfg.Net + "(" + cfg.Addr + ")/" + cfg.DBName
}
