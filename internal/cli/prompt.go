package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// lineReader reads stdin line by line; one per env, so that several reads
// share its buffer.
func (e *env) readLine() (string, error) {
	if e.lines == nil {
		e.lines = bufio.NewReader(e.stdin)
	}
	line, err := e.lines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// addYes gives a destructive command its --yes flag.
func addYes(cmd *cobra.Command, yes *bool) {
	cmd.Flags().BoolVarP(yes, "yes", "y", false, "do not ask for confirmation")
}

// confirm asks "question [y/N]" on a terminal. Without a terminal to ask on,
// the command must say --yes: a script never deletes by accident.
func (e *env) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	if !e.stdinTTY {
		return usagef("%s: not confirmed; stdin is not a terminal, so pass --yes to confirm", strings.TrimSuffix(question, "?"))
	}
	fmt.Fprintf(e.stderr, "%s [y/N] ", question)
	answer, err := e.readLine()
	if err != nil {
		return fmt.Errorf("no answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errAborted
}

// errAborted is a "no" at a confirmation prompt.
var errAborted = errors.New("aborted; nothing was changed")

// readSecret reads a password: twice at a prompt with the echo off on a
// terminal, else the first line of stdin (for scripts: `echo "$PW" | …`).
func (e *env) readSecret(what string) (string, error) {
	if !e.stdinTTY {
		pw, err := e.readLine()
		if err != nil {
			return "", usagef("read the %s from stdin: %v", what, err)
		}
		if pw == "" {
			return "", usagef("the %s on stdin is empty", what)
		}
		return pw, nil
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(e.stderr, prompt)
		read := e.readLine
		var pw string
		var err error
		if f, ok := e.stdin.(*os.File); ok {
			pw, err = withoutEcho(f, read)
		} else {
			pw, err = read()
		}
		fmt.Fprintln(e.stderr)
		return pw, err
	}
	pw, err := ask(fmt.Sprintf("New %s: ", what))
	if err != nil {
		return "", err
	}
	again, err := ask(fmt.Sprintf("Repeat the %s: ", what))
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", usagef("the two %ss differ; nothing was changed", what)
	}
	if pw == "" {
		return "", usagef("the %s is empty; nothing was changed", what)
	}
	return pw, nil
}
