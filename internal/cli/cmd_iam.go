package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"gatehouse/client"
)

// maxPages bounds the listings that read every page.
const maxPages = 10000

// readAll reads every page of a listing, at most maxPages: page gets the
// previous page's continuation ("" for the first) and returns its items and
// the next continuation ("" after the last page).
func readAll[T any](page func(next string) ([]T, string, error)) ([]T, error) {
	all := []T{}
	next := ""
	for range maxPages {
		items, n, err := page(next)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next = n; next == "" {
			break
		}
	}
	return all, nil
}

// listed prints every page of a listing, as a table or a document.
func listed[T any](e *env, page func(next string) ([]T, string, error), tbl func([]T) *table) error {
	all, err := readAll(page)
	if err != nil {
		return err
	}
	return render(e.stdout, e.format(), all, func() *table { return tbl(all) })
}

// --- apikey ----------------------------------------------------------------------

func apikeyCmd(e *env) *cobra.Command {
	return group("apikey", "Create and manage API keys",
		apikeyCreateCmd(e), apikeyListCmd(e), apikeyGetCmd(e), apikeyUpdateCmd(e), apikeyDeleteCmd(e),
		apikeyToggleCmd(e, "lock", "Lock an API key: it keeps working but cannot be changed or deleted", "Locked",
			func(c *client.Client, ctx context.Context, id string) error { return c.LockAPIKey(ctx, id, true) }),
		apikeyToggleCmd(e, "unlock", "Unlock an API key", "Unlocked",
			func(c *client.Client, ctx context.Context, id string) error { return c.LockAPIKey(ctx, id, false) }),
		apikeyToggleCmd(e, "disable", "Disable an API key: it cannot be exchanged, and its live tokens stop working", "Disabled",
			func(c *client.Client, ctx context.Context, id string) error { return c.DisableAPIKey(ctx, id, true) }),
		apikeyToggleCmd(e, "enable", "Enable a disabled API key", "Enabled",
			func(c *client.Client, ctx context.Context, id string) error { return c.DisableAPIKey(ctx, id, false) }),
		apikeyRotateCmd(e), apikeyLeakedCmd(e),
	)
}

// keyID resolves an API key argument: an id, or @apikey.json for the key in
// that file (looked up by its value).
func keyID(ctx context.Context, c *client.Client, arg string) (string, error) {
	if !strings.HasPrefix(arg, "@") {
		return arg, nil
	}
	value, err := readAPIKey(arg)
	if err != nil {
		return "", err
	}
	k, err := c.GetAPIKeyDetails(ctx, value)
	if err != nil {
		return "", fmt.Errorf("look up the key of %s: %w", arg[1:], err)
	}
	return k.ID, nil
}

func apikeyCreateCmd(e *env) *cobra.Command {
	var in client.CreateAPIKey
	var expiresAt, file string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API key; its value is shown (or saved to --file) once",
		Example: `  gatehouse apikey create ci -d "CI pipeline" --role Writer --file ci-apikey.json
  gatehouse apikey create billing --iam-id iam-ServiceId-… --expires-at 90d`,
		Args: args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			in.Name = a[0]
			if expiresAt != "" {
				t, err := parseWhen(expiresAt, e.now())
				if err != nil {
					return usagef("--expires-at: %v", err)
				}
				in.ExpiresAt = &t
			}
			if err := checkNewFile(file); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			k, err := c.CreateAPIKey(cmd.Context(), in)
			if err != nil {
				return err
			}
			return e.showNewKey(k, file)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&in.Description, "description", "d", "", "description")
	f.StringVar(&in.Role, "role", "", "cap the key at this role (Reader, Writer, Manager, Administrator)")
	f.StringVar(&expiresAt, "expires-at", "", "expiry: RFC 3339 time, date, or duration from now (90d)")
	f.StringVar(&in.IAMID, "iam-id", "", "owner (default: you; another identity needs Administrator)")
	f.StringVar(&in.ActionWhenLeaked, "action-when-leaked", "", "none, disable (default) or delete")
	f.StringVar(&file, "file", "", "save the key to this apikey.json file (mode 0600) instead of printing it")
	return cmd
}

