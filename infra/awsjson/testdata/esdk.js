// Round-trips a message through the AWS Encryption SDK for JavaScript with a
// KmsKeyringNode whose KMS client (@aws-sdk/client-kms) points at kmsless,
// then checks that a tampered message is refused, uses data key pairs with
// Node's own crypto, verifies a signing key's signature with it, and makes
// and verifies a MAC, walks a key's grants with the SDK's paginator, and
// puts a key policy and reads it back. Prints OK on success.
const crypto = require('crypto')
const {
  KMS, KMSClient, GenerateDataKeyWithoutPlaintextCommand, DecryptCommand,
  GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand,
  CreateKeyCommand, SignCommand, GetPublicKeyCommand, GenerateMacCommand, VerifyMacCommand,
  DeriveSharedSecretCommand, CreateGrantCommand, RetireGrantCommand, paginateListGrants,
  PutKeyPolicyCommand, GetKeyPolicyCommand
} = require('@aws-sdk/client-kms')
const { KmsKeyringNode, buildClient, CommitmentPolicy } = require('@aws-crypto/client-node')

const { KMSLESS_ENDPOINT: endpoint, KMSLESS_KEY_ARN: keyArn, KMSLESS_REGION: region } = process.env
const credentials = { accessKeyId: process.env.KMSLESS_ACCESS_KEY_ID, secretAccessKey: process.env.KMSLESS_SECRET }
const kmsClient = new KMSClient({ endpoint, region, credentials })

