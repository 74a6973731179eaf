package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"unionbot/admin/auth"
	"unionbot/config"
	"unionbot/storage"
)

// officerFlags are the flags create-officer and create-token share.
type officerFlags struct {
	roles string
	unit  string
}

// parseOfficerArgs reads NAME --role R[,R] [--unit UNIT_NAME], flags before or after NAME.
func parseOfficerArgs(cmd string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (string, officerFlags, error) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f officerFlags
	fs.StringVar(&f.roles, "role", "", "roles, comma-separated: admin, reviewer, finance, legal, publisher, viewer")
	fs.StringVar(&f.unit, "unit", "", "the grassroots union's name as in the roster (none: county level)")
	if extra != nil {
		extra(fs)
	}
	// Go's flag package stops at the first positional argument; allow NAME first.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", f, err
		}
		return "", f, usageError{err.Error()}
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
		if fs.NArg() > 1 {
			return "", f, usageError{fmt.Sprintf("%s takes one NAME (got %q)", cmd, fs.Args())}
		}
	} else if fs.NArg() > 0 {
		return "", f, usageError{fmt.Sprintf("%s takes one NAME (got extra %q)", cmd, fs.Args())}
	}
	if name == "" {
		return "", f, usageError{fmt.Sprintf("%s needs a NAME", cmd)}
	}
	if f.roles == "" {
		return "", f, usageError{fmt.Sprintf("%s needs --role ROLE[,ROLE]", cmd)}
	}
	return name, f, nil
}

// resolveUnit turns --unit into a unit id (0 for none); an unknown name is refused with the
// hint that units come from the roster.
func resolveUnit(ctx context.Context, db *storage.DB, name string) (int64, error) {
	if strings.TrimSpace(name) == "" {
		return 0, nil
	}
	u, err := db.UnitByName(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, usageError{fmt.Sprintf("no unit named %q (units come from the roster: import it first)", name)}
	}
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// cmdCreateOfficer creates a console account. The password is read from the terminal
// (twice, not echoed) or, when stdin is not a terminal, from its first line: never from an
// argument, which would end up in shell history and process lists.
func cmdCreateOfficer(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var display string
	username, f, err := parseOfficerArgs("create-officer", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&display, "name", "", "display name shown in the console (default: the username)")
	})
	if err != nil {
		return err
	}
	roles, err := auth.ParseRoles(f.roles)
	if err != nil {
		return usageError{err.Error()}
	}
	password, err := readNewPassword(stdin, stderr)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(username, password); err != nil {
		return fmt.Errorf("password refused: %v", err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	db, _, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	unitID, err := resolveUnit(ctx, db, f.unit)
	if err != nil {
		return err
	}
	o, err := db.CreateOfficer(ctx, storage.NewOfficer{
		Username: username, DisplayName: display, PasswordHash: hash, Roles: auth.Strings(roles), UnitID: unitID,
	}, storage.AuditEntry{Actor: "cli"})
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("an officer named %q already exists", username)
	}
	if errors.Is(err, storage.ErrInvalid) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	scope := "county level (all units)"
	if o.UnitName != "" {
		scope = "unit " + o.UnitName
	}
	fmt.Fprintf(stdout, "officer %s created (roles %s, %s)\n", o.Username, strings.Join(o.Roles, ","), scope)
	return nil
}

// cmdCreateToken creates an API token and prints it once, alone on the last line.
func cmdCreateToken(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	name, f, err := parseOfficerArgs("create-token", args, stderr, nil)
	if err != nil {
		return err
	}
	roles, err := auth.ParseRoles(f.roles)
	if err != nil {
		return usageError{err.Error()}
	}
	db, _, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	unitID, err := resolveUnit(ctx, db, f.unit)
	if err != nil {
		return err
	}
	token := auth.NewToken()
	t, err := db.CreateAPIToken(ctx, name, auth.HashToken(token), auth.Strings(roles), unitID, storage.AuditEntry{Actor: "cli"})
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("a token named %q already exists", name)
	}
	if errors.Is(err, storage.ErrInvalid) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	scope := "county level (all units)"
	if t.UnitName != "" {
		scope = "unit " + t.UnitName
	}
	fmt.Fprintf(stdout, "token %s created (roles %s, %s); it is shown only now, store it safely:\n", t.Name, strings.Join(t.Roles, ","), scope)
	fmt.Fprintln(stdout, token)
	return nil
}

// readNewPassword prompts twice on a terminal, or reads one line from a pipe.
func readNewPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "password (at least 10 characters): ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", errors.New("the two passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", errors.New("no password on stdin (pipe it in, or run on a terminal to be prompted)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
