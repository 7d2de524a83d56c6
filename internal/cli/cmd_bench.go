package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"gatehouse/internal/app"
	"gatehouse/internal/bench"
)

// benchCommands are `gatehouse bench` and the hidden commands its child
// processes run: the references (bench-ref) and, when profiling, serve with
// a pprof listener (bench-serve).
func benchCommands() []*cobra.Command {
	return []*cobra.Command{benchCmd(), benchRefCmd(), benchServeCmd()}
}

func benchCmd() *cobra.Command {
	var (
		o         bench.Options
		scenarios string
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Gatehouse against minimal reference servers (SPEC §12)",
		Long: `bench starts, as child processes of this binary, a minimal token server, a minimal
JSON handler, a bare reverse proxy with a backend, and Gatehouse itself on freshly
seeded stores; it drives each with a built-in load generator and prints requests/s,
p50/p99 latency, errors and the ratio of every Gatehouse figure to its reference,
with the target of SPEC §12, and the servers' memory and start-up times.

The load generator and all servers share this machine's CPUs. Progress goes to
stderr; --json prints one JSON document on stdout instead of the tables.`,
		Args: noArgs,
	}
	f := cmd.Flags()
	f.DurationVar(&o.Duration, "duration", 5*time.Second, "measured time of each run")
	f.DurationVar(&o.Warmup, "warmup", 0, "unmeasured time before each run (default: duration/5, at most 1s)")
	f.IntVar(&o.Concurrency, "concurrency", 32, "load-generator workers (keep-alive connections)")
	f.IntVar(&o.Keys, "keys", 100_000, "API keys in the main store (token, me)")
	f.IntVar(&o.APIs, "apis", 1, "APIs in the main store (gateway)")
	f.IntVar(&o.Apps, "apps", 1, "apps in the main store (gateway)")
	f.IntVar(&o.BaseKeys, "base-keys", 1000, "API keys in the scale scenario's baseline store")
	f.IntVar(&o.ScaleKeys, "scale-keys", 1_000_000, "API keys in the scale key store (scale, startup), which has --apis and --apps")
	f.IntVar(&o.ScaleAPIs, "scale-apis", 10_000, "APIs in the scale gateway store, which has --base-keys keys")
	f.IntVar(&o.ScaleApps, "scale-apps", 100_000, "apps in the scale gateway store")
	f.IntVar(&o.MeTokens, "me-tokens", 1000, "distinct bearer tokens used by the /v1/me run")
	f.StringVar(&o.SigningAlg, "signing-alg", "EdDSA", "signing algorithm of Gatehouse and the token reference (EdDSA or ES256)")
	f.StringVar(&scenarios, "scenarios", strings.Join(bench.AllScenarios, ","), "scenarios to run, comma-separated")
	f.StringVar(&o.Dir, "dir", "", "keep the seeded data directories here (default: a temporary directory, removed after)")
	f.BoolVar(&o.Reuse, "reuse", false, "with --dir: use data directories seeded by an earlier run with the same content again")
	f.StringVar(&o.ProfileDir, "profile", "", "write a CPU profile of Gatehouse for every run into this directory")
	f.BoolVar(&asJSON, "json", false, "print one JSON document instead of tables")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o.Scenarios = nil
		for _, s := range strings.Split(scenarios, ",") {
			if s = strings.TrimSpace(s); s != "" {
				o.Scenarios = append(o.Scenarios, s)
			}
		}
		o.Progress = cmd.ErrOrStderr()
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		rep, err := bench.Run(ctx, o)
		if rep != nil && (err == nil || len(rep.Runs) > 0) {
			var werr error
			if asJSON {
				werr = rep.WriteJSON(cmd.OutOrStdout())
			} else {
				werr = rep.WriteText(cmd.OutOrStdout())
			}
			err = errors.Join(err, werr)
		}
		return err
	}
	return cmd
}

func benchRefCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "bench-ref KIND [flags]",
		Short:              "Run one reference server of gatehouse bench",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("bench-ref needs a kind: token, json, proxy or backend")
			}
			return bench.RunRef(args[0], args[1:], cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
}

// benchServeCmd is serve with net/http/pprof on a separate loopback
// listener, for gatehouse bench --profile. Plain serve never exposes pprof.
func benchServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "bench-serve",
		Short:  "serve, with pprof on --pprof-addr (for gatehouse bench --profile)",
		Hidden: true,
		Args:   noArgs,
	}
	pprofAddr := cmd.Flags().String("pprof-addr", "127.0.0.1:0", "loopback address of the pprof listener")
	load := serverConfig(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := load()
		if err != nil {
			return err
		}
		if host, _, err := net.SplitHostPort(*pprofAddr); err != nil || !net.ParseIP(host).IsLoopback() {
			return usagef("--pprof-addr must be a loopback address, got %q", *pprofAddr)
		}
		ln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return fmt.Errorf("pprof: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		ps := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go ps.Serve(ln)
		defer ps.Close()
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