async function main () {
  const ctx = { tenant: 'acme', partition: 'p-0001' }
  const made = await kmsClient.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyArn, KeySpec: 'AES_256', EncryptionContext: ctx }))
  const opened = await kmsClient.send(new DecryptCommand({ CiphertextBlob: made.CiphertextBlob, EncryptionContext: ctx }))
  if (opened.Plaintext.length !== 32 || opened.KeyId !== keyArn) throw new Error('client-kms Decrypt: ' + opened.KeyId)

  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
  // The keyring calls the aggregated client's methods (generateDataKey, …).
  const keyring = new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: () => new KMS({ endpoint, region, credentials }) })
  const plaintext = Buffer.from('rows of the partition')
  const { result } = await encrypt(keyring, plaintext, { encryptionContext: ctx })
  const back = await decrypt(keyring, result)
  if (!back.plaintext.equals(plaintext) || back.messageHeader.encryptionContext.partition !== 'p-0001') throw new Error('round trip')
  const tampered = Buffer.from(result)
  tampered[tampered.length - 1] ^= 1
  let refused = false
  try { await decrypt(keyring, tampered) } catch (e) { refused = true }
  if (!refused) throw new Error('a tampered message decrypted')

  // A data key pair signs and verifies outside KMS; the private key comes
  // back from its blob through Decrypt.
  const pair = await kmsClient.send(new GenerateDataKeyPairCommand({ KeyId: keyArn, KeyPairSpec: 'ECC_NIST_P384', EncryptionContext: ctx }))
  const signer = crypto.createPrivateKey({ key: Buffer.from(pair.PrivateKeyPlaintext), format: 'der', type: 'pkcs8' })
  const verifier = crypto.createPublicKey({ key: Buffer.from(pair.PublicKey), format: 'der', type: 'spki' })
  const signature = crypto.sign('sha384', plaintext, signer)
  if (!crypto.verify('sha384', plaintext, verifier, signature)) throw new Error('a data key pair signature did not verify')
  const back2 = await kmsClient.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: ctx }))
  if (!Buffer.from(back2.Plaintext).equals(Buffer.from(pair.PrivateKeyPlaintext))) throw new Error('the pair blob opens to another key')

  // One without the private key: encrypt to its public key now, decrypt
  // once the private key is taken from the blob.
  const lone = await kmsClient.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyArn, KeyPairSpec: 'RSA_2048' }))
  if (lone.PrivateKeyPlaintext !== undefined || lone.KeyPairSpec !== 'RSA_2048') throw new Error('WithoutPlaintext: ' + Object.keys(lone))
  const sealed = crypto.publicEncrypt({ key: Buffer.from(lone.PublicKey), format: 'der', type: 'spki', oaepHash: 'sha256' }, plaintext)
  const priv = await kmsClient.send(new DecryptCommand({ CiphertextBlob: lone.PrivateKeyCiphertextBlob }))
  const opened2 = crypto.privateDecrypt({ key: Buffer.from(priv.Plaintext), format: 'der', type: 'pkcs8', oaepHash: 'sha256' }, sealed)
  if (!opened2.equals(plaintext)) throw new Error('RSA data key pair round trip')

  // A signing key's signature verifies with Node's crypto and its public key.
  const signing = await kmsClient.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
  const signed = await kmsClient.send(new SignCommand({ KeyId: signing.KeyMetadata.KeyId, Message: plaintext, SigningAlgorithm: 'ECDSA_SHA_256' }))
  const pub = await kmsClient.send(new GetPublicKeyCommand({ KeyId: signing.KeyMetadata.KeyId }))
  const pubKey = crypto.createPublicKey({ key: Buffer.from(pub.PublicKey), format: 'der', type: 'spki' })
  if (!crypto.verify('sha256', plaintext, pubKey, Buffer.from(signed.Signature))) throw new Error('a Sign signature did not verify')

  // A secp256k1 key's signature verifies with Node's ECDSA on the curve.
  const ether = await kmsClient.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }))
  const etherSigned = await kmsClient.send(new SignCommand({ KeyId: ether.KeyMetadata.KeyId, Message: plaintext, SigningAlgorithm: 'ECDSA_SHA_256' }))
  const etherPub = await kmsClient.send(new GetPublicKeyCommand({ KeyId: ether.KeyMetadata.KeyId }))
  const etherKey = crypto.createPublicKey({ key: Buffer.from(etherPub.PublicKey), format: 'der', type: 'spki' })
  if (etherKey.asymmetricKeyDetails.namedCurve !== 'secp256k1') throw new Error('the public key is on ' + etherKey.asymmetricKeyDetails.namedCurve)
  if (!crypto.verify('sha256', plaintext, etherKey, Buffer.from(etherSigned.Signature))) throw new Error('a secp256k1 signature did not verify')

  // An Ed25519 key's signature of the message itself verifies with Node's
  // Ed25519.
  const edwards = await kmsClient.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' }))
  const edSigned = await kmsClient.send(new SignCommand({ KeyId: edwards.KeyMetadata.KeyId, Message: plaintext, SigningAlgorithm: 'ED25519_SHA_512' }))
  const edPub = await kmsClient.send(new GetPublicKeyCommand({ KeyId: edwards.KeyMetadata.KeyId }))
  const edKey = crypto.createPublicKey({ key: Buffer.from(edPub.PublicKey), format: 'der', type: 'spki' })
  if (!crypto.verify(null, plaintext, edKey, Buffer.from(edSigned.Signature))) throw new Error('an Ed25519 signature did not verify')

  // A key agreement key derives the secret a peer derives with Node's ECDH.
  const agreer = await kmsClient.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }))
  const peer = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const derived = await kmsClient.send(new DeriveSharedSecretCommand({
    KeyId: agreer.KeyMetadata.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ format: 'der', type: 'spki' })
  }))
  const agreerPub = await kmsClient.send(new GetPublicKeyCommand({ KeyId: agreer.KeyMetadata.KeyId }))
  const theirs = crypto.createPublicKey({ key: Buffer.from(agreerPub.PublicKey), format: 'der', type: 'spki' })
  const secret = crypto.diffieHellman({ privateKey: peer.privateKey, publicKey: theirs })
  if (!secret.equals(Buffer.from(derived.SharedSecret))) throw new Error('the shared secrets differ')

  // An HMAC key's MAC verifies, and another message's does not.
  const tokens = await kmsClient.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
  const mac = await kmsClient.send(new GenerateMacCommand({ KeyId: tokens.KeyMetadata.KeyId, Message: plaintext, MacAlgorithm: 'HMAC_SHA_256' }))
  const ok = await kmsClient.send(new VerifyMacCommand({ KeyId: tokens.KeyMetadata.KeyId, Message: plaintext, Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' }))
  if (!ok.MacValid || mac.Mac.length !== 32) throw new Error('VerifyMac of its own MAC')
  let invalid = ''
  try {
    await kmsClient.send(new VerifyMacCommand({ KeyId: tokens.KeyMetadata.KeyId, Message: Buffer.from('other'), Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' }))
  } catch (e) { invalid = e.name }
  if (invalid !== 'KMSInvalidMacException') throw new Error('VerifyMac of another message: ' + invalid)

  // Grants: made, walked a page of one at a time, and retired by token.
  const account = keyArn.split(':')[4]
  const grants = []
  for (const name of ['js-a', 'js-b', 'js-c']) {
    grants.push(await kmsClient.send(new CreateGrantCommand({
      KeyId: keyArn, GranteePrincipal: `arn:aws:iam::${account}:user/${name}`, Operations: ['Decrypt'],
      Constraints: { EncryptionContextSubset: { tenant: 'acme' } }
    })))
  }
  const listed = []
  for await (const page of paginateListGrants({ client: kmsClient, pageSize: 1 }, { KeyId: keyArn })) listed.push(...page.Grants)
  const ids = grants.map(g => g.GrantId).sort()
  if (JSON.stringify(listed.map(g => g.GrantId).sort()) !== JSON.stringify(ids)) throw new Error('ListGrants walked ' + JSON.stringify(listed))
  if (listed[0].KeyId !== keyArn || listed[0].Constraints.EncryptionContextSubset.tenant !== 'acme' || !(listed[0].CreationDate instanceof Date)) {
    throw new Error('a grant as listed: ' + JSON.stringify(listed[0]))
  }
  for (const g of grants) await kmsClient.send(new RetireGrantCommand({ GrantToken: g.GrantToken }))

  // A key policy reads back as it was put; one that cannot be read is the
  // SDK's MalformedPolicyDocumentException, and changes nothing.
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Id: 'js',
    Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
      { Sid: 'js-a', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:user/js-a` }, Action: ['kms:Decrypt'], Resource: '*' }
    ]
  }, null, 2)
  await kmsClient.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: policy }))
  const got = await kmsClient.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))
  if (got.Policy !== policy || got.PolicyName !== 'default') throw new Error('GetKeyPolicy: ' + JSON.stringify(got))
  let malformed = ''
  try {
    await kmsClient.send(new PutKeyPolicyCommand({ KeyId: keyArn, Policy: '{"Version": "2012-10-17", "Statement": [' }))
  } catch (e) { malformed = e.name + ' ' + e.$metadata.httpStatusCode }
  if (malformed !== 'MalformedPolicyDocumentException 400') throw new Error('PutKeyPolicy of a malformed document: ' + malformed)
  const kept = await kmsClient.send(new GetKeyPolicyCommand({ KeyId: keyArn }))
  if (kept.Policy !== policy) throw new Error('a refused PutKeyPolicy changed the policy: ' + kept.Policy)
  console.log('OK')
}

main().catch(e => { console.error(e && (e.name + ': ' + e.message)); process.exit(1) })
