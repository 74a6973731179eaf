// Package config is the service's configuration: one Config struct, its
// defaults, and Load, which reads the UNIONBOT_* environment (docs/CONTRACTS.md
// §1; every variable in README.md, "Configuration") and reports every problem
// at once. Only main reads it; it hands each part of the program the values
// that part needs. It imports nothing from this module.
package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
)

// DevToken is the callback signature token used in local mode when
// UNIONBOT_WECHAT_TOKEN is not set. It is public: it only ever protects the
// built-in emulator.
const DevToken = "unionbot-dev-token"

// DefaultAPIBase is where outbound WeChat API calls go outside local mode.
const DefaultAPIBase = "https://api.weixin.qq.com"

// DefaultMetricsAddr is where /metrics is served unless UNIONBOT_METRICS_ADDR
// says otherwise: loopback, for a Prometheus on the same host.
const DefaultMetricsAddr = "127.0.0.1:9090"

// SecretKeySize is the length in bytes of UNIONBOT_SECRET_KEY once decoded.
const SecretKeySize = 32

// Config is everything the service reads from its environment.
type Config struct {
	Addr      string // UNIONBOT_ADDR: listen address, host:port
	DataDir   string // UNIONBOT_DATA_DIR: embedded database, media, generated keys
	MySQLDSN  string // UNIONBOT_MYSQL_DSN: when set, MySQL replaces the embedded database
	Redis     Redis
	WeChat    WeChat
	SecretKey []byte     // UNIONBOT_SECRET_KEY: 32-byte key encrypting PII at rest; nil = none given
	PublicURL string     // UNIONBOT_PUBLIC_URL: external base URL, no trailing slash
	LogLevel  slog.Level // UNIONBOT_LOG_LEVEL
	LogFormat string     // UNIONBOT_LOG_FORMAT: "json" or "text"

	SessionTTL time.Duration // UNIONBOT_SESSION_TTL: idle conversation lifetime
	// UnansweredRetention is how long questions the FAQ could not answer directly are kept
	// for officers (UNIONBOT_UNANSWERED_RETENTION).
	UnansweredRetention time.Duration
	ReplyTimeout        time.Duration // UNIONBOT_REPLY_TIMEOUT: callback reply budget, below WeChat's 5 s
	ShutdownTimeout     time.Duration // UNIONBOT_SHUTDOWN_TIMEOUT: graceful shutdown budget
	// DebugAddr, when set, serves Go's pprof profiles on a separate listener
	// (UNIONBOT_DEBUG_ADDR, e.g. 127.0.0.1:6060); keep it off public networks.
	DebugAddr string
	// MetricsAddr is the listener of /metrics, never served on the public
	// one (UNIONBOT_METRICS_ADDR, default DefaultMetricsAddr); "" = off,
	// set with the value "off".
	MetricsAddr string
	// UnionName is how the union calls itself to members, e.g. in the
	// welcome (UNIONBOT_UNION_NAME, default "县总工会").
	UnionName string
	// TrustedProxies are the proxies whose X-Forwarded-For is believed for the
	// client address of console logins and audit rows (UNIONBOT_TRUSTED_PROXIES,
	// comma-separated CIDRs or addresses; none by default).
	TrustedProxies []netip.Prefix
	// Delivery configures the outbound pipeline (package delivery).
	Delivery Delivery
	// StaffHours are when staff answer 人工 conversations (UNIONBOT_STAFF_HOURS, e.g.
	// "1-5 09:00-17:00"; handlers.ParseStaffHours reads it, "" is its default).
	StaffHours string
	// HandoffRetention is how long closed 人工 conversations are kept
	// (UNIONBOT_HANDOFF_RETENTION, default 90 days).
	HandoffRetention time.Duration
	// LegalPromise is what a legal-aid requester is told happens next, after 确认
	// (UNIONBOT_LEGAL_PROMISE; "" keeps the built-in sentence). No day count: that would
	// need a holiday calendar.
	LegalPromise string
	// CrisisRetention is how long after its case closes a crisis message is kept
	// (UNIONBOT_CRISIS_RETENTION, default 180 days): kept only to protect the person,
	// PIPL Art. 13(4).
	CrisisRetention time.Duration
}