func apikeyListCmd(e *env) *cobra.Command {
	var o client.ListAPIKeysOptions
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your API keys (--all: the whole account's)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				o.Scope = "account"
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			o.PageSize = 100
			keys, err := readAll(func(token string) ([]client.APIKey, string, error) {
				o.PageToken = token
				page, err := c.ListAPIKeys(cmd.Context(), o)
				if err != nil {
					return nil, "", err
				}
				return page.APIKeys, page.NextPageToken(), nil
			})
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), keys, func() *table { return apikeyTable(keys) })
		},
	}
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "every key of the account (Administrator)")
	f.StringVar(&o.IAMID, "iam-id", "", "only the keys of this identity")
	f.StringVar(&o.Sort, "sort", "", "name or created_at")
	f.StringVar(&o.Order, "order", "", "asc or desc")
	f.BoolVar(&o.IncludeActivity, "activity", false, "include last use and use count (JSON/YAML)")
	return cmd
}

func apikeyGetCmd(e *env) *cobra.Command {
	var activity, history bool
	cmd := &cobra.Command{
		Use:   "get ID|@apikey.json",
		Short: "Show an API key",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			id, err := keyID(cmd.Context(), c, a[0])
			if err != nil {
				return err
			}
			k, err := c.GetAPIKey(cmd.Context(), id, activity, history)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), k, func() *table { return apikeyTable([]client.APIKey{*k}) })
		},
	}
	cmd.Flags().BoolVar(&activity, "activity", false, "include last use and use count")
	cmd.Flags().BoolVar(&history, "history", false, "include who did what to the key, when")
	return cmd
}

func apikeyUpdateCmd(e *env) *cobra.Command {
	var name, desc, expiresAt, leaked string
	cmd := &cobra.Command{
		Use:     "update ID|@apikey.json",
		Short:   "Change an API key's name, description, expiry or leak action",
		Example: `  gatehouse apikey update ApiKey-… --name ci-old --expires-at never`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.UpdateAPIKey
			f := cmd.Flags()
			if f.Changed("name") {
				in.Name = &name
			}
			if f.Changed("description") {
				in.Description = &desc
			}
			if f.Changed("action-when-leaked") {
				in.ActionWhenLeaked = &leaked
			}
			if f.Changed("expires-at") {
				v := ""
				if expiresAt != "never" && expiresAt != "" {
					t, err := parseWhen(expiresAt, e.now())
					if err != nil {
						return usagef("--expires-at: %v", err)
					}
					v = t.Format("2006-01-02T15:04:05Z")
				}
				in.ExpiresAt = &v
			}
			if in == (client.UpdateAPIKey{}) {
				return usagef("nothing to change: give --name, --description, --expires-at or --action-when-leaked")
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			id, err := keyID(cmd.Context(), c, a[0])
			if err != nil {
				return err
			}
			cur, err := c.GetAPIKey(cmd.Context(), id, false, false)
			if err != nil {
				return err
			}
			k, err := c.UpdateAPIKey(cmd.Context(), id, cur.EntityTag, in)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), k, func() *table { return apikeyTable([]client.APIKey{*k}) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name")
	f.StringVarP(&desc, "description", "d", "", "new description")
	f.StringVar(&expiresAt, "expires-at", "", "new expiry (RFC 3339, date, duration from now), or never")
	f.StringVar(&leaked, "action-when-leaked", "", "none, disable or delete")
	return cmd
}

func apikeyDeleteCmd(e *env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID|@apikey.json",
		Short: "Delete an API key; tokens minted from it stop working at once",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete API key %s?", a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			id, err := keyID(cmd.Context(), c, a[0])
			if err != nil {
				return err
			}
			if err := c.DeleteAPIKey(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted API key %s.\n", id)
			return nil
		},
	}
	addYes(cmd, &yes)
	return cmd
}

// apikeyToggleCmd is lock, unlock, disable or enable; it prints the key after.
func apikeyToggleCmd(e *env, verb, short, done string, do func(*client.Client, context.Context, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ID|@apikey.json",
		Short: short,
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			id, err := keyID(cmd.Context(), c, a[0])
			if err != nil {
				return err
			}
			if err := do(c, cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%s API key %s.\n", done, id)
			k, err := c.GetAPIKey(cmd.Context(), id, false, false)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), k, func() *table { return apikeyTable([]client.APIKey{*k}) })
		},
	}
}

