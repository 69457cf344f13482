// Command build builds every function under functions/ for both clouds, ready
// to upload: dist/lambda/<function>.zip holding a linux/arm64 `bootstrap` for
// the provided.al2023 runtime, and dist/fc/<function>.zip holding a linux/amd64
// `main` for Function Compute's go1 runtime. Binaries are static (CGO off),
// reproducible (-trimpath, fixed zip times), stripped, and built without
// aws-lambda-go's RPC mode.
//
// With -platform image it builds instead the container image the Dockerfile
// describes, the api server's and the kmsless command's binaries for linux
// and the host's architecture (or -arch), and tags it -tag.
//
//	go run ./scripts/build [-platform lambda|fc|all] [function ...]
//	go run ./scripts/build -platform image [-tag kmsless] [-arch amd64|arm64] [-context dist/image]
package main

import (
	"archive/zip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kmsless/kmsless/internal/devtools/emulate"
)

func main() {
	plat := flag.String("platform", "all", "lambda, fc, all, or image")
	tag := flag.String("tag", "kmsless", "with -platform image, the image's name")
	arch := flag.String("arch", runtime.GOARCH, "with -platform image, the architecture of its binaries")
	buildContext := flag.String("context", "", "with -platform image, the directory the image is built from (default dist/image)")
	flag.Parse()
	var err error
	if *plat == "image" {
		err = buildImage(*tag, *buildContext, *arch, flag.Args())
	} else {
		err = run(*plat, flag.Args())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n", err)
		os.Exit(1)
	}
}

func buildImage(tag, dir, arch string, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("-platform image builds the kmsless command, which is the api server too, not %v", args)
	}
	root, err := emulate.ModuleRoot(".")
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Join(root, "dist", "image")
	}
	return image(root, dir, tag, arch)
}

func run(plat string, fns []string) error {
	root, err := emulate.ModuleRoot(".")
	if err != nil {
		return err
	}
	if len(fns) == 0 {
		if fns, err = emulate.Functions(root); err != nil {
			return err
		}
	}
	var ts []emulate.Target
	for _, t := range emulate.Targets {
		if plat == "all" || plat == t.Platform {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return fmt.Errorf("-platform must be lambda, fc or all, not %q", plat)
	}
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(runtime.NumCPU())
	type result struct {
		fn, plat string
		bin, zip int64
	}
	results := make(chan result, len(fns)*len(ts))
	for _, t := range ts {
		for _, fn := range fns {
			g.Go(func() error {
				bin := filepath.Join(root, "dist", t.Platform, fn, t.Binary)
				if err := emulate.Build(ctx, root, "./functions/"+fn, bin, t.GOOS, t.GOARCH); err != nil {
					return err
				}
				zipPath := filepath.Join(root, "dist", t.Platform, fn+".zip")
				if err := zipOne(zipPath, bin, t.Binary); err != nil {
					return err
				}
				bs, _ := os.Stat(bin)
				zs, _ := os.Stat(zipPath)
				results <- result{fn, t.Platform, bs.Size(), zs.Size()}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	close(results)
	var all []result
	for r := range results {
		all = append(all, r)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].plat+all[i].fn < all[j].plat+all[j].fn })
	fmt.Printf("%-8s %-38s %10s %10s\n", "platform", "function", "binary MB", "zip MB")
	for _, r := range all {
		fmt.Printf("%-8s %-38s %10.2f %10.2f\n", r.plat, r.fn, float64(r.bin)/1e6, float64(r.zip)/1e6)
	}
	return nil
}

// zipOne writes a zip holding one executable at its root. A fixed time keeps
// the archive's bytes, and so its hash, the same for the same binary.
func zipOne(zipPath, file, name string) error {
	out, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	defer out.Close()
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	zw := zip.NewWriter(out)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755) // the platforms run the file as it is unpacked
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return out.Close()
}
