//go:build unix

package cluster_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gatehouse/client"
)

// binary is the gatehouse command, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-cluster-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	args := []string{"build", "-o", binary}
	if raceEnabled() {
		// The packages are already compiled with -race for this test binary,
		// so this costs one link, and the nodes report their own races.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "gatehouse/cmd/gatehouse")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	printMeasurements()
	os.RemoveAll(dir)
	os.Exit(code)
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// childEnv is the environment without GATEHOUSE_* variables, so that neither
// the caller's settings nor the test services' variables reach the nodes.
func childEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GATEHOUSE_") })
}

// logSink collects a node's stderr (JSON log records, one a line).
type logSink struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	records []map[string]any
	serving chan map[string]any // gets the first "serving" record
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := l.partial[:i]
		l.partial = l.partial[i+1:]
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil {
			continue // the race detector's reports, a panic: kept in all
		}
		l.records = append(l.records, rec)
		if rec["msg"] == "serving" {
			select {
			case l.serving <- rec:
			default:
			}
		}
	}
	return len(p), nil
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// count returns how many records have a message starting with prefix.
func (l *logSink) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if msg, _ := r["msg"].(string); strings.HasPrefix(msg, prefix) {
			n++
		}
	}
	return n
}

// find returns the first record whose message starts with prefix.
func (l *logSink) find(prefix string) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if msg, _ := r["msg"].(string); strings.HasPrefix(msg, prefix) {
			return r
		}
	}
	return nil
}

// tail is the last n lines of the log, for failure reports.
func (l *logSink) tail(n int) string {
	lines := strings.Split(strings.TrimRight(l.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cluster is a set of nodes sharing one database, one Redis, one master key
// and one issuer.
type cluster struct {
	t         *testing.T
	db, redis string
	masterKey string // path of the shared key file
	dir       string // holds each node's data directory
}

// issuer is the one public URL every node signs with (docs/cluster.md).
const issuer = "http://gatehouse.cluster.test"

// newCluster prepares a cluster on database db and Redis redisURL; it starts
// no node. The master key file is 64 hex characters, mode 0600.
func newCluster(t *testing.T, db, redisURL string) *cluster {
	t.Helper()
	dir := t.TempDir()
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatal(err)
	}
	mk := filepath.Join(dir, "master.key")
	if err := os.WriteFile(mk, []byte(hex.EncodeToString(key[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cluster{t: t, db: db, redis: redisURL, masterKey: mk, dir: dir}
}

// node is one running `gatehouse serve` process in its own process group.
type node struct {
	t       *testing.T
	name    string
	data    string
	cmd     *exec.Cmd
	log     *logSink
	exited  chan struct{}
	waitErr error

	// from the serving record
	Addr, GatewayAddr string
}

// launch starts node name (data directory <cluster dir>/name, kept across
// restarts) without waiting for it to serve. Its process group is killed
// when the test ends, whatever happened.
func (c *cluster) launch(name string) *node {
	t := c.t
	t.Helper()
	n := &node{t: t, name: name, data: filepath.Join(c.dir, name),
		log: &logSink{serving: make(chan map[string]any, 1)}, exited: make(chan struct{})}
	n.cmd = exec.Command(binary, "serve", "--data", n.data,
		"--addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0", "--log-format", "json",
		"--database", c.db, "--redis", c.redis, "--master-key-file", c.masterKey, "--issuer", issuer)
	n.cmd.Env = childEnv()
	n.cmd.Stderr = n.log
	n.cmd.Stdout = n.log
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", name, err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-n.exited:
		default:
			_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
			<-n.exited
		}
		if strings.Contains(n.log.String(), "WARNING: DATA RACE") {
			t.Errorf("node %s reported a data race:\n%s", name, n.log)
		}
		if t.Failed() {
			t.Logf("node %s (pid %d), last log lines:\n%s", name, n.cmd.Process.Pid, n.log.tail(25))
		}
	})
	return n
}

// await waits for the node's serving record.
func (n *node) await() *node {
	n.t.Helper()
	select {
	case rec := <-n.log.serving:
		n.Addr, _ = rec["addr"].(string)
		n.GatewayAddr, _ = rec["gateway_addr"].(string)
		if n.Addr == "" || n.GatewayAddr == "" || rec["issuer"] != issuer {
			n.t.Fatalf("node %s: serving record %v", n.name, rec)
		}
		return n
	case <-n.exited:
		n.t.Fatalf("node %s exited before serving (%v):\n%s", n.name, n.waitErr, n.log)
	case <-time.After(60 * time.Second):
		n.t.Fatalf("node %s did not log serving within 60s:\n%s", n.name, n.log)
	}
	return nil
}

// start starts node name and waits until it serves.
func (c *cluster) start(name string) *node {
	c.t.Helper()
	return c.launch(name).await()
}

// startAll starts the named nodes at the same moment (one right after the
// other, before any is waited for) and waits until every one serves.
func (c *cluster) startAll(names ...string) []*node {
	c.t.Helper()
	nodes := make([]*node, len(names))
	for i, name := range names {
		nodes[i] = c.launch(name)
	}
	for _, n := range nodes {
		n.await()
	}
	return nodes
}

// kill9 kills the node's process group with SIGKILL: no shutdown code runs.
func (n *node) kill9() {
	n.t.Helper()
	if err := syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		n.t.Fatalf("kill -9 node %s: %v", n.name, err)
	}
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.t.Fatalf("node %s still runs 30s after SIGKILL", n.name)
	}
	if code := n.cmd.ProcessState.ExitCode(); code != -1 {
		n.t.Fatalf("node %s: exit code %d after SIGKILL, want death by signal", n.name, code)
	}
}

// mgmtURL and gwURL are the node's base URLs.
func (n *node) mgmtURL() string { return "http://" + n.Addr }
func (n *node) gwURL() string   { return "http://" + n.GatewayAddr }

// httpClient bounds every request the tests make, so that a server that
// hangs fails the test instead of stalling it; 20 s is well past the 10 s
// the fault tests allow.
var httpClient = &http.Client{
	Timeout:   20 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second},
}

// client is an SDK client of the node's management API.
func (n *node) client() *client.Client {
	return client.New(n.mgmtURL()).WithHTTPClient(httpClient)
}
