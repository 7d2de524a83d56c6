package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON document.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes the report as tables: the checks with their runs and
// references, then the servers.
func (rep *Report) WriteText(w io.Writer) error {
	m := rep.Machine
	fmt.Fprintf(w, "Machine: %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s\n", orUnknown(m.CPU), m.CPUs, m.GOMAXPROCS, m.OS, m.Arch, m.Go)
	fmt.Fprintf(w, "Note: %s.\n", m.Note)
	c := rep.Config
	fmt.Fprintf(w, "Load: %d workers, %gs per run after %gs of warm-up, keep-alive, a random key/token/app per request; signing %s.\n\n",
		c.Concurrency, c.DurationSeconds, c.WarmupSeconds, c.SigningAlg)

	runs := map[string]Result{}
	for _, r := range rep.Runs {
		runs[r.Name] = r
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\t\treq/s\tp50\tp99\terrors\tCPU/req\tratio\ttarget\tresult\t")
	for _, ck := range rep.Checks {
		result := "FAIL"
		switch {
		case ck.Info:
			result = "info"
		case ck.Pass:
			result = "pass"
		}
		value := strconv.FormatFloat(ck.Value, 'f', 2, 64) + " " + ck.Unit
		if ck.Unit == "x" {
			value = strconv.FormatFloat(ck.Value, 'f', 2, 64) + "×"
		}
		left := ck.Scenario + "\t" + ck.Name
		if r, ok := runs[ck.Run]; ok {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", left, rps(r), ms(r.P50), ms(r.P99), r.Errors, cpuPerReq(r), value, ck.Target, result)
		} else {
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t%s\t%s\t%s\t\n", left, value, ck.Target, result)
		}
		if r, ok := runs[ck.Reference]; ok {
			fmt.Fprintf(tw, "\t  vs %s (%s)\t%s\t%s\t%s\t%d\t%s\t\t\t\t\n", r.Name, r.Server, rps(r), ms(r.P50), ms(r.P99), r.Errors, cpuPerReq(r))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "server\trecords\tpeak RSS\tRSS\tstart-up\tkey cache warm\tseeding\t")
	for _, s := range rep.Servers {
		start, warm, seed := "", "", ""
		if s.StartupMS > 0 {
			start = strconv.FormatFloat(s.StartupMS, 'f', 0, 64) + " ms"
			warm = "+" + strconv.FormatFloat(s.WarmMS, 'f', 0, 64) + " ms"
		}
		if s.SeedSeconds > 0 {
			seed = strconv.FormatFloat(s.SeedSeconds, 'f', 1, 64) + " s"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Name, s.Records, mb(s.PeakRSSBytes), mb(s.RSSBytes), start, warm, seed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var failed []string
	for _, r := range rep.Runs {
		if r.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s: %d errors, first: %s", r.Name, r.Errors, r.FirstError))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nErrors:\n  %s\n", strings.Join(failed, "\n  "))
	}
	return nil
}

func cpuPerReq(r Result) string {
	if r.CPUPerRequestUS <= 0 {
		return "?"
	}
	return strconv.FormatFloat(r.CPUPerRequestUS, 'f', 0, 64) + " µs"
}

func rps(r Result) string { return strconv.FormatFloat(r.RPS, 'f', 0, 64) }

func mb(b int64) string {
	if b <= 0 {
		return "?"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MB"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}
