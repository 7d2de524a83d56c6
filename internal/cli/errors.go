package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"gatehouse/client"
)

// usageError marks errors in how the command was called (exit 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// isUsage says whether err is a usage error: ours, or one of cobra's own
// messages for unknown commands, missing required flags and flag groups.
func isUsage(err error) bool {
	var ue usageError
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "required flag(s)", "if any flags in the group", "at least one of the flags in the group", "invalid argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// describe turns an error into what the user reads: the server's answer
// with each located problem, or what to do about a network failure.
func describe(err error, server string) string {
	var ae *client.Error
	if errors.As(err, &ae) {
		var b strings.Builder
		// keep the context ("exchange the API key for a token: ") that wraps it
		if prefix, _, ok := strings.Cut(err.Error(), ae.Error()); ok {
			b.WriteString(prefix)
		}
		fmt.Fprintf(&b, "%d %s: %s", ae.StatusCode, ae.Code, ae.Message)
		if ae.Target != "" {
			fmt.Fprintf(&b, " (field %s)", ae.Target)
		}
		for _, d := range ae.Details {
			if d.Target != "" {
				fmt.Fprintf(&b, "\n  %s: %s", d.Target, d.Message)
			} else {
				fmt.Fprintf(&b, "\n  %s", d.Message)
			}
		}
		if hint := hintFor(ae); hint != "" {
			b.WriteString("\n" + hint)
		}
		if ae.Trace != "" {
			fmt.Fprintf(&b, "\n(request id %s)", ae.Trace)
		}
		return b.String()
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if server == "" {
			server = ue.URL
		}
		return fmt.Sprintf("cannot reach %s: %v\nIs the server running? Set its URL with --server or GATEHOUSE_SERVER.", server, ue.Err)
	}
	return err.Error()
}

// hintFor says what to do about some answers.
func hintFor(e *client.Error) string {
	switch {
	case e.StatusCode == 401:
		return "The server refused the token: run gatehouse login again (or pass --apikey)."
	case e.Code == "BXNIM0415E":
		return "Check the API key: it may be mistyped, deleted, disabled or expired, or its owner may have no access."
	case e.StatusCode == 403:
		return "Your role does not allow this; ask an Administrator for a policy, or use a key with more power."
	case e.Code == "entity_locked":
		return "Unlock it first."
	}
	return ""
}
