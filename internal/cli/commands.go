package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gatehouse/client"
)

// clientCommands are the client side of the binary (SPEC §9), all through
// the public client package.
func clientCommands(e *env) []*cobra.Command {
	cmds := []*cobra.Command{
		e.top("session", loginCmd(e)), e.top("session", logoutCmd(e)),
		e.top("session", meCmd(e)), e.top("session", tokenCmd(e)),

		e.top("iam", apikeyCmd(e)), e.top("iam", serviceIDCmd(e)), e.top("iam", userCmd(e)),
		e.top("iam", policyCmd(e)), e.top("iam", auditCmd(e)),

		e.top("apim", orgCmd(e)), e.top("apim", catalogCmd(e)), e.top("apim", apiCmd(e)),
		e.top("apim", productCmd(e)), e.top("apim", consumerOrgCmd(e)), e.top("apim", appCmd(e)),
		e.top("apim", subscriptionCmd(e)), e.top("apim", eventsCmd(e)), e.top("apim", analyticsCmd(e)),
	}
	return cmds
}

// top makes cmd a top-level client command: the global client flags, and the
// -o check before anything runs.
func (e *env) top(group string, cmd *cobra.Command) *cobra.Command {
	cmd.GroupID = group
	pf := cmd.PersistentFlags()
	pf.StringVar(&e.serverFlag, "server", "", "server URL (or GATEHOUSE_SERVER; default: the logged-in server, else "+defaultServer+")")
	pf.StringVar(&e.apikeyFlag, "apikey", "", "API key, or @path of an apikey.json file (or GATEHOUSE_APIKEY)")
	pf.StringVarP(&e.output, "output", "o", "", "output format: table, json or yaml (default: table on a terminal, else json)")
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		switch e.output {
		case "", formatTable, formatJSON, formatYAML:
			return nil
		}
		return usagef("-o %q: the output format is table, json or yaml", e.output)
	}
	return cmd
}

// group is a command that only holds verbs.
func group(use, short string, verbs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: groupArgs, RunE: showHelp}
	cmd.AddCommand(verbs...)
	return cmd
}

// groupArgs refuses an unknown verb (cobra would print the help and exit 0).
func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usagef("%s\nRun '%s --help' for the commands.", msg, cmd.CommandPath())
}