// Delivery configures the outbound message pipeline.
type Delivery struct {
	// Templates is the JSON object of template and subscribe-message ids and
	// field mappings per message kind (UNIONBOT_DELIVERY_TEMPLATES; the
	// delivery package reads it, ARCHITECTURE.md shows its shape).
	Templates string
	// Rate is the sends per second of all replicas together, shared through
	// Redis (UNIONBOT_DELIVERY_RATE; 0 = no limit).
	Rate int
	// ProcessRate is the sends per second of one replica
	// (UNIONBOT_DELIVERY_PROCESS_RATE; 0 = no limit).
	ProcessRate int
}

// Redis says where short-lived shared state lives. No Addrs means in-process.
type Redis struct {
	Addrs    []string // UNIONBOT_REDIS_ADDR, comma-separated; more than one = Cluster
	Password string   // UNIONBOT_REDIS_PASSWORD
	DB       int      // UNIONBOT_REDIS_DB; must be 0 with Cluster
	// Prefix namespaces every key (UNIONBOT_REDIS_PREFIX, default "unionbot:"),
	// so several deployments (or test runs) can share one Redis.
	Prefix string
}

// WeChat holds the official account's credentials and API location.
type WeChat struct {
	AppID   string // UNIONBOT_WECHAT_APPID; empty = local mode
	Secret  string // UNIONBOT_WECHAT_SECRET
	Token   string // UNIONBOT_WECHAT_TOKEN: callback signature token
	AESKey  string // UNIONBOT_WECHAT_AES_KEY: 43-char EncodingAESKey, empty = plain mode
	APIBase string // UNIONBOT_WECHAT_API_BASE: no trailing slash; "" in local mode until main mounts the emulator
}

// Default returns the configuration used when no variable is set: local mode.
func Default() Config {
	return Config{
		Addr:                ":8080",
		DataDir:             "./data",
		Redis:               Redis{Prefix: "unionbot:"},
		UnionName:           "县总工会",
		LogLevel:            slog.LevelInfo,
		LogFormat:           "json",
		SessionTTL:          24 * time.Hour,
		UnansweredRetention: 90 * 24 * time.Hour,
		ReplyTimeout:        4500 * time.Millisecond,
		ShutdownTimeout:     20 * time.Second,
		MetricsAddr:         DefaultMetricsAddr,
		HandoffRetention:    90 * 24 * time.Hour,
		CrisisRetention:     180 * 24 * time.Hour,
	}
}

// LocalMode reports whether the service runs without a real official account,
// talking to its built-in emulator instead.
func (c Config) LocalMode() bool { return c.WeChat.AppID == "" }

// Variable names, in one place so error messages and docs agree.
const (
	envAddr            = "UNIONBOT_ADDR"
	envDataDir         = "UNIONBOT_DATA_DIR"
	envMySQLDSN        = "UNIONBOT_MYSQL_DSN"
	envRedisAddr       = "UNIONBOT_REDIS_ADDR"
	envRedisPassword   = "UNIONBOT_REDIS_PASSWORD"
	envRedisDB         = "UNIONBOT_REDIS_DB"
	envRedisPrefix     = "UNIONBOT_REDIS_PREFIX"
	envAppID           = "UNIONBOT_WECHAT_APPID"
	envSecret          = "UNIONBOT_WECHAT_SECRET"
	envToken           = "UNIONBOT_WECHAT_TOKEN"
	envAESKey          = "UNIONBOT_WECHAT_AES_KEY"
	envAPIBase         = "UNIONBOT_WECHAT_API_BASE"
	envSecretKey       = "UNIONBOT_SECRET_KEY"
	envPublicURL       = "UNIONBOT_PUBLIC_URL"
	envLogLevel        = "UNIONBOT_LOG_LEVEL"
	envLogFormat       = "UNIONBOT_LOG_FORMAT"
	envSessionTTL      = "UNIONBOT_SESSION_TTL"
	envReplyTimeout    = "UNIONBOT_REPLY_TIMEOUT"
	envShutdownTimeout = "UNIONBOT_SHUTDOWN_TIMEOUT"
	envDebugAddr       = "UNIONBOT_DEBUG_ADDR"
	envMetricsAddr     = "UNIONBOT_METRICS_ADDR"
	envUnionName       = "UNIONBOT_UNION_NAME"
	envTrustedProxies  = "UNIONBOT_TRUSTED_PROXIES"
	envDeliveryTpl     = "UNIONBOT_DELIVERY_TEMPLATES"
	envDeliveryRate    = "UNIONBOT_DELIVERY_RATE"
	envDeliveryProc    = "UNIONBOT_DELIVERY_PROCESS_RATE"
	envUnanswered      = "UNIONBOT_UNANSWERED_RETENTION"
	envStaffHours      = "UNIONBOT_STAFF_HOURS"
	envHandoffKeep     = "UNIONBOT_HANDOFF_RETENTION"
	envLegalPromise    = "UNIONBOT_LEGAL_PROMISE"
	envCrisisKeep      = "UNIONBOT_CRISIS_RETENTION"
)