func apikeyRotateCmd(e *env) *cobra.Command {
	var grace, file string
	cmd := &cobra.Command{
		Use:   "rotate ID|@apikey.json",
		Short: "Replace an API key with a new one; the old one works until --grace ends",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkNewFile(file); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			id, err := keyID(cmd.Context(), c, a[0])
			if err != nil {
				return err
			}
			k, err := c.RotateAPIKey(cmd.Context(), id, grace)
			if err != nil {
				return err
			}
			return e.showNewKey(k, file)
		},
	}
	cmd.Flags().StringVar(&grace, "grace", "", "how long the old key keeps working, e.g. 24h (default: the server's)")
	cmd.Flags().StringVar(&file, "file", "", "save the new key to this apikey.json file (mode 0600) instead of printing it")
	return cmd
}

func apikeyLeakedCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "leaked KEY|@apikey.json|- ...",
		Short: "Report key values as leaked; each matching key gets its leak action",
		Long: `Report API key values found where they should not be (a repository, a log, a
paste). Each key that matches gets its action_when_leaked (disable by default).
"-" reads one value per line from stdin.`,
		Args: args("KEY", "[KEY...]"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var values []string
			for _, v := range a {
				if v == "-" {
					for {
						line, err := e.readLine()
						if err != nil {
							break
						}
						if line = strings.TrimSpace(line); line != "" {
							values = append(values, line)
						}
					}
					continue
				}
				k, err := readAPIKey(v)
				if err != nil {
					return err
				}
				values = append(values, k)
			}
			if len(values) == 0 {
				return usagef("no key values to report")
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			rs, err := c.ReportLeakedAPIKeys(cmd.Context(), values)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), rs, func() *table { return leakTable(rs) })
		},
	}
}

// --- serviceid ---------------------------------------------------------------------

func serviceIDCmd(e *env) *cobra.Command {
	return group("serviceid", "Manage service IDs: identities for machines",
		serviceIDCreateCmd(e), serviceIDListCmd(e), serviceIDGetCmd(e), serviceIDUpdateCmd(e), serviceIDDeleteCmd(e),
		serviceIDLockCmd(e, true), serviceIDLockCmd(e, false))
}

func serviceIDCreateCmd(e *env) *cobra.Command {
	var in client.CreateServiceID
	var keyName, keyRole, file string
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a service ID, optionally with its first API key",
		Example: `  gatehouse serviceid create billing-job -d "nightly export" --key-name billing-key --file billing-apikey.json`,
		Args:    args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			in.Name = a[0]
			if keyName == "" && (keyRole != "" || file != "") {
				return usagef("--key-role and --file need --key-name: they describe the first API key")
			}
			if keyName != "" {
				in.APIKey = &client.CreateAPIKey{Name: keyName, Role: keyRole}
			}
			if err := checkNewFile(file); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			s, err := c.CreateServiceID(cmd.Context(), in)
			if err != nil {
				return err
			}
			if s.APIKey == nil || s.APIKey.APIKey == "" {
				return render(e.stdout, e.format(), s, func() *table { return serviceIDTable([]client.ServiceID{*s}) })
			}
			if file != "" {
				if err := writeKeyFile(file, s.APIKey); err == nil {
					fmt.Fprintf(e.stderr, "Saved the API key %s to %s (mode 0600). Keep it safe: it cannot be shown again.\n", s.APIKey.ID, file)
					s.APIKey.APIKey = ""
					return render(e.stdout, e.format(), s, func() *table { return serviceIDTable([]client.ServiceID{*s}) })
				} else {
					fmt.Fprintf(e.stderr, "warning: could not write %s (%v); here is the key instead.\n", file, err)
				}
			}
			fmt.Fprintln(e.stderr, "Save this API key now: it cannot be shown again.")
			if e.format() != formatTable {
				return render(e.stdout, e.format(), s, nil)
			}
			if err := serviceIDTable([]client.ServiceID{*s}).write(e.stdout); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "\nAPI key %s: %s\n", s.APIKey.ID, s.APIKey.APIKey)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&in.Description, "description", "d", "", "description")
	f.StringVar(&keyName, "key-name", "", "also create a first API key with this name")
	f.StringVar(&keyRole, "key-role", "", "cap the first key at this role")
	f.StringVar(&file, "file", "", "save the first key to this apikey.json file (mode 0600) instead of printing it")
	return cmd
}

func serviceIDListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the account's service IDs",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			return listed(e, func(token string) ([]client.ServiceID, string, error) {
				page, err := c.ListServiceIDs(cmd.Context(), client.ListOptions{PageSize: 100, PageToken: token})
				if err != nil {
					return nil, "", err
				}
				return page.ServiceIDs, page.NextPageToken(), nil
			}, serviceIDTable)
		},
	}
}

func serviceIDGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a service ID",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			s, err := c.GetServiceID(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), s, func() *table { return serviceIDTable([]client.ServiceID{*s}) })
		},
	}
}

func serviceIDUpdateCmd(e *env) *cobra.Command {
	var name, desc string
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a service ID's name or description",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.UpdateServiceID
			if cmd.Flags().Changed("name") {
				in.Name = &name
			}
			if cmd.Flags().Changed("description") {
				in.Description = &desc
			}
			if in == (client.UpdateServiceID{}) {
				return usagef("nothing to change: give --name or --description")
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			cur, err := c.GetServiceID(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			s, err := c.UpdateServiceID(cmd.Context(), cur.ID, cur.EntityTag, in)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), s, func() *table { return serviceIDTable([]client.ServiceID{*s}) })
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().StringVarP(&desc, "description", "d", "", "new description")
	return cmd
}

func serviceIDDeleteCmd(e *env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a service ID with its API keys and policies",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete service ID %s with its API keys and policies?", a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteServiceID(cmd.Context(), a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted service ID %s.\n", a[0])
			return nil
		},
	}
	addYes(cmd, &yes)
	return cmd
}

func serviceIDLockCmd(e *env, lock bool) *cobra.Command {
	verb, short, done := "lock", "Lock a service ID against changes and deletion (its keys keep working)", "Locked"
	if !lock {
		verb, short, done = "unlock", "Unlock a service ID", "Unlocked"
	}
	return &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.LockServiceID(cmd.Context(), a[0], lock); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%s service ID %s.\n", done, a[0])
			s, err := c.GetServiceID(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), s, func() *table { return serviceIDTable([]client.ServiceID{*s}) })
		},
	}
}

// --- user ------------------------------------------------------------------------------

func userCmd(e *env) *cobra.Command {
	return group("user", "Manage the local user registry",
		userCreateCmd(e), userListCmd(e), userGetCmd(e), userUpdateCmd(e), userDeleteCmd(e))
}

func userCreateCmd(e *env) *cobra.Command {
	var in client.CreateUser
	var password bool
	cmd := &cobra.Command{
		Use:   "create USERNAME",
		Short: "Add a user (no access until a policy grants it)",
		Example: `  gatehouse user create ada --name "Ada Lovelace" --email ada@example.com --password
  echo "$PW" | gatehouse user create ci-bot --password`,
		Args: args("USERNAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			in.Username = a[0]
			if password {
				pw, err := e.readSecret("password")
				if err != nil {
					return err
				}
				in.Password = pw
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			u, err := c.CreateUser(cmd.Context(), in)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), u, func() *table { return userTable([]client.User{*u}) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "full name")
	f.StringVar(&in.Email, "email", "", "email address")
	f.BoolVar(&password, "password", false, "set a console password (12+ characters): asked on a terminal, else read from stdin")
	return cmd
}

func userListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the account's users",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			return listed(e, func(token string) ([]client.User, string, error) {
				page, err := c.ListUsers(cmd.Context(), client.ListOptions{PageSize: 100, PageToken: token})
				if err != nil {
					return nil, "", err
				}
				return page.Users, page.NextPageToken(), nil
			}, userTable)
		},
	}
}

func userGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get USER",
		Short: "Show a user (by id, iam_id or username)",
		Args:  args("USER"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			u, err := c.GetUser(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), u, func() *table { return userTable([]client.User{*u}) })
		},
	}
}

func userUpdateCmd(e *env) *cobra.Command {
	var name, email string
	var password, disable, enable bool
	cmd := &cobra.Command{
		Use:   "update USER",
		Short: "Change a user's name, email or password, or disable or enable them",
		Example: `  gatehouse user update ada --email ada@example.org
  gatehouse user update ada --password          # asks twice on a terminal
  gatehouse user update ada --disable`,
		Args: args("USER"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.UpdateUser
			if cmd.Flags().Changed("name") {
				in.Name = &name
			}
			if cmd.Flags().Changed("email") {
				in.Email = &email
			}
			if disable || enable {
				in.Disabled = &disable
			}
			if !password && in == (client.UpdateUser{}) {
				return usagef("nothing to change: give --name, --email, --password, --disable or --enable")
			}
			if password {
				pw, err := e.readSecret("password")
				if err != nil {
					return err
				}
				in.Password = &pw
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			u, err := c.UpdateUser(cmd.Context(), a[0], "", in)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), u, func() *table { return userTable([]client.User{*u}) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new full name")
	f.StringVar(&email, "email", "", "new email address")
	f.BoolVar(&password, "password", false, "set a new password: asked on a terminal, else read from stdin")
	f.BoolVar(&disable, "disable", false, "disable the user: their keys stop exchanging and their tokens stop working")
	f.BoolVar(&enable, "enable", false, "enable a disabled user")
	cmd.MarkFlagsMutuallyExclusive("disable", "enable")
	return cmd
}

func userDeleteCmd(e *env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete USER",
		Short: "Delete a user with their API keys and policies",
		Args:  args("USER"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete user %s with their API keys and policies?", a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteUser(cmd.Context(), a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted user %s.\n", a[0])
			return nil
		},
	}
	addYes(cmd, &yes)
	return cmd
}

// --- policy ----------------------------------------------------------------------------

func policyCmd(e *env) *cobra.Command {
	return group("policy", "Grant roles: a policy gives one identity a role on the account or an org",
		policyCreateCmd(e), policyListCmd(e), policyGetCmd(e), policyDeleteCmd(e))
}

// subjectIAMID resolves a policy subject: an iam_id, a service ID's id, or a
// user's id or username.
func subjectIAMID(ctx context.Context, c *client.Client, ref string) (string, error) {
	switch {
	case strings.HasPrefix(ref, "iam-"):
		return ref, nil
	case strings.HasPrefix(ref, "ServiceId-"):
		s, err := c.GetServiceID(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("subject %s: %w", ref, err)
		}
		return s.IAMID, nil
	default:
		u, err := c.GetUser(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("subject %s (read as a user): %w", ref, err)
		}
		return u.IAMID, nil
	}
}

func policyCreateCmd(e *env) *cobra.Command {
	var in client.CreatePolicy
	cmd := &cobra.Command{
		Use:   "create --subject IDENTITY --role ROLE [--org ORG]",
		Short: "Grant a role to an identity on the account or one org",
		Example: `  gatehouse policy create --subject ada --role Writer --org acme
  gatehouse policy create --subject iam-ServiceId-… --role Reader`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if in.Subject, err = subjectIAMID(cmd.Context(), c, in.Subject); err != nil {
				return err
			}
			p, err := c.CreatePolicy(cmd.Context(), in)
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), p, func() *table { return policyTable([]client.Policy{*p}) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Subject, "subject", "", "the identity: iam_id, service ID id, or user id or username")
	f.StringVar(&in.Role, "role", "", "Reader, Writer, Manager or Administrator")
	f.StringVar(&in.Org, "org", "", "the provider org (default: the whole account)")
	cmd.MarkFlagRequired("subject")
	cmd.MarkFlagRequired("role")
	return cmd
}

func policyListCmd(e *env) *cobra.Command {
	var o client.ListPoliciesOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the policies you may read",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if o.Subject != "" {
				if o.Subject, err = subjectIAMID(cmd.Context(), c, o.Subject); err != nil {
					return err
				}
			}
			o.PageSize = 100
			return listed(e, func(token string) ([]client.Policy, string, error) {
				o.PageToken = token
				page, err := c.ListPolicies(cmd.Context(), o)
				if err != nil {
					return nil, "", err
				}
				return page.Policies, page.NextPageToken(), nil
			}, policyTable)
		},
	}
	cmd.Flags().StringVar(&o.Subject, "subject", "", "only this identity's (iam_id, service ID, user)")
	cmd.Flags().StringVar(&o.Org, "org", "", "only this org's")
	return cmd
}

func policyGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a policy",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			p, err := c.GetPolicy(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return render(e.stdout, e.format(), p, func() *table { return policyTable([]client.Policy{*p}) })
		},
	}
}

func policyDeleteCmd(e *env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Remove a policy; the subject's live tokens lose it on their next request",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.confirm(yes, fmt.Sprintf("Delete policy %s?", a[0])); err != nil {
				return err
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeletePolicy(cmd.Context(), a[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Deleted policy %s.\n", a[0])
			return nil
		},
	}
	addYes(cmd, &yes)
	return cmd
}

// --- audit -----------------------------------------------------------------------------

func auditCmd(e *env) *cobra.Command {
	var q client.AuditQuery
	var since, until string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit log (Administrator); audit verify checks its hash chain",
		Example: `  gatehouse audit --action apikey.create --since 24h
  gatehouse audit --actor iam-ServiceId-… --limit 20 -o json
  gatehouse audit verify`,
		Args: groupArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			now := e.now()
			if since != "" {
				if q.Since, err = parsePast(since, now); err != nil {
					return usagef("--since: %v", err)
				}
			}
			if until != "" {
				if q.Until, err = parsePast(until, now); err != nil {
					return usagef("--until: %v", err)
				}
			}
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			page, err := c.ListAudit(cmd.Context(), q)
			if err != nil {
				return err
			}
			entries := page.Entries
			if entries == nil {
				entries = []client.AuditEntry{}
			}
			if next := page.NextAfter(); next != 0 {
				fmt.Fprintf(e.stderr, "More entries follow: add --after %d.\n", next)
			}
			return render(e.stdout, e.format(), entries, func() *table { return auditTable(entries) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Actor, "actor", "", "only this actor's (iam_id or API key id)")
	f.StringVar(&q.Action, "action", "", "only this action, e.g. apikey.create")
	f.StringVar(&q.Target, "target", "", "only entries about this object id")
	f.StringVar(&since, "since", "", "from this time (RFC 3339, date, or a duration ago: 24h, 7d)")
	f.StringVar(&until, "until", "", "before this time (same forms)")
	f.IntVar(&q.Limit, "limit", 0, "at most this many entries (default 100, at most 1000)")
	f.Int64Var(&q.After, "after", 0, "entries after this sequence number (the next page)")
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain; exit 1 when it is broken",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.api(cmd.Context())
			if err != nil {
				return err
			}
			v, err := c.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if err := render(e.stdout, e.format(), v, func() *table { return verifyTable(v) }); err != nil {
				return err
			}
			if !v.OK {
				return fmt.Errorf("the audit chain is broken at entry %d: %s", v.BrokenAt, v.Reason)
			}
			return nil
		},
	})
	return cmd
}
