package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a server process started by the benchmark.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	URL   string // base URL of its (main) listener
	done  chan error
	log   *syncBuf // the start of its stderr, for error messages
}

// startRef starts `EXE bench-ref KIND ARGS…` and waits for its READY line.
func (o *Options) startRef(ctx context.Context, kind string, args ...string) (*child, error) {
	c, err := o.spawn(kind, append([]string{"bench-ref", kind}, args...))
	if err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		if !ok || !strings.HasPrefix(l, "READY ") {
			c.stop()
			return nil, fmt.Errorf("reference %s did not start: %s", kind, c.log.String())
		}
		c.URL = strings.TrimPrefix(l, "READY ")
		return c, nil
	case <-time.After(2 * time.Minute):
		c.stop()
		return nil, fmt.Errorf("reference %s did not start within 2 minutes", kind)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

func (o *Options) spawn(name string, args []string) (*child, error) {
	cmd := exec.Command(o.Exe, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	c := &child{name: name, cmd: cmd, done: make(chan error, 1), log: &syncBuf{n: 64 << 10}}
	cmd.Stderr = c.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	c.stdin = stdin
	return c, nil
}

func (c *child) start() error {
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	return nil
}

// stop asks the process to end (SIGTERM, then its stdin closes) and waits
// up to 30 s before killing it.
func (c *child) stop() error {
	if c == nil || c.cmd.Process == nil {
		return nil
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.stdin.Close()
	select {
	case err := <-c.done:
		c.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) && !ee.Exited() { // ended by the signal itself
			return nil
		}
		return err
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 30 s; killed", c.name)
	}
}

// memory reads the peak and current resident set size of the process, in
// bytes, from /proc (zero where /proc is missing).
func (c *child) memory() (hwm, rss int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			hwm = n << 10
		case "VmRSS:":
			rss = n << 10
		}
	}
	return hwm, rss
}

// cpuTime is the user and system CPU time the process has used so far, from
// /proc (zero where /proc is missing).
func (c *child) cpuTime() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14 and stime 15 (in clock ticks).
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is the kernel's USER_HZ, 100 on every Linux Go supports.
const clockTicks = 100

// freePort returns a loopback address nobody listens on right now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// gatehouse is a `gatehouse serve` child with its two listeners.
type gatehouse struct {
	*child
	Gateway string        // gateway base URL
	Startup time.Duration // process start → /readyz 200
	Warm    time.Duration // /readyz 200 → key digest cache warmed (gatehouse_key_cache_warm 1)
	pprof   string        // base URL of its pprof listener, if any
}

// startGatehouse runs `gatehouse serve` on dir and measures the time from
// process start to the first 200 from /readyz, then waits for the warm-up
// of its key digest cache, which runs after it is ready, to end: the runs
// measure the server in its steady state, and the wait is reported.
func (o *Options) startGatehouse(ctx context.Context, name, dir string) (*gatehouse, error) {
	var last error
	for range 3 { // a free port may be taken between the check and the bind
		addr, err := freePort()
		if err != nil {
			return nil, err
		}
		gw, err := freePort()
		if err != nil {
			return nil, err
		}
		args := []string{"serve", "--data", dir, "--addr", addr, "--gateway-addr", gw,
			"--log-level", "error", "--signing-alg", o.SigningAlg}
		var pp string
		if o.ProfileDir != "" {
			if pp, err = freePort(); err != nil {
				return nil, err
			}
			args = append([]string{"bench-serve", "--pprof-addr", pp}, args[1:]...)
		}
		c, err := o.spawn(name, args)
		if err != nil {
			return nil, err
		}
		c.cmd.Stdout = io.Discard
		g := &gatehouse{child: c, Gateway: "http://" + gw}
		if pp != "" {
			g.pprof = "http://" + pp
		}
		c.URL = "http://" + addr
		began := time.Now()
		if err := c.start(); err != nil {
			return nil, err
		}
		if err := waitReady(ctx, c, c.URL+"/readyz"); err != nil {
			c.stop()
			last = err
			continue
		}
		g.Startup = time.Since(began)
		if err := waitMetric(ctx, c, c.URL+"/metrics", "gatehouse_key_cache_warm 1"); err != nil {
			c.stop()
			return nil, err
		}
		g.Warm = time.Since(began) - g.Startup
		return g, nil
	}
	return nil, last
}

// waitReady polls url every 2 ms until it answers 200, the process exits, or
// a minute passes.
func waitReady(ctx context.Context, c *child, url string) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("%s exited before it was ready (%v): %s", c.name, err, c.log.String())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if res, err := hc.Get(url); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s was not ready within a minute: %s", c.name, c.log.String())
}

// waitMetric polls a /metrics url every 10 ms until it has the line want,
// the process exits, or two minutes pass.
func waitMetric(ctx context.Context, c *child, url, want string) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("%s exited (%v): %s", c.name, err, c.log.String())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if res, err := hc.Get(url); err == nil {
			body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			res.Body.Close()
			for line := range strings.Lines(string(body)) {
				if strings.TrimSpace(line) == want {
					return nil
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s: no %q in /metrics within two minutes", c.name, want)
}

// syncBuf keeps the first n bytes written to it; safe for concurrent use.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
	n  int
}

func (w *syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.n - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (w *syncBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(w.b.String())
}
