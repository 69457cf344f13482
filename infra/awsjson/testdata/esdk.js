// Round-trips a message through the AWS Encryption SDK for JavaScript with a
// KmsKeyringNode whose KMS client (@aws-sdk/client-kms) points at kmsless,
// then checks that a tampered message is refused. Prints OK on success.
const { KMS, KMSClient, GenerateDataKeyWithoutPlaintextCommand, DecryptCommand } = require('@aws-sdk/client-kms')
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
  console.log('OK')
}

main().catch(e => { console.error(e && (e.name + ': ' + e.message)); process.exit(1) })
