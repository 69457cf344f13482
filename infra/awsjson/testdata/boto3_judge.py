"""Drives kmsless through boto3, the AWS SDK for Python, across the operations
it serves. Each step states what AWS would answer; the first that differs
fails the script with its name. No two requests are alike: botocore signs
no invocation ID, and kmsless accepts each signature once. Arguments:
endpoint, region. Credentials come from the environment.
"""
import base64
import sys
import uuid

import boto3

endpoint, region = sys.argv[1:3]
kms = boto3.client("kms", endpoint_url=endpoint, region_name=region)
ex = kms.exceptions
step = "start"


def expect(cond, what):
    if not cond:
        raise AssertionError(f"{step}: {what}")


def raises(exc, call, **kwargs):
    try:
        call(**kwargs)
    except exc as e:
        return e
    raise AssertionError(f"{step}: {call.__name__} did not raise {exc.__name__}")


step = "create_key"
meta = kms.create_key(Description="judged by boto3", Tags=[{"TagKey": "team", "TagValue": "a"}])["KeyMetadata"]
key, arn = meta["KeyId"], meta["Arn"]
expect(arn.startswith("arn:aws:kms:" + region + ":") and arn.endswith(":key/" + key), arn)
expect(meta["KeySpec"] == "SYMMETRIC_DEFAULT" and meta["KeyState"] == "Enabled" and meta["Enabled"], meta)
other = kms.create_key()["KeyMetadata"]["KeyId"]

step = "aliases"
alias = "alias/boto3-" + uuid.uuid4().hex[:12]
kms.create_alias(AliasName=alias, TargetKeyId=key)
raises(ex.AlreadyExistsException, kms.create_alias, AliasName=alias, TargetKeyId=other)
for ref in (key, arn, alias, arn.split(":key/")[0] + ":" + alias):
    expect(kms.describe_key(KeyId=ref)["KeyMetadata"]["KeyId"] == key, ref)
raises(ex.NotFoundException, kms.describe_key, KeyId="alias/none-" + uuid.uuid4().hex[:12])
expect([a["AliasName"] for a in kms.list_aliases(KeyId=key)["Aliases"]] == [alias], "list_aliases by key")

step = "encrypt and decrypt"
ctx = {"tenant": "acme", "path": "a/b c"}
blob = kms.encrypt(KeyId=alias, Plaintext=b"\x00secret\xff", EncryptionContext=ctx)["CiphertextBlob"]
out = kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(list(ctx.items()))))
expect(out["Plaintext"] == b"\x00secret\xff" and out["KeyId"] == arn, out)
raises(ex.InvalidCiphertextException, kms.decrypt, CiphertextBlob=blob)
raises(ex.IncorrectKeyException, kms.decrypt, CiphertextBlob=blob, EncryptionContext=ctx, KeyId=other)

step = "re_encrypt"
moved = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx, DestinationKeyId=other)
expect(moved["SourceKeyId"] == arn and moved["KeyId"].endswith(other), moved)
expect(kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"\x00secret\xff", "re-encrypted blob")

step = "data keys"
dk = kms.generate_data_key(KeyId=key, NumberOfBytes=64)
expect(len(dk["Plaintext"]) == 64 and kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"], "GenerateDataKey")
wp = kms.generate_data_key_without_plaintext(KeyId=alias, KeySpec="AES_128", EncryptionContext=ctx)
expect("Plaintext" not in wp and len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"]) == 16, "without plaintext")
both = raises(ex.ClientError, kms.generate_data_key, KeyId=key, KeySpec="AES_256", NumberOfBytes=32)
expect(both.response["Error"]["Code"] == "ValidationException", both.response["Error"])
expect(len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024, "GenerateRandom")

step = "data key pairs"
pair = kms.generate_data_key_pair(KeyId=alias, KeyPairSpec="ECC_NIST_P256", EncryptionContext=ctx)
expect(pair["KeyId"] == arn and pair["KeyPairSpec"] == "ECC_NIST_P256", sorted(pair))
opened = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext=ctx)["Plaintext"]
expect(opened == pair["PrivateKeyPlaintext"], "the blob opens to the private key")
lone = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec="RSA_2048")
expect("PrivateKeyPlaintext" not in lone and lone["PublicKey"] and lone["PrivateKeyCiphertextBlob"], sorted(lone))
sm2pair = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec="SM2")
expect(sm2pair["KeyPairSpec"] == "SM2" and bytes.fromhex("06082a811ccf5501822d") in sm2pair["PublicKey"][:23], "an SM2 pair's public key names SM2's curve")
try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError:
    print("skipped signing with a data key pair: the cryptography package is missing")
