// Command kmsless holds an operator's maintenance commands, run against a
// deployment's store with the deployment's own settings (KMS_STORE, the root
// key variables):
//
//	kmsless rotate-root [-batch 100]
//	kmsless seal-principals principals.yaml > principals.sealed
//	kmsless seal-store-password < password.txt
//	kmsless seal-redis-password < password.txt
//	kmsless audit verify [filters] FILE…
//	kmsless audit query [filters] FILE…
//	kmsless client-key ID [DIR]
//	kmsless copy-store TO
//	kmsless purge
//	kmsless healthcheck
//	kmsless serve
//
// rotate-root re-wraps every key version under the current root key
// (KMS_ROOT_KEY), opening those the previous one wrapped
// (KMS_ROOT_KEY_PREVIOUS), while instances keep serving. It can be stopped at
// any point and run again; once it reports success the previous root key can
// be dropped. README "Root key rotation" gives the whole procedure.
//
// seal-principals, seal-store-password and seal-redis-password seal a
// secret under the current root key, for KMS_PRINCIPALS_FILE,
// KMS_STORE_PASSWORD_SEALED and KMS_REDIS_PASSWORD_SEALED (README "Secrets"). They need the root key as the functions have it (with a cloud
// source, credentials allowed to decrypt its blob) and nothing else.
//
// client-key makes a client key for the KMS instance API: Alibaba's client
// key file and its password, in DIR (the current one by default), for the
// application's SDK, and on standard output the clientKeys entry that lets
// the key sign for a principal. It needs no settings.
//
// copy-store copies every record of the deployment's store (KMS_STORE) into
// the empty store TO (bolt:///path or postgres://…): to move from bbolt to
// PostgreSQL, or to back a store up into a bbolt file, restored by running it
// again with KMS_STORE naming the backup. A PostgreSQL store is copied as of
// one moment while instances keep serving. It needs no root key unless
// KMS_STORE's password is sealed.
//
// purge destroys every key and secret past its deletion date that the store
// still holds: requests destroy those they meet, and nothing else runs
// between them, so run it on a schedule to keep the material of deleted keys
// from outliving their dates in the store and its backups. It needs the
// deployment's settings, as rotate-root does, and can run beside serving
// instances. Each destruction is recorded in KMS_AUDIT_LOG, in a chain of
// the command's own; a record it cannot write makes it exit 1.
//
// audit verify checks the audit trail's chains; audit query also answers who
// did what, filtered by key, alias, principal, partition, action, error code
// and time.
//
// healthcheck asks the api server the environment describes, on this
// machine, whether it is ready (/readyz), and exits 0 if it is: the
// container image's HEALTHCHECK.
//
// serve is the api server, as functions/api runs it. The container image
// holds this one program, and kmsless-api, its default command, is a link to
// it: by that name it is the api server too.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kmsless/kmsless/core"
	"github.com/kmsless/kmsless/infra/clientkey"
	"github.com/kmsless/kmsless/infra/config"
	"github.com/kmsless/kmsless/infra/platform"
	"github.com/kmsless/kmsless/infra/principals"
	"github.com/kmsless/kmsless/infra/sealed"
	"github.com/kmsless/kmsless/infra/store/bolt"
	"github.com/kmsless/kmsless/infra/store/postgres"
	"github.com/kmsless/kmsless/infra/store/storecopy"
)

