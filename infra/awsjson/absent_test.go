package awsjson_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsless/kmsless/core"
)

// Every operation of AWS's SDK is answered: none is UnknownOperationException.
// The operations are the SDK client's own methods, so an operation AWS adds
// shows here once the SDK is updated.
func TestEveryOperationOfTheSDKIsAnswered(t *testing.T) {
	e := newEnv(t)
	client := reflect.TypeFor[*kms.Client]()
	n := 0
	for m := range client.Methods() {
		in := m.Type.NumIn()
		if m.Name == "Options" || in < 3 || m.Type.In(2).Kind() != reflect.Pointer || !strings.HasSuffix(m.Type.In(2).Elem().Name(), "Input") {
			continue
		}
		n++
		r := e.do(e.signed(m.Name, "{}", adminID, adminSecret, time.Now()))
		if r.status == http.StatusOK {
			continue
		}
		if typ, msg := r.awsError(t); typ == "UnknownOperationException" {
			t.Errorf("%s: %s: %s", m.Name, typ, msg)
		}
	}
	if n < 56 {
		t.Fatalf("the SDK's client has %d operations; it had 56 when this test was written", n)
	}
}

// What this service does not have, AWS's SDK is told as AWS tells an
// account without it: no custom key store, and no multi-Region key.
func TestSDKCustomKeyStoresAndReplicasAreAbsent(t *testing.T) {
	e := newEnv(t, withPrincipal("reader", "AKIAREADER0000000001", "reader-secret", 1000,
		core.MustPolicy(core.Statement{Effect: "Allow", Action: []string{"kms:DescribeKey"}, Resource: []string{"*"}})))
	id := e.createKey()

	stores, err := e.aws.DescribeCustomKeyStores(bg, &kms.DescribeCustomKeyStoresInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stores.CustomKeyStores) != 0 || stores.Truncated || stores.NextMarker != nil {
		t.Errorf("DescribeCustomKeyStores = %+v", stores)
	}
	_, err = e.aws.DescribeCustomKeyStores(bg, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String("cks-1234567890abcdef0")})
	var nf *types.CustomKeyStoreNotFoundException
	if !asType(err, &nf) {
		t.Errorf("DescribeCustomKeyStores by ID: want *types.CustomKeyStoreNotFoundException, got %v", err)
	}
	_, err = e.aws.DescribeCustomKeyStores(bg, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreName: aws.String("ExampleKeyStore")})
	apiError(t, err, "CustomKeyStoreNotFoundException")
	_, err = e.aws.DescribeCustomKeyStores(bg, &kms.DescribeCustomKeyStoresInput{Marker: aws.String("made-up")})
	apiError(t, err, "InvalidMarkerException")
	_, err = e.aws.DescribeCustomKeyStores(bg, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String("cks-1"), CustomKeyStoreName: aws.String("n")})
	apiError(t, err, "ValidationException")

	_, err = e.aws.CreateCustomKeyStore(bg, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("ExampleKeyStore"),
		CloudHsmClusterId: aws.String("cluster-1a23b4cdefg"), KeyStorePassword: aws.String("kmsPassword"), TrustAnchorCertificate: aws.String("-----BEGIN CERTIFICATE-----")})
	var unsupported *types.UnsupportedOperationException
	if !asType(err, &unsupported) {
		t.Errorf("CreateCustomKeyStore: want *types.UnsupportedOperationException, got %v", err)
	}
	typ, _ := e.do(e.signed("CreateCustomKeyStore", "{}", adminID, adminSecret, time.Now())).awsError(t)
	if typ != "ValidationException" {
		t.Errorf("CreateCustomKeyStore without a name: %s", typ)
	}
	ref := aws.String("cks-1234567890abcdef0")
	for name, call := range map[string]func() error{
		"ConnectCustomKeyStore": func() error {
			_, err := e.aws.ConnectCustomKeyStore(bg, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: ref})
			return err
		},
		"DisconnectCustomKeyStore": func() error {
			_, err := e.aws.DisconnectCustomKeyStore(bg, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: ref})
			return err
		},
		"UpdateCustomKeyStore": func() error {
			_, err := e.aws.UpdateCustomKeyStore(bg, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: ref, NewCustomKeyStoreName: aws.String("n")})
			return err
		},
		"DeleteCustomKeyStore": func() error {
			_, err := e.aws.DeleteCustomKeyStore(bg, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: ref})
			return err
		},
	} {
		apiErrorNamed(t, name, call(), "CustomKeyStoreNotFoundException")
	}

	_, err = e.aws.ReplicateKey(bg, &kms.ReplicateKeyInput{KeyId: aws.String(id), ReplicaRegion: aws.String("us-west-2")})
	if ae := apiError(t, err, "UnsupportedOperationException"); !strings.Contains(ae.ErrorMessage(), id) ||
		!strings.Contains(ae.ErrorMessage(), "not a multi-Region key") {
		t.Errorf("ReplicateKey: %s", ae.ErrorMessage())
	}
	_, err = e.aws.UpdatePrimaryRegion(bg, &kms.UpdatePrimaryRegionInput{KeyId: aws.String(keyARN(id)), PrimaryRegion: aws.String("us-west-2")})
	apiError(t, err, "UnsupportedOperationException")
	_, err = e.aws.ReplicateKey(bg, &kms.ReplicateKeyInput{KeyId: aws.String("mrk-1234abcd12ab34cd56ef1234567890ab"), ReplicaRegion: aws.String("us-west-2")})
	apiError(t, err, "NotFoundException")
	if typ, _ := e.do(e.signed("ReplicateKey", `{"KeyId":"`+id+`"}`, adminID, adminSecret, time.Now())).awsError(t); typ != "ValidationException" {
		t.Errorf("ReplicateKey without a region: %s", typ)
	}

	// A caller refused the action is refused before it learns that the
	// key is single-Region, or that no custom key store exists.
	reader := e.client("AKIAREADER0000000001", "reader-secret")
	_, err = reader.ReplicateKey(bg, &kms.ReplicateKeyInput{KeyId: aws.String(id), ReplicaRegion: aws.String("us-west-2")})
	apiError(t, err, "AccessDeniedException")
	_, err = reader.DescribeCustomKeyStores(bg, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: ref})
	apiError(t, err, "AccessDeniedException")
	_, err = reader.DeleteCustomKeyStore(bg, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: ref})
	apiError(t, err, "AccessDeniedException")
}
