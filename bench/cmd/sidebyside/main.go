// Command sidebyside compares running kmsless endpoints (two releases, two
// configurations) with the same ACS3-signed GenerateDataKeyWithoutPlaintext
// requests, interleaved round after round. Each endpoint must know the
// principal given; sidebyside makes alias/bench on each before the runs.
//
//	sidebyside -principal ID:SECRET before=127.0.0.1:9001 after=127.0.0.1:9002
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsless/kmsless/bench/load"
)

const host = "kms.bench.local"

func main() {
	principal := flag.String("principal", "", "ID:SECRET of a principal every endpoint knows")
	o := load.Options{}
	flag.IntVar(&o.Conns, "conns", 16, "connections")
	flag.IntVar(&o.Rounds, "rounds", 4, "rounds; each runs every side once")
	flag.DurationVar(&o.Run, "run", 3*time.Second, "length of one run")
	flag.Parse()
	id, secret, ok := strings.Cut(*principal, ":")
	if !ok || flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: sidebyside -principal ID:SECRET name=addr name=addr...")
		os.Exit(2)
	}
	creds := load.Credentials{AccessKeyID: id, Secret: secret}
	var sides []load.Side
	for _, arg := range flag.Args() {
		name, addr, _ := strings.Cut(arg, "=")
		check(prepare(addr, creds))
		sides = append(sides, load.Side{Name: name, Addr: addr})
	}
	call := load.Call{Action: "GenerateDataKeyWithoutPlaintext", Query: url.Values{"KeyId": {"alias/bench"}}}
	o.Sign = func(n int) *load.Pool { return load.NewPool(n, host, call, creds) }
	results, err := load.Compare(o, sides...)
	check(err)
	base := results[0]
	for i, r := range results {
		fmt.Printf("%-10s %8.0f req/s  p50 %6.0f µs  p99 %6.0f µs  ratio to %s %.2f  p99 ratio %.2f\n", sides[i].Name, r.PerSecond(),
			float64(r.Quantile(0.5).Microseconds()), float64(r.Quantile(0.99).Microseconds()), sides[0].Name,
			r.PerSecond()/base.PerSecond(), float64(r.Quantile(0.99))/float64(base.Quantile(0.99)))
	}
}

// prepare makes alias/bench on the endpoint at addr, once.
func prepare(addr string, creds load.Credentials) error {
	c, err := kms.NewClient(&openapi.Config{AccessKeyId: tea.String(creds.AccessKeyID), AccessKeySecret: tea.String(creds.Secret),
		Endpoint: tea.String(addr), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou")})
	if err != nil {
		return err
	}
	if _, err := c.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("alias/bench")}); err == nil {
		return nil
	}
	k, err := c.CreateKey(&kms.CreateKeyRequest{})
	if err != nil {
		return fmt.Errorf("%s: CreateKey: %w", addr, err)
	}
	_, err = c.CreateAlias(&kms.CreateAliasRequest{AliasName: tea.String("alias/bench"), KeyId: k.Body.KeyMetadata.KeyId})
	var se *tea.SDKError
	if errors.As(err, &se) && tea.StringValue(se.Code) == "AliasAlreadyExists" {
		return nil
	}
	return err
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}