else:
    signer = serialization.load_der_private_key(opened, password=None)
    signature = signer.sign(b"signed outside KMS", ec.ECDSA(hashes.SHA256()))
    serialization.load_der_public_key(pair["PublicKey"]).verify(signature, b"signed outside KMS", ec.ECDSA(hashes.SHA256()))

step = "paginators"
keys = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1}) for k in p["Keys"]]
expect(key in keys and other in keys and len(keys) == len(set(keys)), keys)
names = [a["AliasName"] for p in kms.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 1}) for a in p["Aliases"]]
expect(alias in names and len(names) == len(set(names)), names)

step = "get_key_last_usage"
# ReEncrypt was the first use of its destination key; a key no one has
# used answers no KeyLastUsage, and an alias names no key here.
used = kms.get_key_last_usage(KeyId=other)
last = used["KeyLastUsage"]
expect(used["KeyId"] == other and last["Operation"] == "ReEncrypt", used)
expect(last["KmsRequestId"] == moved["ResponseMetadata"]["RequestId"] and "CloudTrailEventId" not in last, last)
expect(used["KeyCreationDate"] <= used["TrackingStartDate"] <= last["Timestamp"], used)
unused = kms.create_key()["KeyMetadata"]
fresh = kms.get_key_last_usage(KeyId=unused["Arn"])
expect("KeyLastUsage" not in fresh and fresh["KeyCreationDate"] == unused["CreationDate"], fresh)
raises(ex.NotFoundException, kms.get_key_last_usage, KeyId=alias)

step = "tags"
kms.tag_resource(KeyId=key, Tags=[{"TagKey": "env", "TagValue": "test"}])
kms.untag_resource(KeyId=key, TagKeys=["team"])
expect(kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "env", "TagValue": "test"}], "tags")

step = "rotation"
kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
st = kms.get_key_rotation_status(KeyId=key)
expect(st["KeyRotationEnabled"] and st["RotationPeriodInDays"] == 90, st)
first = kms.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"]
expect(len(first) == 64 and dk["KeyMaterialId"] == first, (first, dk.get("KeyMaterialId")))
kms.rotate_key_on_demand(KeyId=key)
rot = kms.list_key_rotations(KeyId=key)["Rotations"]
expect([r["RotationType"] for r in rot] == ["ON_DEMAND"], rot)
second = kms.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"]
expect(second != first and [(r["KeyMaterialId"], r["KeyMaterialState"]) for r in rot] == [(second, "CURRENT")], rot)
out = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
expect(out["Plaintext"] == b"\x00secret\xff" and out["KeyMaterialId"] == first, "a blob from before rotation")

step = "key states"
kms.disable_key(KeyId=key)
raises(ex.DisabledException, kms.encrypt, KeyId=key, Plaintext=b"x")
kms.enable_key(KeyId=key)
raises(ex.DryRunOperationException, kms.encrypt, KeyId=key, Plaintext=b"x", DryRun=True)
raises(ex.DryRunOperationException, kms.decrypt, KeyId=key, DryRun=True, DryRunModifiers=["IGNORE_CIPHERTEXT"])
raises(ex.DryRunOperationException, kms.re_encrypt, SourceKeyId=key, DestinationKeyId=key, DryRun=True, DryRunModifiers=["IGNORE_CIPHERTEXT"])
sched = kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)
expect(sched["KeyState"] == "PendingDeletion" and sched["PendingWindowInDays"] == 7, sched)
raises(ex.KMSInvalidStateException, kms.encrypt, KeyId=other, Plaintext=b"x")
kms.cancel_key_deletion(KeyId=other)
expect(kms.describe_key(KeyId=other)["KeyMetadata"]["KeyState"] == "Disabled", "cancelled deletion")
kms.update_key_description(KeyId=key, Description="described again")
expect(kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "described again", "description")
raises(ex.InvalidGrantTokenException, kms.describe_key, KeyId=key, GrantTokens=["made-up"])

