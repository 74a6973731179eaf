package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"unionbot/config"
	"unionbot/faq"
	"unionbot/storage"
)

// cmdKeywords manages officers' keyword auto-reply rules, which the bot checks
// before the FAQ. Running replicas pick changes up within the FAQ refresh
// interval (30 s).
//
//	keywords list
//	keywords add --match exact|contains|regex [--priority N] PATTERN REPLY
//	keywords delete ID
func cmdKeywords(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"keywords needs list, add or delete"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keywords "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	match := fs.String("match", storage.MatchContains, "exact, contains or regex")
	priority := fs.Int("priority", 0, "higher is checked first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var run func(db *storage.DB) error
	switch sub {
	case "list":
		run = func(db *storage.DB) error {
			rules, err := db.KeywordRules(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\t匹配\t优先级\t关键词\t回复")
			for _, r := range rules {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", r.ID, r.Match, r.Priority, r.Pattern, oneLine(r.Reply, 40))
			}
			return tw.Flush()
		}
	case "add":
		if fs.NArg() != 2 {
			return usageError{"keywords add [--match exact|contains|regex] [--priority N] PATTERN REPLY"}
		}
		rule := storage.KeywordRule{Pattern: fs.Arg(0), Match: *match, Reply: fs.Arg(1), Priority: *priority, Enabled: true}
		// Compile it the way the bot will, so a bad regex is refused now and
		// not silently skipped later.
		if _, errs := faq.CompileRules([]faq.Rule{{Pattern: rule.Pattern, Match: rule.Match, Reply: rule.Reply}}); len(errs) > 0 {
			return usageError{fmt.Sprintf("invalid rule: %v", errs[0])}
		}
		run = func(db *storage.DB) error {
			id, err := db.CreateKeywordRule(ctx, rule)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "keyword rule %d added\n", id)
			return db.Audit(ctx, "cli", "keyword.create", "keyword:"+strconv.FormatInt(id, 10), rule.Match+" "+rule.Pattern)
		}
	case "delete":
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if fs.NArg() != 1 || err != nil {
			return usageError{"keywords delete ID"}
		}
		run = func(db *storage.DB) error {
			if err := db.DeleteKeywordRule(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "keyword rule %d deleted\n", id)
			return db.Audit(ctx, "cli", "keyword.delete", "keyword:"+strconv.FormatInt(id, 10), "")
		}
	default:
		return usageError{fmt.Sprintf("unknown keywords command %q", sub)}
	}
	db, _, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	return run(db)
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
