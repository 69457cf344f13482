package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmsless/kmsless/core"
)

// TestStoreRecoversWhenPostgresRestarts runs writers and readers against a
// PostgreSQL server of its own, crashes the server mid-load (immediate shutdown:
// no checkpoint, WAL recovery on the way back) and starts it again. While it is
// down every failure must be ErrUnavailable; once it is back the same Store must
// serve again without being reopened, and every key acknowledged before, during
// or after the outage must be there with its first version.
func TestStoreRecoversWhenPostgresRestarts(t *testing.T) {
	srv := startPostgres(t)
	ctx := context.Background()
	s, err := Open(ctx, srv.url())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	var (
		mu       sync.Mutex
		acked    []string
		next     atomic.Int64
		failures atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	// tolerate records an outage failure and paces the caller; anything but
	// ErrUnavailable fails the test.
	tolerate := func(op string, err error) {
		if !errors.Is(err, core.ErrUnavailable) {
			t.Errorf("%s during the restart: %v (want nil or ErrUnavailable)", op, err)
			stop.Store(true)
		}
		failures.Add(1)
		time.Sleep(10 * time.Millisecond)
	}
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				id := fmt.Sprintf("key-%06d", next.Add(1))
				now := time.Now().UTC().Truncate(time.Microsecond)
				k := core.Key{ID: id, State: core.KeyEnabled, CreatedAt: now, PrimaryVersionID: id + "-v1", Revision: 1}
				err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: id, VersionID: k.PrimaryVersionID, CreatedAt: now, Wrapped: []byte(id)})
				if err != nil {
					tolerate("CreateKey", err)
					continue
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				mu.Lock()
				var id string
				if len(acked) > 0 {
					id = acked[i%len(acked)]
				}
				mu.Unlock()
				if id == "" {
					time.Sleep(time.Millisecond)
					continue
				}
				if _, err := s.GetKey(ctx, id); err != nil {
					tolerate("GetKey", err)
				}
			}
		})
	}
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) || stop.Load() {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("gave up waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	waitFor("writes before the crash", func() bool { return ackedCount() >= 100 })
	srv.crash()
	beforeRestart := failures.Load()
	waitFor("failures while the server is down", func() bool { return failures.Load() >= beforeRestart+20 })
	srv.start()
	restartedAt := ackedCount()
	waitFor("writes after the restart", func() bool { return ackedCount() >= restartedAt+100 })
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}

	for _, id := range acked {
		if _, err := s.GetKey(ctx, id); err != nil {
			t.Fatalf("acknowledged key %s after the restart: %v", id, err)
		}
		if _, err := s.GetVersion(ctx, id, id+"-v1"); err != nil {
			t.Fatalf("first version of acknowledged key %s after the restart: %v", id, err)
		}
	}
	t.Logf("%d keys acknowledged, %d calls failed as unavailable across the restart", len(acked), failures.Load())
}

// A store opened again over the same database keeps its keys' last uses
// and since when it has kept them: the time is the migration's, written
// once.
func TestReopenKeepsKeyUsageAndSince(t *testing.T) {
	ctx := context.Background()
	schema := newSchema("usage_reopen")
	s, err := Open(ctx, testURL, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)
	k := core.Key{ID: "key-a", State: core.KeyEnabled, CreatedAt: at, PrimaryVersionID: "key-a-v1", Revision: 1}
	use := core.KeyUsage{Action: "Encrypt", At: at, RequestID: "req-1"}
	if err := s.CreateKey(ctx, k, core.KeyVersion{KeyID: k.ID, VersionID: k.PrimaryVersionID, CreatedAt: at, Wrapped: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKeyUsage(ctx, k.ID, use); err != nil {
		t.Fatal(err)
	}
	_, since, err := s.KeyUsage(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	if s, err = Open(ctx, testURL, WithSchema(schema)); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, again, err := s.KeyUsage(ctx, k.ID)
	if err != nil || got != use || !again.Equal(since) {
		t.Fatalf("KeyUsage after reopen = %+v, since %v, %v; want %+v, since %v", got, again, err, use, since)
	}
}

// pgServer is a PostgreSQL server owned by one test.
type pgServer struct {
	t        *testing.T
	bin, dir string
	port     int
	cred     *syscall.Credential
	cmd      *exec.Cmd
	exited   chan struct{}
	logFile  *os.File
}

// startPostgres initialises a cluster in a temporary directory and starts it on
// a free port. PostgreSQL refuses to run as root, so under root the server runs
// as the postgres (or nobody) user.
func startPostgres(t *testing.T) *pgServer {
	bin := postgresBinDir()
	if bin == "" {
		t.Skip("PostgreSQL server binaries (initdb, postgres) are not installed")
	}
	srv := &pgServer{t: t, bin: bin}
	dir, err := os.MkdirTemp("", "kmsless-pg-")
	if err != nil {
		t.Fatal(err)
	}
	srv.dir = dir
	t.Cleanup(func() {
		srv.stop()
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		srv.cred = unprivilegedUser(t)
		if err := os.Chown(dir, int(srv.cred.Uid), int(srv.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if srv.logFile, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
		t.Fatal(err)
	}
	initdb := srv.command("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	srv.port = closedPort(t)
	srv.start()
	return srv
}

func postgresBinDir() string {
	if path, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(path)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

func unprivilegedUser(t *testing.T) *syscall.Credential {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	t.Fatal("running as root and no postgres or nobody user to run PostgreSQL as")
	return nil
}

func (srv *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(srv.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Dir = srv.dir
	if srv.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: srv.cred}
	}
	return cmd
}

func (srv *pgServer) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", srv.port)
}

// start runs the server and waits until it accepts connections.
func (srv *pgServer) start() {
	t := srv.t
	cmd := srv.command("postgres", "-D", filepath.Join(srv.dir, "data"), "-p", strconv.Itoa(srv.port), "-k", srv.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=16MB", "-c", "max_connections=30")
	cmd.Stdout, cmd.Stderr = srv.logFile, srv.logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	srv.cmd, srv.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(srv.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, srv.url())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		select {
		case <-srv.exited:
			log, _ := os.ReadFile(srv.logFile.Name())
			t.Fatalf("postgres exited during start-up:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not accept connections: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crash stops the server as a crash would: SIGQUIT is PostgreSQL's immediate
// shutdown, which skips the checkpoint and leaves recovery to the next start.
func (srv *pgServer) crash() {
	if err := srv.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		srv.t.Fatal(err)
	}
	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		srv.t.Fatal("postgres did not stop")
	}
}

func (srv *pgServer) stop() {
	if srv.cmd == nil {
		return
	}
	select {
	case <-srv.exited:
	default:
		_ = srv.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-srv.exited:
		case <-time.After(30 * time.Second):
			_ = srv.cmd.Process.Kill()
		}
	}
	srv.logFile.Close()
}