step = "import key material"
try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import load_der_public_key
except ImportError:
    print("skipped import: the cryptography package is missing")
    load_der_public_key = None
else:
    ext = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    expect(ext["KeyState"] == "PendingImport" and ext["Origin"] == "EXTERNAL", ext)
    params = kms.get_parameters_for_import(KeyId=ext["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    material = uuid.uuid4().bytes + uuid.uuid4().bytes
    wrapped = load_der_public_key(params["PublicKey"]).encrypt(
        material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    raises(ex.InvalidImportTokenException, kms.import_key_material, KeyId=ext["KeyId"], ImportToken=b"not a token",
           EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    kms.import_key_material(KeyId=ext["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    sealed = kms.encrypt(KeyId=ext["KeyId"], Plaintext=b"imported")["CiphertextBlob"]
    expect(kms.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"imported", "imported material")

    step = "on-demand rotation of imported material"
    first_id = kms.describe_key(KeyId=ext["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    raises(ex.UnsupportedOperationException, kms.rotate_key_on_demand, KeyId=ext["KeyId"])
    params = kms.get_parameters_for_import(KeyId=ext["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = load_der_public_key(params["PublicKey"]).encrypt(
        uuid.uuid4().bytes + uuid.uuid4().bytes, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    new_id = kms.import_key_material(KeyId=ext["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                                     ImportType="NEW_KEY_MATERIAL", KeyMaterialDescription="hsm 2",
                                     ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")["KeyMaterialId"]
    listed = kms.list_key_rotations(KeyId=ext["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    expect([(r["KeyMaterialId"], r["KeyMaterialState"]) for r in listed] == [(first_id, "CURRENT"), (new_id, "PENDING_ROTATION")], listed)
    expect(listed[1]["KeyMaterialDescription"] == "hsm 2" and listed[1]["ImportState"] == "IMPORTED", listed[1])
    expect(kms.list_key_rotations(KeyId=ext["KeyId"])["Rotations"] == [], "a pending material is no rotation")
    kms.rotate_key_on_demand(KeyId=ext["KeyId"])
    expect(kms.describe_key(KeyId=ext["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"] == new_id, "the new material is current")
    made = kms.list_key_rotations(KeyId=ext["KeyId"])["Rotations"]
    expect(len(made) == 1 and made[0]["KeyMaterialId"] == new_id and made[0]["RotationType"] == "ON_DEMAND", made)
    opened = kms.decrypt(CiphertextBlob=sealed)
    expect(opened["Plaintext"] == b"imported" and opened["KeyMaterialId"] == first_id, "the first material still opens")
    expect(kms.generate_data_key(KeyId=ext["KeyId"], KeySpec="AES_256")["KeyMaterialId"] == new_id, "the new material seals")

step = "HMAC keys"
import hashlib
import hmac

tokens = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")["KeyMetadata"]
expect(tokens["KeySpec"] == "HMAC_384" and tokens["MacAlgorithms"] == ["HMAC_SHA_384"] and "EncryptionAlgorithms" not in tokens, tokens)
if load_der_public_key is not None:
    params = kms.get_parameters_for_import(KeyId=tokens["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    material = uuid.uuid4().bytes * 3
    wrapped = load_der_public_key(params["PublicKey"]).encrypt(
        material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    kms.import_key_material(KeyId=tokens["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    message = b"user=alice&tenant=acme"
    mac = kms.generate_mac(KeyId=tokens["KeyId"], Message=message, MacAlgorithm="HMAC_SHA_384")
    expect(mac["Mac"] == hmac.new(material, message, hashlib.sha384).digest() and mac["MacAlgorithm"] == "HMAC_SHA_384", "the MAC of the imported material")
    expect(kms.verify_mac(KeyId=tokens["KeyId"], Message=message, Mac=mac["Mac"], MacAlgorithm="HMAC_SHA_384")["MacValid"], "verify_mac")
    raises(ex.KMSInvalidMacException, kms.verify_mac, KeyId=tokens["KeyId"], Message=message + b".", Mac=mac["Mac"], MacAlgorithm="HMAC_SHA_384")
raises(ex.InvalidKeyUsageException, kms.generate_mac, KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")
raises(ex.InvalidKeyUsageException, kms.encrypt, KeyId=tokens["KeyId"], Plaintext=b"m")

step = "signing keys"
signer = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
expect(signer["KeyUsage"] == "SIGN_VERIFY" and "RSASSA_PSS_SHA_384" in signer["SigningAlgorithms"], signer)
document = b"release 1.2.3 checksums"
public = kms.get_public_key(KeyId=signer["KeyId"])
expect(public["KeySpec"] == "RSA_2048" and public["KeyUsage"] == "SIGN_VERIFY", public)
for algorithm in ("RSASSA_PSS_SHA_384", "RSASSA_PKCS1_V1_5_SHA_256"):
    signature = kms.sign(KeyId=signer["KeyId"], Message=document, SigningAlgorithm=algorithm)["Signature"]
    expect(kms.verify(KeyId=signer["KeyId"], Message=document, Signature=signature, SigningAlgorithm=algorithm)["SignatureValid"], algorithm)
    raises(ex.KMSInvalidSignatureException, kms.verify, KeyId=signer["KeyId"], Message=document + b".", Signature=signature, SigningAlgorithm=algorithm)
    if load_der_public_key is not None:
        # The signature verifies outside the service too, with Python's own RSA.
        if algorithm.startswith("RSASSA_PSS"):
            pad, digest = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384()
        else:
            pad, digest = padding.PKCS1v15(), hashes.SHA256()
        load_der_public_key(public["PublicKey"]).verify(signature, document, pad, digest)

step = "secp256k1 signing keys"
ether = kms.create_key(KeySpec="ECC_SECG_P256K1", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
expect(ether["KeySpec"] == "ECC_SECG_P256K1" and ether["SigningAlgorithms"] == ["ECDSA_SHA_256"], ether)
signature = kms.sign(KeyId=ether["KeyId"], Message=document, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
expect(kms.verify(KeyId=ether["KeyId"], Message=document, Signature=signature, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"], "secp256k1")
if load_der_public_key is not None:
    # Python's own secp256k1 (OpenSSL's) reads the key and verifies the
    # signature, and reads a data key pair's private key.
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_private_key
    theirs = load_der_public_key(kms.get_public_key(KeyId=ether["KeyId"])["PublicKey"])
    expect(isinstance(theirs.curve, ec.SECP256K1), theirs.curve)
    theirs.verify(signature, document, ec.ECDSA(hashes.SHA256()))
    pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_SECG_P256K1")
    private = load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
    expect(private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == pair["PublicKey"], "the pair's halves")
    load_der_public_key(pair["PublicKey"]).verify(private.sign(document, ec.ECDSA(hashes.SHA256())), document, ec.ECDSA(hashes.SHA256()))

step = "importing a private key"
if load_der_public_key is not None:
    # An Ethereum-style key made outside, wrapped as AWS's importers wrap a
    # private key (RSA_AES_KEY_WRAP_SHA_256: an AES key under RSA-OAEP, the
    # PKCS #8 under the AES key with RFC 5649's key wrap), signs in KMS.
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
    from cryptography.hazmat.primitives.serialization import PrivateFormat, NoEncryption
    mine = ec.generate_private_key(ec.SECP256K1())
    imported = kms.create_key(KeySpec="ECC_SECG_P256K1", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")["KeyMetadata"]
    params = kms.get_parameters_for_import(KeyId=imported["KeyId"], WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec="RSA_3072")
    kek = uuid.uuid4().bytes + uuid.uuid4().bytes
    wrapped = load_der_public_key(params["PublicKey"]).encrypt(
        kek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    wrapped += aes_key_wrap_with_padding(kek, mine.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
    kms.import_key_material(KeyId=imported["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    expect(kms.get_public_key(KeyId=imported["KeyId"])["PublicKey"] == mine.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
           "the imported key's public key")
    signature = kms.sign(KeyId=imported["KeyId"], Message=document, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    mine.public_key().verify(signature, document, ec.ECDSA(hashes.SHA256()))

step = "Ed25519 signing keys"
edwards = kms.create_key(KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
expect(edwards["SigningAlgorithms"] == ["ED25519_SHA_512", "ED25519_PH_SHA_512"], edwards)
signature = kms.sign(KeyId=edwards["KeyId"], Message=document, SigningAlgorithm="ED25519_SHA_512")["Signature"]
expect(len(signature) == 64, signature)
expect(kms.verify(KeyId=edwards["KeyId"], Message=document, Signature=signature, SigningAlgorithm="ED25519_SHA_512")["SignatureValid"], "ED25519_SHA_512")
refused = raises(kms.exceptions.ClientError, kms.sign, KeyId=edwards["KeyId"], Message=document, SigningAlgorithm="ED25519_PH_SHA_512")
expect(refused.response["Error"]["Code"] == "ValidationException", refused)
if load_der_public_key is not None:
    # Pure Ed25519 verifies outside with Python's own Ed25519 (RFC 8032).
    load_der_public_key(kms.get_public_key(KeyId=edwards["KeyId"])["PublicKey"]).verify(signature, document)

step = "ML-DSA signing keys"
quantum = kms.create_key(KeySpec="ML_DSA_65", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
expect(quantum["SigningAlgorithms"] == ["ML_DSA_SHAKE_256"], quantum)
signature = kms.sign(KeyId=quantum["KeyId"], Message=document, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
expect(len(signature) == 3309, len(signature))
expect(kms.verify(KeyId=quantum["KeyId"], Message=document, Signature=signature, SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"], "ML_DSA_SHAKE_256")
try:
    from cryptography.hazmat.primitives.asymmetric import mldsa
except ImportError:
    print("skipped verifying ML-DSA outside: this cryptography has no ML-DSA")
else:
    # FIPS 204 verified by OpenSSL's ML-DSA, through Python's cryptography.
    theirs = load_der_public_key(kms.get_public_key(KeyId=quantum["KeyId"])["PublicKey"])
    expect(isinstance(theirs, mldsa.MLDSA65PublicKey), theirs)
    theirs.verify(signature, document)
    # A key made by OpenSSL imports in PKCS #8's seed form, and signs as it.
    from cryptography.hazmat.primitives.serialization import PrivateFormat, NoEncryption
    mine = mldsa.MLDSA65PrivateKey.generate()
    imported = kms.create_key(KeySpec="ML_DSA_65", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")["KeyMetadata"]
    params = kms.get_parameters_for_import(KeyId=imported["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = load_der_public_key(params["PublicKey"]).encrypt(mine.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()),
                                                               padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    kms.import_key_material(KeyId=imported["KeyId"], ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    expect(kms.get_public_key(KeyId=imported["KeyId"])["PublicKey"] == mine.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
           "the imported ML-DSA key's public key")
    mine.public_key().verify(kms.sign(KeyId=imported["KeyId"], Message=document, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"], document)

step = "key agreement keys"
agreer = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
expect(agreer["KeyUsage"] == "KEY_AGREEMENT" and agreer["KeyAgreementAlgorithms"] == ["ECDH"], agreer)
if load_der_public_key is not None:
    # The peer derives with Python's own ECDH what the service derives.
    peer = ec.generate_private_key(ec.SECP384R1())
    derived = kms.derive_shared_secret(KeyId=agreer["KeyId"], KeyAgreementAlgorithm="ECDH",
                                       PublicKey=peer.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    theirs = load_der_public_key(kms.get_public_key(KeyId=agreer["KeyId"])["PublicKey"])
    expect(derived["SharedSecret"] == peer.exchange(ec.ECDH(), theirs) and derived["KeyAgreementAlgorithm"] == "ECDH", "the shared secret")
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    refused = raises(kms.exceptions.ClientError, kms.derive_shared_secret, KeyId=agreer["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=other)
    expect(refused.response["Error"]["Code"] == "ValidationException", refused)
    raises(ex.InvalidKeyUsageException, kms.derive_shared_secret, KeyId=edwards["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=other)

step = "RSA encryption keys"
sealer = kms.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
expect(sealer["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], sealer)
if load_der_public_key is not None:
    # Sealed outside with Python's own RSA-OAEP, opened by the service.
    outside = load_der_public_key(kms.get_public_key(KeyId=sealer["KeyId"])["PublicKey"]).encrypt(
        b"a wrapped secret", padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    opened = kms.decrypt(KeyId=sealer["KeyId"], CiphertextBlob=outside, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    expect(opened["Plaintext"] == b"a wrapped secret" and opened["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256", opened)
inside = kms.encrypt(KeyId=sealer["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
expect(kms.decrypt(KeyId=sealer["KeyId"], CiphertextBlob=inside, EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"] == b"x", "RSAES_OAEP_SHA_1")
moved = kms.re_encrypt(CiphertextBlob=inside, SourceKeyId=sealer["KeyId"], SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=key)
expect(moved["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_1" and moved["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT", moved)
expect(kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"x", "ReEncrypt from an RSA key")
raises(ex.InvalidKeyUsageException, kms.encrypt, KeyId=sealer["KeyId"], Plaintext=b"x")

step = "SM2 keys"
# Python's cryptography has no SM2: the service checks its own signatures
# and ciphertexts here, and tjfoc's SM2 judges them in sm2_test.go.
sm2signer = kms.create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
expect(sm2signer["KeySpec"] == "SM2" and sm2signer["SigningAlgorithms"] == ["SM2DSA"], sm2signer)
signature = kms.sign(KeyId=sm2signer["KeyId"], Message=document, SigningAlgorithm="SM2DSA")["Signature"]
expect(kms.verify(KeyId=sm2signer["KeyId"], Message=document, Signature=signature, SigningAlgorithm="SM2DSA")["SignatureValid"], "SM2DSA")
raises(ex.KMSInvalidSignatureException, kms.verify, KeyId=sm2signer["KeyId"], Message=document + b".", Signature=signature, SigningAlgorithm="SM2DSA")
sm2sealer = kms.create_key(KeySpec="SM2", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
expect(sm2sealer["EncryptionAlgorithms"] == ["SM2PKE"], sm2sealer)
inside = kms.encrypt(KeyId=sm2sealer["KeyId"], Plaintext=b"x" * 1024, EncryptionAlgorithm="SM2PKE")["CiphertextBlob"]
opened = kms.decrypt(KeyId=sm2sealer["KeyId"], CiphertextBlob=inside, EncryptionAlgorithm="SM2PKE")
expect(opened["Plaintext"] == b"x" * 1024 and opened["EncryptionAlgorithm"] == "SM2PKE", "SM2PKE")
refused = raises(kms.exceptions.ClientError, kms.encrypt, KeyId=sm2sealer["KeyId"], Plaintext=b"x" * 1025, EncryptionAlgorithm="SM2PKE")
expect(refused.response["Error"]["Code"] == "ValidationException", refused)

step = "grants"
account = arn.split(":")[4]
grantee, retiring = f"arn:aws:iam::{account}:user/boto3-grantee", f"arn:aws:iam::{account}:user/boto3-retiring"
made = kms.create_grant(KeyId=arn, GranteePrincipal=grantee, RetiringPrincipal=retiring, Name="boto3",
                        Operations=["Decrypt", "GenerateDataKey"], Constraints={"EncryptionContextEquals": {"tenant": "acme"}})
expect(len(made["GrantId"]) == 64 and made["GrantToken"], made)
again = kms.create_grant(KeyId=key, GranteePrincipal=grantee, RetiringPrincipal=retiring, Name="boto3",
                         Operations=["GenerateDataKey", "Decrypt"], Constraints={"EncryptionContextEquals": {"tenant": "acme"}})
expect(again["GrantId"] == made["GrantId"] and again["GrantToken"] != made["GrantToken"], again)
expect(kms.describe_key(KeyId=key, GrantTokens=[made["GrantToken"], again["GrantToken"]])["KeyMetadata"]["KeyId"] == key, "grant tokens it issued")
kms.create_grant(KeyId=key, GranteePrincipal=grantee, Operations=["DescribeKey"])
listed = [g for page in kms.get_paginator("list_grants").paginate(KeyId=key, PaginationConfig={"PageSize": 1}) for g in page["Grants"]]
expect(len(listed) == 2, listed)
entry = next(g for g in listed if g["GrantId"] == made["GrantId"])
expect(entry["KeyId"] == arn and entry["GranteePrincipal"] == grantee and entry["RetiringPrincipal"] == retiring
       and entry["Operations"] == ["Decrypt", "GenerateDataKey"] and entry["Constraints"] == {"EncryptionContextEquals": {"tenant": "acme"}}
       and entry["IssuingAccount"] == f"arn:aws:iam::{account}:root" and entry["Name"] == "boto3", entry)
retirable = kms.list_retirable_grants(RetiringPrincipal=retiring)["Grants"]
expect([g["GrantId"] for g in retirable] == [made["GrantId"]], retirable)
kms.retire_grant(GrantToken=made["GrantToken"])
raises(ex.NotFoundException, kms.revoke_grant, KeyId=key, GrantId=made["GrantId"])
raises(ex.InvalidGrantTokenException, kms.retire_grant, GrantToken="x" * 20)
raises(ex.InvalidMarkerException, kms.list_grants, KeyId=key, Marker="forged")
refused = raises(kms.exceptions.ClientError, kms.create_grant, KeyId=key, GranteePrincipal=grantee, Operations=["Sign"])
expect(refused.response["Error"]["Code"] == "ValidationException", refused)
kms.revoke_grant(KeyId=key, GrantId=listed[0]["GrantId"] if listed[0]["GrantId"] != made["GrantId"] else listed[1]["GrantId"])
expect(kms.list_grants(KeyId=key)["Grants"] == [], "grants left")

step = "key policies"
import json

root = f"arn:aws:iam::{account}:root"
got = kms.get_key_policy(KeyId=key)
expect(got["PolicyName"] == "default" and json.loads(got["Policy"])["Statement"][0]["Principal"] == {"AWS": root}, got)
# Read back as put, to the byte: indented, with non-ASCII Sids.
doc = json.dumps({"Version": "2012-10-17", "Id": "boto3", "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "Lecteurs – ✓", "Effect": "Allow", "Principal": {"AWS": [grantee]}, "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]}, indent=2, ensure_ascii=False)
kms.put_key_policy(KeyId=key, PolicyName="default", Policy=doc)
got = kms.get_key_policy(KeyId=arn, PolicyName="default")
expect(got["Policy"] == doc and got["PolicyName"] == "default", got)
expect(kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"], "list_key_policies")
# A document that cannot be read, and one that would lock the caller out
# of the key, are botocore's modeled MalformedPolicyDocumentException.
lockout = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": grantee}, "Action": "kms:*", "Resource": "*"}]})
for bad in ('{"Version": "2012-10-17", "Statement": [', lockout):
    refused = raises(ex.MalformedPolicyDocumentException, kms.put_key_policy, KeyId=key, Policy=bad)
    expect(refused.response["ResponseMetadata"]["HTTPStatusCode"] == 400, refused.response)
expect(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"] == doc, "the policy after refused puts")
raises(ex.NotFoundException, kms.get_key_policy, KeyId=key, PolicyName="other")
raises(ex.NotFoundException, kms.put_key_policy, KeyId=key, PolicyName="other", Policy=doc)
made = kms.create_key(Policy=doc, Description="made with a policy")["KeyMetadata"]
expect(kms.get_key_policy(KeyId=made["KeyId"])["Policy"] == doc, "create_key's policy")
raises(ex.MalformedPolicyDocumentException, kms.create_key, Policy=lockout)
locked = kms.create_key(Policy=lockout, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
denied = raises(kms.exceptions.ClientError, kms.describe_key, KeyId=locked["KeyId"])
expect(denied.response["Error"]["Code"] == "AccessDeniedException", denied.response["Error"])

print("ok")