func showHelp(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// args checks the positional arguments: the names of those required, then
// of those optional (in brackets; "[X...]" last takes any number).
func args(names ...string) cobra.PositionalArgs {
	var min int
	for _, n := range names {
		if !strings.HasPrefix(n, "[") {
			min++
		}
	}
	return func(cmd *cobra.Command, a []string) error {
		if len(a) < min {
			missing := names[len(a):min]
			return usagef("%s needs %s\nUsage: %s", cmd.CommandPath(), strings.Join(missing, " and "), cmd.UseLine())
		}
		if len(a) > len(names) && !strings.HasSuffix(names[len(names)-1], "...]") {
			return usagef("%s takes at most %d argument(s), got %d: %q\nUsage: %s", cmd.CommandPath(), len(names), len(a), a, cmd.UseLine())
		}
		return nil
	}
}

// --- login, logout, me, token --------------------------------------------------

func loginCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "login --server URL --apikey KEY|@apikey.json",
		Short: "Exchange an API key for a token and cache the token and server",
		Long: `Exchange an API key for a token and cache the server and the token (never the key)
in the user configuration directory (files 0600, directory 0700). Later commands use
the token until it is about to expire; then they exchange --apikey or GATEHOUSE_APIKEY
again if it is given, or ask you to log in again.`,
		Example: `  gatehouse login --server http://127.0.0.1:8080 --apikey @gatehouse-data/admin-apikey.json
  GATEHOUSE_APIKEY=… gatehouse login --server https://gatehouse.example.com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := e.apikey()
			if err != nil {
				return err
			}
			if key == "" {
				return usagef("login needs an API key: --apikey KEY, --apikey @apikey.json or GATEHOUSE_APIKEY")
			}
			sess, err := e.cache.load()
			if err != nil {
				return err
			}
			server := e.resolveServer(sess)
			e.server = server
			tok, err := e.exchange(cmd.Context(), server, key, client.TokenOptions{})
			if err != nil {
				return err
			}
			me, err := client.New(server).WithToken(tok.AccessToken).Me(cmd.Context())
			if err != nil {
				return err
			}
			s := &session{Server: server, Token: tok.AccessToken, Expiration: time.Unix(tok.Expiration, 0).UTC(), KeyFingerprint: fingerprint(key)}
			path, err := e.cache.save(s)
			if err != nil {
				return err
			}
			if f := e.output; f == formatJSON || f == formatYAML {
				return render(e.stdout, f, map[string]any{"server": server, "expiration": s.Expiration, "token_cache": path, "me": me}, nil)
			}
			fmt.Fprintf(e.stdout, "Logged in to %s as %s (%s) with API key %s.\n", server, dash(me.Name), me.IAMID, me.APIKey.ID)
			fmt.Fprintf(e.stdout, "The token is valid until %s and cached in %s; the API key is not stored.\n", ts(s.Expiration), path)
			return nil
		},
	}
}

func logoutCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the cached token and server",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			path, had, err := e.cache.remove()
			if err != nil {
				return err
			}
			if had {
				fmt.Fprintf(e.stderr, "Logged out: removed %s.\n", path)
			} else {
				fmt.Fprintln(e.stderr, "Not logged in; nothing to forget.")
			}
			return nil
		},
	}
}

func meCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "me",
		Short: "Show who you are: identity, API key, roles and orgs",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), me, func() *table { return meTable(me) })
		},
	}
}

func tokenCmd(e *env) *cobra.Command {
	var role string
	var expiresIn int
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a fresh access token (down-scoped with --role, --expires-in)",
		Long: `Print a fresh access token for --apikey or GATEHOUSE_APIKEY, for other tools:
  curl -H "Authorization: Bearer $(gatehouse token)" …
Without a key it prints the cached token of your login, which cannot be down-scoped.`,
		Example: `  gatehouse token --apikey @apikey.json --role Reader --expires-in 600`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expiresIn < 0 {
				return usagef("--expires-in must be a positive number of seconds")
			}
			key, err := e.apikey()
			if err != nil {
				return err
			}
			var tok *client.IAMToken
			if key != "" {
				sess, err := e.cache.load()
				if err != nil {
					return err
				}
				e.server = e.resolveServer(sess)
				tok, err = e.exchange(cmd.Context(), e.server, key, client.TokenOptions{Role: role, ExpiresIn: expiresIn})
				if err != nil {
					return err
				}
			} else {
				if role != "" || expiresIn != 0 {
					return usagef("--role and --expires-in mint a new token from an API key: pass --apikey or set GATEHOUSE_APIKEY")
				}
				if _, err := e.api(cmd.Context()); err != nil {
					return err
				}
				sess, err := e.cache.load()
				if err != nil || sess == nil {
					return fmt.Errorf("the token cache disappeared: %v", err)
				}
				tok = &client.IAMToken{AccessToken: sess.Token, TokenType: "Bearer", Expiration: sess.Expiration.Unix(),
					ExpiresIn: int64(sess.Expiration.Sub(e.now()).Seconds())}
			}
			if e.output == formatJSON || e.output == formatYAML {
				return render(e.stdout, e.output, tok, nil)
			}
			_, err = fmt.Fprintln(e.stdout, tok.AccessToken)
			return err
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "down-scope the token to this role (Reader, Writer, Manager, Administrator)")
	cmd.Flags().IntVar(&expiresIn, "expires-in", 0, "lifetime in seconds (at most the server's token TTL)")
	return cmd
}
