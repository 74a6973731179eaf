// Command unionbot is a trade union's WeChat Official Account service: members
// chat with it to bind their membership, ask questions, file mutual-aid claims
// and legal-aid requests; officers work through its console and API.
//
// Subcommands: serve (default), migrate, import-members, keywords, sync-menu,
// chat, healthcheck. Configuration comes from UNIONBOT_* environment variables (see
// README.md); with none set it runs on an embedded database with a built-in
// WeChat emulator, so it can be tried on a laptop.
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
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: unionbot [command] [flags]

commands:
  serve                     run the bot (default)
  migrate                   apply database migrations and exit
  import-members [--dry-run] FILE
                            import the member roster (CSV or XLSX)
  keywords list | add [--match exact|contains|regex] [--priority N] PATTERN REPLY | delete ID
                            manage keyword auto-replies (checked before the FAQ)
  sync-menu                 publish the WeChat custom menu
  chat [--url URL] [--openid ID]
                            talk to a running bot as a WeChat user
  healthcheck               exit 0 when the local server answers /healthz
`

// run is main without the process: tests call it with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "unionbot: invalid configuration:\n%v\n", err)
		return 2
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
	case "backup":
		err = cmdBackup(ctx, cfg, args, stdout, stderr)
	case "sync-menu":
		err = cmdSyncMenu(ctx, cfg, stdout, stderr)
	case "chat":
		err = cmdChat(ctx, cfg, args, stdin, stdout)
	case "healthcheck":
		err = cmdHealthcheck(ctx, cfg)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stderr, "unionbot: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "unionbot: %v\n", err)
		return 1
	}
}