// wechatReplyLimit is how long WeChat waits for a callback answer before it
// retries; the reply budget must stay below it.
const wechatReplyLimit = 5 * time.Second

// loader reads variables and collects problems, so Load can report them all.
type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// plain returns a non-secret variable, trimmed of surrounding spaces.
func (l *loader) plain(name string) string {
	return strings.TrimSpace(l.getenv(name))
}

// secret returns a secret variable, either from name itself or, for Docker
// secrets, from the file named by name+"_FILE" (trailing newline removed).
// Setting both is a mistake: one of them would be silently ignored.
func (l *loader) secret(name string) string {
	val := l.getenv(name)
	path := strings.TrimSpace(l.getenv(name + "_FILE"))
	switch {
	case path == "":
		return val
	case val != "":
		l.fail(name, "set either %s or %s_FILE, not both", name, name)
		return val
	}
	b, err := os.ReadFile(path)
	if err != nil {
		// The *PathError names the file, never its contents.
		l.fail(name+"_FILE", "cannot read the file: %v", err)
		return ""
	}
	return strings.TrimRight(string(b), "\r\n")
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	s := l.plain(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		l.fail(name, "not a duration such as 30s, 15m or 24h (got %q)", s)
		return def
	}
	return d
}

// Load reads the configuration from getenv (os.Getenv in main, a map lookup
// in tests), applies defaults and validates it. The error joins one line per
// problem, each naming its variable; no secret value ever appears in it.
func Load(getenv func(string) string) (Config, error) {
	l := &loader{getenv: getenv}
	c := Default()

	if s := l.plain(envAddr); s != "" {
		c.Addr = s
	}
	if s := l.plain(envDataDir); s != "" {
		c.DataDir = s
	}
	c.MySQLDSN = strings.TrimSpace(l.secret(envMySQLDSN))

	for a := range strings.SplitSeq(l.plain(envRedisAddr), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Redis.Addrs = append(c.Redis.Addrs, a)
		}
	}
	c.Redis.Password = l.secret(envRedisPassword)
	if s := l.plain(envRedisDB); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			l.fail(envRedisDB, "must be a whole number 0 or above (got %q)", s)
		} else {
			c.Redis.DB = n
		}
	}

	if s := l.plain(envRedisPrefix); s != "" {
		if strings.ContainsAny(s, "{}") {
			// Keys carry the member's openid as a Redis Cluster hash tag;
			// a brace in the prefix would become the tag instead.
			l.fail(envRedisPrefix, "must not contain { or } (got %q)", s)
		}
		c.Redis.Prefix = s
	}

	c.WeChat.AppID = l.plain(envAppID)
	c.WeChat.Secret = strings.TrimSpace(l.secret(envSecret))
	c.WeChat.Token = strings.TrimSpace(l.secret(envToken))
	c.WeChat.AESKey = strings.TrimSpace(l.secret(envAESKey))
	c.WeChat.APIBase = strings.TrimRight(l.plain(envAPIBase), "/")

	if s := strings.TrimSpace(l.secret(envSecretKey)); s != "" {
		key, err := decodeKey(s)
		if err != nil {
			l.fail(envSecretKey, "%v", err)
		} else {
			c.SecretKey = key
		}
	}
	c.PublicURL = strings.TrimRight(l.plain(envPublicURL), "/")

	if s := l.plain(envLogLevel); s != "" {
		switch strings.ToLower(s) {
		case "debug":
			c.LogLevel = slog.LevelDebug
		case "info":
			c.LogLevel = slog.LevelInfo
		case "warn", "warning":
			c.LogLevel = slog.LevelWarn
		case "error":
			c.LogLevel = slog.LevelError
		default:
			l.fail(envLogLevel, "must be debug, info, warn or error (got %q)", s)
		}
	}
	if s := l.plain(envLogFormat); s != "" {
		switch f := strings.ToLower(s); f {
		case "json", "text":
			c.LogFormat = f
		default:
			l.fail(envLogFormat, "must be json or text (got %q)", s)
		}
	}
	c.SessionTTL = l.duration(envSessionTTL, c.SessionTTL)
	c.UnansweredRetention = l.duration(envUnanswered, c.UnansweredRetention)
	c.ReplyTimeout = l.duration(envReplyTimeout, c.ReplyTimeout)
	c.ShutdownTimeout = l.duration(envShutdownTimeout, c.ShutdownTimeout)
	if s := strings.TrimSpace(l.plain(envUnionName)); s != "" {
		if utf8.RuneCountInString(s) > 30 {
			l.fail(envUnionName, "must be at most 30 characters (got %d)", utf8.RuneCountInString(s))
		}
		c.UnionName = s
	}
	if s := l.plain(envDebugAddr); s != "" {
		if _, _, err := net.SplitHostPort(s); err != nil {
			l.fail(envDebugAddr, "must be host:port (got %q)", s)
		}
		c.DebugAddr = s
	}
	if s := l.plain(envMetricsAddr); strings.EqualFold(s, "off") {
		c.MetricsAddr = ""
	} else if s != "" {
		if _, _, err := net.SplitHostPort(s); err != nil {
			l.fail(envMetricsAddr, "must be host:port, or off (got %q)", s)
		}
		c.MetricsAddr = s
	}

	if s := strings.TrimSpace(l.plain(envDeliveryTpl)); s != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			l.fail(envDeliveryTpl, "must be a JSON object by message kind: %v", err)
		}
		c.Delivery.Templates = s
	}
	for name, dst := range map[string]*int{envDeliveryRate: &c.Delivery.Rate, envDeliveryProc: &c.Delivery.ProcessRate} {
		if s := strings.TrimSpace(l.plain(name)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				l.fail(name, "must be a whole number of sends per second, 0 for no limit (got %q)", s)
			}
			*dst = n
		}
	}

	c.StaffHours = l.plain(envStaffHours) // checked where it is parsed (handlers.Register)
	c.HandoffRetention = l.duration(envHandoffKeep, c.HandoffRetention)
	if c.HandoffRetention < 24*time.Hour {
		l.fail(envHandoffKeep, "must be at least 24h (got %s)", c.HandoffRetention)
	}
	if s := l.plain(envLegalPromise); s != "" {
		if n := utf8.RuneCountInString(s); n > 100 {
			l.fail(envLegalPromise, "must be at most 100 characters (got %d)", n)
		}
		c.LegalPromise = s
	}
	c.CrisisRetention = l.duration(envCrisisKeep, c.CrisisRetention)
	if c.CrisisRetention < 24*time.Hour {
		l.fail(envCrisisKeep, "must be at least 24h (got %s)", c.CrisisRetention)
	}

	for part := range strings.SplitSeq(l.plain(envTrustedProxies), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			part += "/128"
			if a, err := netip.ParseAddr(strings.TrimSuffix(part, "/128")); err == nil && a.Unmap().Is4() {
				part = a.Unmap().String() + "/32"
			}
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			l.fail(envTrustedProxies, "each entry must be a CIDR such as 10.0.0.0/8 or an address (got %q)", part)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}

	// Mode-dependent defaults.
	if c.LocalMode() {
		if c.WeChat.Token == "" {
			c.WeChat.Token = DevToken
		}
	} else if c.WeChat.APIBase == "" {
		c.WeChat.APIBase = DefaultAPIBase
	}

	l.validate(c)
	return c, errors.Join(l.errs...)
}

