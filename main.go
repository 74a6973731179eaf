// Command unionbot is a trade union's WeChat Official Account service: members
// chat with it to bind their membership, ask questions, file mutual-aid claims
// and legal-aid requests; officers work through its console and API.
//
// Subcommands are listed in usage below (and docs/CONTRACTS.md §2).
// Configuration comes from UNIONBOT_* environment variables (README.md,
// "Configuration"); with none set it runs on an embedded database with a
// built-in WeChat emulator, so it can be tried on a laptop.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"unionbot/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	setMemoryLimit(os.Args[1:], os.Getenv)
	os.Exit(runEnv(ctx, os.Args[1:], os.Getenv, os.Environ, os.Stdin, os.Stdout, os.Stderr))
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usage is what help, -h and --help print. Every subcommand of run's switch
// appears in it (TestUsageNamesEveryCommand).
const usage = `unionbot — 工会公众号服务机器人 (a trade union's WeChat Official Account bot)

usage: unionbot [command] [arguments]

commands:
  serve                     run the bot (the default when no command is given)
  migrate                   apply database migrations and exit
  import-members FILE [--dry-run] [--batch N]
                            import the member roster (CSV or XLSX); --dry-run only validates
  keywords list | add [--match exact|contains|regex] [--priority N] PATTERN REPLY | delete ID
                            manage keyword auto-replies (checked before the FAQ)
  unlock-binding MEMBER_NO  clear a member's self-service binding lockout
  binding-code MEMBER_NO    give a member a one-time binding code (valid 24 h; they send 绑定码 CODE)
  backup FILE               copy the embedded database while the bot runs (keep data/secret.key too)
  sync-menu                 publish the WeChat custom menu (local mode: to the running server's emulator)
  sync-followers            fetch the follower list and user tags from WeChat (local mode: the running server's emulator)
  chat [--url URL] [--openid ID]
                            talk to a running bot as a WeChat user, in this terminal
  healthcheck               exit 0 when the local server answers /healthz
  create-officer USERNAME --role ROLE[,ROLE] [--unit UNIT_NAME]
                            add a console account (password prompted, or one line on stdin)
  create-token NAME --role ROLE[,ROLE] [--unit UNIT_NAME]
                            add an /api/v1 token (printed once, on the last line)
  help                      show this text (also -h, --help)

environment (all optional; with none set the bot runs in local mode: embedded
database in ./data, built-in WeChat emulator, chat page at /_local/chat):
  UNIONBOT_ADDR             listen address (default :8080)
  UNIONBOT_DATA_DIR         embedded database and generated secret key (default ./data)
  UNIONBOT_MYSQL_DSN        use MySQL instead of the embedded database
  UNIONBOT_REDIS_ADDR       use Redis, host:port (comma-separated: Redis Cluster)
  UNIONBOT_SECRET_KEY       base64 of 32 bytes encrypting personal data (required with MySQL)
  UNIONBOT_WECHAT_APPID, UNIONBOT_WECHAT_SECRET, UNIONBOT_WECHAT_TOKEN, UNIONBOT_WECHAT_AES_KEY
                            the official account (no AppID: local mode)
  UNIONBOT_LOG_LEVEL        debug, info, warn or error (default info)
The full table (every variable, its default, the *_FILE form of secrets) is in
README.md, section "Configuration", at the root of the source tree.
`

// run is main without the process: tests call it with their own environment.
// It does not look for misspelt variables (runEnv does, given the names).
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, getenv, nil, stdin, stdout, stderr)
}

// runEnv is run with the names of the environment's variables too (environ
// lists NAME=value pairs, as os.Environ; nil skips the check), so that a
// misspelt UNIONBOT_* variable is warned about instead of silently ignored.
func runEnv(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if isHelp(args) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "unionbot: invalid configuration:\n%v\n", err)
		return 2
	}
	if environ != nil {
		for _, w := range config.UnknownVariables(environ()) {
			fmt.Fprintf(stderr, "unionbot: warning: %s\n", w)
		}
	}
	switch cmd {
	case "serve":
		err = cmdServe(ctx, cfg, args, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, cfg, stdout, stderr)
	case "import-members":
		err = cmdImport(ctx, cfg, args, stdout, stderr)
	case "keywords":
		err = cmdKeywords(ctx, cfg, args, stdout, stderr)
	case "unlock-binding":
		err = cmdUnlockBinding(ctx, cfg, args, stdout, stderr)
	case "binding-code":
		err = cmdBindingCode(ctx, cfg, args, stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, cfg, args, stdout, stderr)
	case "sync-menu":
		err = cmdSyncMenu(ctx, cfg, stdout, stderr)
	case "sync-followers":
		err = cmdSyncFollowers(ctx, cfg, stdout, stderr)
	case "chat":
		err = cmdChat(ctx, cfg, args, stdin, stdout)
	case "healthcheck":
		err = cmdHealthcheck(ctx, cfg)
	case "create-officer":
		err = cmdCreateOfficer(ctx, cfg, args, stdin, stdout, stderr)
	case "create-token":
		err = cmdCreateToken(ctx, cfg, args, stdout, stderr)
	default:
		err = usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp): // a subcommand's -h: its flags are printed already
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "unionbot: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "unionbot: %v\n", err)
		return 1
	}
}

// isHelp reports whether the command line asks for the usage text: help, -h
// or --help as the command, or -h/--help right after serve (which takes no
// other arguments).
func isHelp(args []string) bool {
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}
