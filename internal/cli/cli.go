// Package cli is the gatehouse command: the server commands (serve, init) and,
// through the public client package, the client commands. It parses flags and
// prints; the work is done by internal/app and the server.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
)

// Exit codes (SPEC §9).
const (
	exitOK    = 0
	exitNo    = 1 // the server (or the operation) said no
	exitUsage = 2
)

// Version is set at build time with -ldflags "-X gatehouse/internal/cli.Version=…".
var Version = "dev"

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return run(newEnv(stdout, stderr), args)
}

func run(e *env, args []string) int {
	root := newRoot(e)
	root.SetArgs(args)
	// serve handles its signals itself; a client command dies with Ctrl-C
	// like any other (also at a prompt).
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(e.stderr, "gatehouse:", describe(err, e.server))
	if isUsage(err) {
		return exitUsage
	}
	return exitNo
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Self-hosted API management: API keys, token service, management API and gateway",
		Long: `Gatehouse is a self-hosted API management platform in one binary: serve runs it,
and the other commands are its client.

Client commands take these flags (or the environment variables):
  --server URL          the server (GATEHOUSE_SERVER; default: the one you logged in to,
                        else ` + defaultServer + `)
  --apikey KEY|@file    an API key, or @apikey.json to read it from a key file (GATEHOUSE_APIKEY)
  -o table|json|yaml    output format (tables on a terminal, JSON otherwise)

Start with: gatehouse login --server URL --apikey @apikey.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          groupArgs,
		RunE:          showHelp,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddGroup(&cobra.Group{ID: "server", Title: "Running the server:"},
		&cobra.Group{ID: "session", Title: "Signing in:"},
		&cobra.Group{ID: "iam", Title: "Identity and access:"},
		&cobra.Group{ID: "apim", Title: "API Manager:"})
	for _, c := range append([]*cobra.Command{serveCmd(), initCmd(), versionCmd()}, benchCommands()...) {
		c.GroupID = "server"
		root.AddCommand(c)
	}
	for _, c := range clientCommands(e) {
		root.AddCommand(c)
	}
	return root
}

// serverConfig registers the server flags on cmd and returns a function that
// applies the environment and finalizes the config.
func serverConfig(cmd *cobra.Command) func() (config.Config, error) {
	cfg := config.Default()
	cfg.RegisterFlags(cmd.Flags())
	return func() (config.Config, error) {
		if err := config.ApplyEnv(cmd.Flags(), os.Getenv); err != nil {
			return cfg, usageError{err}
		}
		if err := cfg.Finalize(); err != nil {
			return cfg, usageError{fmt.Errorf("invalid configuration:\n%w", err)}
		}
		return cfg, nil
	}
}

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the management API, token service, console and gateway",
		Args:  noArgs,
	}
	load := serverConfig(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		a, err := app.New(ctx, cfg, app.Options{LogOutput: cmd.ErrOrStderr()})
		if err != nil {
			return err
		}
		return a.Run(ctx)
	}
	return cmd
}

func initCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the store and the bootstrap admin API key, then exit",
		Args:  noArgs,
	}
	load := serverConfig(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		made, err := app.Init(cmd.Context(), cfg, app.Options{LogOutput: io.Discard})
		if err != nil {
			return err
		}
		if made {
			fmt.Fprintf(cmd.OutOrStdout(), "Initialized %s.\nThe Administrator API key is in %s (keep it safe; it is not shown anywhere else).\n", cfg.DataDir, cfg.BootstrapFile)
		} else {
			fmt.Fprintf(cmd.OutOrStdout(), "%s is already initialized; nothing to do.\n", cfg.DataDir)
		}
		return nil
	}
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  noArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			commit := "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						commit = s.Value
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gatehouse %s\ncommit %s\n%s\n", Version, commit, runtime.Version())
		},
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