func main() {
	if serves(os.Args) {
		svc := platform.Load()
		platform.Start(svc, platform.API(svc))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// serves reports whether args (os.Args) ask for the api server: kmsless
// serve, or this program by the image's name for it, kmsless-api, with any
// arguments (which the api server, like functions/api, takes none of).
func serves(args []string) bool {
	return filepath.Base(args[0]) == "kmsless-api" || len(args) == 2 && args[1] == "serve"
}

const usage = `usage:
  kmsless rotate-root [-batch 100]        re-wrap every key version under KMS_ROOT_KEY
  kmsless seal-principals FILE            print FILE sealed under KMS_ROOT_KEY
  kmsless seal-store-password             print the password read from stdin, sealed
  kmsless seal-redis-password             print the password read from stdin, sealed for KMS_REDIS_PASSWORD_SEALED
  kmsless audit verify [filters] FILE…    check every chain; print the records that match filters, if any
  kmsless audit query  [filters] FILE…    print the matching records (and check the chains)
                                          run "kmsless audit query -h" for the filters
  kmsless client-key ID [DIR]             make a client key: its file and password in DIR, its principals entry on stdout
  kmsless copy-store TO                   copy every record of KMS_STORE into the empty store TO (bolt:// or postgres://)
  kmsless purge                           destroy the keys and secrets past their deletion dates that KMS_STORE still holds
  kmsless healthcheck                     exit 0 if the api server the environment describes answers /readyz with 200
  kmsless serve                           run the api server (as go run ./functions/api does)
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "rotate-root":
		return rotateRoot(ctx, args[1:], stdout, stderr)
	case "audit":
		if len(args) < 2 {
			break
		}
		return auditCommand(args[1], args[2:], stdout, stderr, os.Getenv)
	case "seal-principals":
		if len(args) != 2 {
			break
		}
		return seal(ctx, sealed.Principals, func() ([]byte, error) {
			b, err := os.ReadFile(args[1])
			if err == nil {
				_, err = principals.Parse(b)
			}
			return b, err
		}, stdout, stderr)
	case "client-key":
		if len(args) != 2 && len(args) != 3 {
			break
		}
		dir := "."
		if len(args) == 3 {
			dir = args[2]
		}
		return clientKey(args[1], dir, stdout, stderr)
	case "copy-store":
		if len(args) != 2 {
			break
		}
		return copyStore(ctx, args[1], stdout, stderr)
	case "purge":
		if len(args) != 1 {
			break
		}
		return purge(ctx, stdout, stderr)
	case "healthcheck":
		if len(args) != 1 {
			break
		}
		return healthcheck(ctx, stdout, stderr)
	case "seal-store-password", "seal-redis-password":
		if len(args) != 1 {
			break
		}
		kind := sealed.StorePassword
		if args[0] == "seal-redis-password" {
			kind = sealed.RedisPassword
		}
		return seal(ctx, kind, func() ([]byte, error) {
			b, err := io.ReadAll(io.LimitReader(stdin, 4096))
			b = bytes.TrimRight(b, "\r\n")
			if err == nil && len(b) == 0 {
				err = errors.New("no password on standard input")
			}
			return b, err
		}, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "kmsless: unknown command %q\n", args[0])
	}
	fmt.Fprint(stderr, usage)
	return 2
}

// seal prints the secret read() returns, sealed as kind under the root key.
func seal(ctx context.Context, kind string, read func() ([]byte, error), stdout, stderr io.Writer) int {
	b, err := read()
	defer clear(b)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless: %s: %v\n", kind, err)
		return 1
	}
	set, err := config.Read(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless: %v\n", err)
		return 1
	}
	root, err := config.CurrentRootKey(ctx, set, config.NewLogger(set, stderr))
	if err != nil {
		fmt.Fprintf(stderr, "kmsless: %v\n", err)
		return 1
	}
	text, err := sealed.Seal(root, kind, b)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, text)
	fmt.Fprintf(stderr, "sealed the %s under root key %s\n", kind, root.ID())
	return 0
}

// afterWrite, when set (by tests), sees the progress after every store write.
var afterWrite func(core.RewrapProgress)

func rotateRoot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rotate-root", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 100, "versions re-wrapped per store write")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *batch < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	svc, err := config.Load(ctx, config.Maintenance())
	if err != nil {
		fmt.Fprintf(stderr, "kmsless rotate-root: %v\n", err)
		return 1
	}
	defer svc.Close()
	ids := svc.KMS.RootKeyIDs()
	fmt.Fprintf(stderr, "re-wrapping every key version under root key %s (opening with %v)\n", ids[0], ids)
	p, err := svc.KMS.RewrapRoot(ctx, core.RewrapOptions{Batch: *batch, Progress: func(p core.RewrapProgress) {
		if afterWrite != nil {
			afterWrite(p)
		}
		fmt.Fprintf(stderr, "pass %d: %d keys and %d versions read, %d re-wrapped; %d certificates read, %d re-wrapped\n",
			p.Passes, p.Keys, p.Versions, p.Rewrapped, p.Certificates, p.CertificatesRewrapped)
	}})
	if err != nil {
		fmt.Fprintf(stderr, "kmsless rotate-root: %v (%d versions re-wrapped so far; run it again to go on)\n", err, p.Rewrapped)
		return 1
	}
	fmt.Fprintf(stdout, "re-wrapped %d versions; all %d versions of %d keys are under root key %s\n", p.Rewrapped, p.Versions, p.Keys, ids[0])
	if p.Certificates > 0 {
		fmt.Fprintf(stdout, "re-wrapped %d certificates' private keys; all %d certificates are under root key %s\n", p.CertificatesRewrapped, p.Certificates, ids[0])
	}
	if len(ids) > 1 {
		fmt.Fprintf(stdout, "the previous root key %s wraps nothing now: drop KMS_ROOT_KEY_PREVIOUS from every function\n", ids[1])
	}
	return 0
}

// copyStore copies the deployment's store into the empty store at to. The
// URLs are never printed: a PostgreSQL one may hold a password.
func copyStore(ctx context.Context, to string, stdout, stderr io.Writer) int {
	set, err := config.Read(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless copy-store: %v\n", err)
		return 1
	}
	if to == set.Store {
		fmt.Fprintln(stderr, "kmsless copy-store: TO is KMS_STORE itself")
		return 2
	}
	from, err := config.DeploymentStore(ctx, set, config.NewLogger(set, stderr))
	if err != nil {
		fmt.Fprintf(stderr, "kmsless copy-store: KMS_STORE: %v\n", err)
		return 1
	}
	defer from.Close()
	// A PostgreSQL store is read as of one moment, whatever instances write
	// while the copy runs; a bbolt file is locked by whoever serves it.
	if pg, ok := from.(*postgres.Store); ok {
		snap, err := pg.Snapshot(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "kmsless copy-store: KMS_STORE: %v\n", err)
			return 1
		}
		defer snap.Close()
		from = snap
	}
	dest, err := config.OpenStore(ctx, to)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless copy-store: TO: %v\n", err)
		return 1
	}
	defer dest.Close()
	n, err := copyInto(ctx, from, dest)
	if errors.Is(err, storecopy.ErrNotEmpty) {
		fmt.Fprintf(stderr, "kmsless copy-store: %v: copy into an empty store\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmsless copy-store: %v\n(nothing was copied: TO is as it was; run it again)\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "copied %s\n", n)
	return 0
}

// copyInto copies from into to in one transaction of to's: written once,
// and not at all when the copy fails.
func copyInto(ctx context.Context, from, to storecopy.Store) (storecopy.Counts, error) {
	switch to := to.(type) {
	case *postgres.Store:
		return storecopy.CopyInTransaction[*postgres.Store](ctx, from, to, time.Now())
	case *bolt.Store:
		return storecopy.CopyInTransaction[*bolt.Store](ctx, from, to, time.Now())
	}
	return storecopy.Counts{}, fmt.Errorf("a store of type %T takes no transaction", to)
}

// purge destroys what the deployment's store holds past its deletion date,
// naming each key and secret it destroyed.
func purge(ctx context.Context, stdout, stderr io.Writer) int {
	svc, err := config.Load(ctx, config.Maintenance())
	if err != nil {
		fmt.Fprintf(stderr, "kmsless purge: %v\n", err)
		return 1
	}
	defer svc.Close()
	p, err := svc.KMS.Purge(ctx)
	for _, id := range p.Keys {
		fmt.Fprintf(stdout, "destroyed key %s\n", id)
	}
	for _, name := range p.Secrets {
		fmt.Fprintf(stdout, "destroyed secret %s\n", name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmsless purge: %v (run it again to go on)\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "destroyed %s and %s past their deletion dates\n", counted(len(p.Keys), "key"), counted(len(p.Secrets), "secret"))
	if n := svc.Edge.UnrecordedDestructions(); n > 0 {
		fmt.Fprintf(stderr, "kmsless purge: %s could not be written to KMS_AUDIT_LOG (logged above); the destructions stand\n", counted(int(n), "record"))
		return 1
	}
	return 0
}

// counted is n of noun, in words: "1 key", "2 keys".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// clientKey writes a new client key's file and password into dir, as
// clientKey_ID.json and clientKey_ID_Password.txt (Alibaba's names), readable
// by their owner alone and never over a file already there, and prints its
// principals entry.
func clientKey(id, dir string, stdout, stderr io.Writer) int {
	k, err := clientkey.Make(id)
	if err != nil {
		fmt.Fprintf(stderr, "kmsless: client-key: %v\n", err)
		return 1
	}
	file := filepath.Join(dir, "clientKey_"+id+".json")
	password := filepath.Join(dir, "clientKey_"+id+"_Password.txt")
	for _, f := range []struct {
		path string
		data []byte
	}{{file, k.File}, {password, []byte(k.Password)}} {
		if err := writeNew(f.path, f.data); err != nil {
			fmt.Fprintf(stderr, "kmsless: client-key: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "kmsless: wrote %s and %s for the application's SDK (ClientKeyFile and Password); add this entry to a principal's clientKeys:\n", file, password)
	fmt.Fprint(stdout, k.Entry)
	return 0
}

// writeNew writes data to a file it creates, readable by its owner alone.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