// validate checks rules that involve the parsed values or several variables.
func (l *loader) validate(c Config) {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		l.fail(envAddr, "must be host:port such as :8080 or 127.0.0.1:8080 (got %q)", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.fail(envAddr, "port must be a number from 0 to 65535 (got %q)", port)
	}

	for _, a := range c.Redis.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			l.fail(envRedisAddr, "each address must be host:port (got %q)", a)
		}
	}
	if len(c.Redis.Addrs) > 1 && c.Redis.DB != 0 {
		l.fail(envRedisDB, "must be 0 with Redis Cluster (several addresses in %s)", envRedisAddr)
	}

	if c.WeChat.AppID != "" {
		if c.WeChat.Secret == "" {
			l.fail(envSecret, "required when %s is set", envAppID)
		}
		if c.WeChat.Token == "" {
			l.fail(envToken, "required when %s is set", envAppID)
		}
	} else if c.WeChat.Secret != "" {
		l.fail(envSecret, "set without %s; set both, or neither for local mode", envAppID)
	}
	if k := c.WeChat.AESKey; k != "" {
		if n := len(k); n != 43 {
			l.fail(envAESKey, "must be 43 characters (got %d)", n)
		} else if b, err := base64.StdEncoding.DecodeString(k + "="); err != nil || len(b) != 32 {
			l.fail(envAESKey, "must be base64 (letters, digits, + and /) decoding to 32 bytes")
		}
	}
	if c.WeChat.Token != "" && !isPrintableASCII(c.WeChat.Token) {
		l.fail(envToken, "must contain only printable ASCII characters")
	}

	if c.MySQLDSN != "" {
		if _, err := mysql.ParseDSN(c.MySQLDSN); err != nil {
			l.fail(envMySQLDSN, "not a valid go-sql-driver DSN: %s", scrubDSNError(err, c.MySQLDSN))
		}
		if c.SecretKey == nil && l.getenv(envSecretKey) == "" && l.getenv(envSecretKey+"_FILE") == "" {
			l.fail(envSecretKey, "required when %s is set (personal data is encrypted with it)", envMySQLDSN)
		}
	}

	l.checkURL(envAPIBase, c.WeChat.APIBase)
	l.checkURL(envPublicURL, c.PublicURL)

	if c.UnansweredRetention <= 0 {
		l.fail(envUnanswered, "must be positive (got %s)", c.UnansweredRetention)
	}
	if c.SessionTTL <= 0 {
		l.fail(envSessionTTL, "must be positive (got %s)", c.SessionTTL)
	}
	if c.ReplyTimeout <= 0 || c.ReplyTimeout >= wechatReplyLimit {
		l.fail(envReplyTimeout, "must be above 0 and below %s, when WeChat gives up waiting (got %s)", wechatReplyLimit, c.ReplyTimeout)
	}
	if c.ShutdownTimeout <= 0 {
		l.fail(envShutdownTimeout, "must be positive (got %s)", c.ShutdownTimeout)
	}
}

func (l *loader) checkURL(name, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, "must be an absolute http:// or https:// URL (got %q)", s)
		return
	}
	if u.User != nil {
		l.fail(name, "must not contain a user name or password")
	}
}

// decodeKey decodes a base64 key in any of the usual alphabets (standard or
// URL-safe, padded or not) and checks its length. Errors never include the key.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != SecretKeySize {
				return nil, fmt.Errorf("must decode to exactly %d bytes (got %d); generate one with: openssl rand -base64 32", SecretKeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("not valid base64; generate one with: openssl rand -base64 32")
}

// scrubDSNError removes the DSN's password from a driver error, in case the
// parser quoted the part of the DSN that holds it.
func scrubDSNError(err error, dsn string) string {
	msg := err.Error()
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if _, pass, ok := strings.Cut(dsn[:at], ":"); ok && pass != "" {
			msg = strings.ReplaceAll(msg, pass, "***")
		}
	}
	return msg
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
