package core

// The actions on what this service does not have: KMS instances (its keys
// belong to none), custom key stores (it keeps every key's material itself,
// under its root key), multi-Region replicas (its keys are single-Region)
// and secrets another cloud service rotates (its secrets are generic). Each
// is answered as the cloud answers an account without such a thing, after
// the caller's permission is checked as for any action on it, so that a
// caller learns no more here than from any other refusal.

// KmsInstance is an entry of ListKmsInstances, which lists none: the type
// names the listing. Policies name instances as Alibaba's ARNs do,
// keystore/<instance ID>, and all of them as keystore.
type KmsInstance struct{}

// CustomKeyStore is an entry of DescribeCustomKeyStores, which lists none:
// the type names the listing.
type CustomKeyStore struct{}

func (c *call) listKmsInstances() (any, error) {
	_, num, size, err := c.page()
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN("keystore")); err != nil {
		return nil, err
	}
	return Listing[KmsInstance]{PageNumber: num, PageSize: size}, nil
}

// noKmsInstance answers GetKmsInstance, ConnectKmsInstance and
// UpdateKmsInstanceBindVpc: the instance named is not there.
func (c *call) noKmsInstance() (any, error) {
	id, err := c.required("KmsInstanceId")
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.AccessARN("keystore", id)); err != nil {
		return nil, err
	}
	return nil, noInstance(id)
}

// noInstance answers a request naming KMS instance id, to read it or to
// make a key or secret in it.
func noInstance(id string) error {
	return Errorf(CodeResourceNotFound, "The KMS instance %q does not exist: keys and secrets here belong to no KMS instance.", ClipText(id))
}

// inNoInstance refuses CreateKey's and CreateSecret's DKMSInstanceId, the
// instance to make the key or secret in, once the caller may make one.
func inNoInstance(c *call) error {
	if id := c.str("DKMSInstanceId"); id != "" {
		return noInstance(id)
	}
	return nil
}

// describeCustomKeyStores lists none, and names none: one asked for by ID
// or name is not found.
func (c *call) describeCustomKeyStores() (any, error) {
	id, name := c.str("CustomKeyStoreId"), c.str("CustomKeyStoreName")
	if id != "" && name != "" {
		return nil, invalidParam("CustomKeyStoreName", "name a custom key store by its ID or its name, not both")
	}
	if err := c.authorize(c.s.CollectionARN("customkeystore")); err != nil {
		return nil, err
	}
	if id != "" || name != "" {
		return nil, noCustomKeyStore(id + name)
	}
	return []CustomKeyStore{}, nil
}

func (c *call) createCustomKeyStore() (any, error) {
	if _, err := c.required("CustomKeyStoreName"); err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN("customkeystore")); err != nil {
		return nil, err
	}
	return nil, Errorf(CodeUnsupportedOperation, "This service keeps every key's material itself, under its root key: it connects to no CloudHSM cluster or external key store proxy.")
}

// noCustomKeyStoreAction answers ConnectCustomKeyStore,
// DisconnectCustomKeyStore, UpdateCustomKeyStore and DeleteCustomKeyStore:
// the store named is not there.
func (c *call) noCustomKeyStoreAction() (any, error) {
	id, err := c.required("CustomKeyStoreId")
	if err != nil {
		return nil, err
	}
	if err := c.authorize(c.s.CollectionARN("customkeystore")); err != nil {
		return nil, err
	}
	return nil, noCustomKeyStore(id)
}

func noCustomKeyStore(ref string) error {
	return Errorf(CodeCustomKeyStoreNotFound, "The custom key store %q does not exist: this service has none.", ClipText(ref))
}

// singleRegion answers ReplicateKey (ReplicaRegion) and UpdatePrimaryRegion
// (PrimaryRegion) on the key the caller may act on: it is no multi-Region
// key, since this service makes none.
func (c *call) singleRegion(region string) error {
	if _, err := c.required(region); err != nil {
		return err
	}
	t, err := c.resolve("KeyId")
	if err != nil {
		return err
	}
	return Errorf(CodeUnsupportedOperation, "The key %s is not a multi-Region key: this service makes single-Region keys only.", t.key.ID)
}

func (c *call) replicateKey() (any, error) { return nil, c.singleRegion("ReplicaRegion") }

func (c *call) updatePrimaryRegion() (any, error) { return nil, c.singleRegion("PrimaryRegion") }

// rotateSecret refuses, as Alibaba does for a generic secret: a new value is
// put with PutSecretValue.
func (c *call) rotateSecret() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	if _, err := c.required("VersionId"); err != nil {
		return nil, err
	}
	if _, err := c.loadSecret(name); err != nil {
		return nil, err
	}
	return nil, Errorf(CodeUnsupportedOperation, "RotateSecret does not rotate the generic secret %q: put its new value with PutSecretValue.", name)
}

// updateSecretRotationPolicy keeps automatic rotation off, the one policy a
// generic secret has, as CreateSecret does: turning it on is refused.
func (c *call) updateSecretRotationPolicy() (any, error) {
	name, err := c.secretName()
	if err != nil {
		return nil, err
	}
	if c.str("EnableAutomaticRotation") == "" {
		return nil, missingParam("EnableAutomaticRotation")
	}
	if err := noAutomaticRotation(c); err != nil {
		return nil, err
	}
	if _, err := c.loadSecret(name); err != nil {
		return nil, err
	}
	return SecretNamed{Name: name}, nil
}
