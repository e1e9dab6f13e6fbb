package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pgCluster is a throwaway Postgres cluster in a temporary directory, run
// with the system's initdb and pg_ctl.
type pgCluster struct {
	dir   string // holds data/, server.log and the socket; removed by destroy
	bin   pgBinaries
	owner *osUser // who runs initdb and the server; nil: the current user

	mu      sync.Mutex
	port    int
	running bool
}

// pgBinaries are the programs needed to run a cluster.
type pgBinaries struct{ initdb, pgCtl string }

// osUser is an account to drop root privileges to.
type osUser struct {
	name     string
	uid, gid uint32
}

// pgConf is appended to postgresql.conf: a fast, loopback-only server.
// fsync and full_page_writes only matter when the machine crashes; commits
// stay synchronous so that data survives Stop (a killed server) as it
// would in production.
const pgConf = `
# added by storetest
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
fsync = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
`

// startCluster creates a cluster and starts it on a free loopback port,
// picking another port if the chosen one was taken meanwhile.
func startCluster() (*pgCluster, error) {
	c, err := initCluster()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, errors.Join(err, c.destroy())
		}
		c.port = port
		logStart := c.logSize()
		err = c.start()
		if err == nil {
			return c, nil
		}
		if attempt == 5 || !strings.Contains(c.logSince(logStart), "already in use") {
			return nil, errors.Join(err, c.destroy())
		}
	}
}

// initCluster runs initdb into a new temporary directory.
func initCluster() (*pgCluster, error) {
	bin, err := findPGBinaries()
	if err != nil {
		return nil, err
	}
	owner, err := serverOwner()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "opsreview-pg-")
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	c := &pgCluster{dir: dir, bin: bin, owner: owner}
	if owner != nil {
		if err := prepareForOwner(dir, owner); err != nil {
			return nil, errors.Join(err, c.destroy())
		}
	}
	if err := c.run(bin.initdb, "-D", c.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, errors.Join(err, c.destroy())
	}
	// A Unix socket path is limited to about 100 bytes; TCP is all we use.
	sock := dir
	if len(sock) > 80 {
		sock = ""
	}
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = fmt.Fprintf(f, pgConf, sock)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("configure cluster: %w", err), c.destroy())
	}
	return c, nil
}

// dataDir is the cluster's data directory.
func (c *pgCluster) dataDir() string { return filepath.Join(c.dir, "data") }

// logFile is where the server writes its log.
func (c *pgCluster) logFile() string { return filepath.Join(c.dir, "server.log") }

// url returns the connection URL of database db as superuser postgres.
func (c *pgCluster) url(db string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", c.port, db)
}

// start starts the server on c.port and waits until it accepts connections.
func (c *pgCluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	err := c.run(c.bin.pgCtl, "start", "-D", c.dataDir(), "-l", c.logFile(), "-w", "-t", "120",
		"-o", "-p "+strconv.Itoa(c.port))
	if err != nil {
		return fmt.Errorf("%w\nserver log:\n%s", err, c.logTail())
	}
	c.running = true
	return nil
}

// stop kills the server at once, as a crash or an outage would.
func (c *pgCluster) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if err := c.run(c.bin.pgCtl, "stop", "-D", c.dataDir(), "-m", "immediate", "-w", "-t", "120"); err != nil {
		return err
	}
	c.running = false
	return nil
}

// destroy stops the server if it runs and removes every file of the cluster.
func (c *pgCluster) destroy() error {
	err := c.stop()
	if rmErr := os.RemoveAll(c.dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove cluster directory: %w", rmErr))
	}
	return err
}

// run runs one of the Postgres programs as the cluster's owner.
func (c *pgCluster) run(bin string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// The owner may not be able to enter the caller's working directory, and
	// initdb and pg_ctl refuse to run there.
	cmd.Dir = c.dir
	cmd.Env = pgEnv(c.dir)
	// pg_ctl's server detaches with its output in the log file; never wait
	// long for a stray inherited pipe.
	cmd.WaitDelay = 5 * time.Second
	if c.owner != nil {
		runAs(cmd, c.owner)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// logSize is the current length of the server log.
func (c *pgCluster) logSize() int64 {
	fi, err := os.Stat(c.logFile())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logSince returns what the server logged after offset.
func (c *pgCluster) logSince(offset int64) string {
	f, err := os.Open(c.logFile())
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// logTail returns the last lines of the server log, for failure messages.
func (c *pgCluster) logTail() string {
	b, err := os.ReadFile(c.logFile())
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	return tail(string(b), 30)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pgEnv is the environment for Postgres programs: ours without PG*
// variables, which could point them at another server or data directory.
func pgEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

// findPGBinaries looks for initdb and pg_ctl in PATH, then in Debian's
// versioned directories (newest first), where the postgresql package puts them.
func findPGBinaries() (pgBinaries, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if pgCtl, err := exec.LookPath("pg_ctl"); err == nil {
			return pgBinaries{initdb: initdb, pgCtl: pgCtl}, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		b := pgBinaries{initdb: filepath.Join(d, "initdb"), pgCtl: filepath.Join(d, "pg_ctl")}
		if isExecutable(b.initdb) && isExecutable(b.pgCtl) {
			return b, nil
		}
	}
	return pgBinaries{}, errors.New("initdb and pg_ctl not found in PATH or /usr/lib/postgresql/*/bin: install Postgres (apt-get install postgresql) or set " + envTestURL)
}

// pgVersion extracts the major version from /usr/lib/postgresql/<v>/bin.
func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// isExecutable reports whether path is a regular file someone may execute.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// serverOwner returns the account to run Postgres as: nil when we are not
// root, else postgres (or nobody), since initdb and postgres refuse root.
func serverOwner() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, errU := strconv.ParseUint(u.Uid, 10, 32)
		gid, errG := strconv.ParseUint(u.Gid, 10, 32)
		if errU != nil || errG != nil {
			continue
		}
		return &osUser{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, which initdb refuses, and there is no postgres or nobody user to run it as")
}

// prepareForOwner hands dir to owner and checks that owner can reach it.
func prepareForOwner(dir string, owner *osUser) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check cluster directory parent: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("user %s cannot enter %s (mode %v): set TMPDIR to a directory every user can reach", owner.name, p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
		return fmt.Errorf("give cluster directory to %s: %w", owner.name, err)
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago. Callers
// retry with another port when the server then fails to bind.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}
