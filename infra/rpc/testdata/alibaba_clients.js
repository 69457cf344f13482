// Drives kmsless through Alibaba Cloud's JavaScript clients: the KMS client
// @alicloud/kms20160120 and @alicloud/pop-core (SignatureVersion 1.0), and
// @alicloud/openapi-client's generic callApi, which signs ACS3-HMAC-SHA256
// with the parameters in the query string or in a form body, or 1.0 when
// asked. Each mints a data key under an alias with an encryption context,
// opens it, and reads a refusal's code; the KMS client and pop-core also store
// a secret whose value holds every character the schemes encode, put a second
// version, and read both back; pop-core and the generic client also put a
// key policy whose text holds those characters, read it back as it was put,
// and read a malformed one's refusal. Prints OK, or fails.
'use strict';
const assert = require('assert');
const Kms = require('@alicloud/kms20160120');
const PopCore = require('@alicloud/pop-core');
const OpenApi = require('@alicloud/openapi-client');
const { RuntimeOptions } = require('@alicloud/tea-util');

const endpoint = process.env.KMSLESS_ENDPOINT; // host:port
const alias = process.env.KMSLESS_ALIAS;
const keyId = process.env.KMSLESS_KEY_ID;
const account = process.env.KMSLESS_ACCOUNT;
const credentials = {
  accessKeyId: process.env.KMSLESS_ACCESS_KEY_ID,
  accessKeySecret: process.env.KMSLESS_SECRET,
};
// Characters each signing scheme must encode: space, plus, ampersand, equals,
// slash, tilde, star and non-ASCII.
const context = { tenant: 'a+b c&d=e/f~g*h', 'ключ': '订单' };

// check mints under the alias, opens the blob and asks for a missing key,
// through call(action, params), which answers the response body or throws
// an error with its code.
async function check(name, call) {
  const minted = await call('GenerateDataKeyWithoutPlaintext', {
    KeyId: alias, NumberOfBytes: '48', EncryptionContext: JSON.stringify(context),
  });
  assert.strictEqual(minted.KeyId, keyId, name + ': KeyId');
  const opened = await call('Decrypt', {
    CiphertextBlob: minted.CiphertextBlob, EncryptionContext: JSON.stringify(context),
  });
  assert.strictEqual(opened.KeyVersionId, minted.KeyVersionId, name + ': KeyVersionId');
  assert.strictEqual(Buffer.from(opened.Plaintext, 'base64').length, 48, name + ': data key size');
  let refused;
  try {
    await call('DescribeKey', { KeyId: 'key-doesnotexist00000000000' });
  } catch (e) {
    refused = e;
  }
  assert.ok(refused, name + ': DescribeKey of a missing key succeeded');
  assert.match(String(refused.code), /^Forbidden\.KeyNotFound/, name + ': ' + refused.message);
}

// secrets stores and reads a secret through call, as check does.
async function secrets(name, secretName, call) {
  const value = JSON.stringify(context) + ' %20 %2B';
  const created = await call('CreateSecret', {
    SecretName: secretName, VersionId: 'v1', SecretData: value, EncryptionKeyId: alias,
  });
  assert.strictEqual(created.SecretName, secretName, name + ': SecretName');
  await call('PutSecretValue', { SecretName: secretName, VersionId: 'v2', SecretData: value + '!', VersionStages: '["ACSCurrent"]' });
  const current = await call('GetSecretValue', { SecretName: secretName });
  assert.strictEqual(current.SecretData, value + '!', name + ': ACSCurrent');
  assert.strictEqual(current.VersionId, 'v2', name + ': VersionId');
  const previous = await call('GetSecretValue', { SecretName: secretName, VersionStage: 'ACSPrevious' });
  assert.strictEqual(previous.SecretData, value, name + ': ACSPrevious');
  assert.deepStrictEqual(previous.VersionStages.VersionStage || previous.VersionStages.versionStage, ['ACSPrevious'], name + ': stages');
}

// policy puts a policy on a key or a secret through call, with the actions
// set and get (SetKeyPolicy and GetKeyPolicy, or SetSecretPolicy and
// GetSecretPolicy) as any other action, naming it by setOn and getOn, reads
// it back as it was put, and has a malformed one refused, the policy left as
// it was.
async function policy(name, call, set, get, setOn, getOn) {
  const doc = JSON.stringify({
    Version: '1',
    Statement: [{
      Sid: name + ' ' + context.tenant + ' ключ', Effect: 'Allow',
      Principal: { RAM: ['acs:ram::' + account + ':*'] }, Action: ['kms:*'], Resource: ['*'],
    }],
  }, null, 1);
  await call(set, { ...setOn, PolicyName: 'default', Policy: doc });
  const got = await call(get, { ...getOn, PolicyName: 'default' });
  assert.strictEqual(got.Policy, doc, name + ': ' + get + ' after ' + set);
  let refused;
  try {
    await call(set, { ...getOn, Policy: '{"Version":"1","Statement":[' });
  } catch (e) {
    refused = e;
  }
  assert.ok(refused, name + ': a malformed policy was put by ' + set);
  assert.match(String(refused.code), /^MalformedPolicyDocument/, name + ': ' + refused.message);
  const after = await call(get, getOn);
  assert.strictEqual(after.Policy, doc, name + ': the policy after a malformed one');
}

// keyPolicy is policy on the key, put through its alias.
const keyPolicy = (name, call) => policy(name, call, 'SetKeyPolicy', 'GetKeyPolicy', { KeyId: alias }, { KeyId: keyId });

// secretPolicy is policy on the secret secretName, read through its ARN.
const secretPolicy = (name, call, secretName) => policy(name, call, 'SetSecretPolicy', 'GetSecretPolicy',
  { SecretName: secretName }, { SecretName: 'acs:kms:cn-hangzhou:' + account + ':secret/' + secretName });

// openApi calls through the generic client, with the parameters in the query
// string or in a form body.
function openApi(config, inBody) {
  const client = new OpenApi.default(new OpenApi.Config({ ...credentials, endpoint, protocol: 'http', regionId: 'cn-hangzhou', ...config }));
  return async (action, params) => {
    const p = new OpenApi.Params({
      action, version: '2016-01-20', protocol: 'HTTP', pathname: '/', method: 'POST',
      authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
    });
    const request = new OpenApi.OpenApiRequest(inBody ? { body: params } : { query: params });
    const r = await client.callApi(p, request, new RuntimeOptions({}));
    return r.body;
  };
}

async function main() {
  // The KMS client names parameters in lower camel case in its request classes.
  const kms = new Kms.default({ ...credentials, endpoint, protocol: 'http', regionId: 'cn-hangzhou' });
  const request = {
    GenerateDataKeyWithoutPlaintext: (p) => new Kms.GenerateDataKeyWithoutPlaintextRequest({ keyId: p.KeyId, numberOfBytes: Number(p.NumberOfBytes), encryptionContext: JSON.parse(p.EncryptionContext) }),
    Decrypt: (p) => new Kms.DecryptRequest({ ciphertextBlob: p.CiphertextBlob, encryptionContext: JSON.parse(p.EncryptionContext) }),
    DescribeKey: (p) => new Kms.DescribeKeyRequest({ keyId: p.KeyId }),
    CreateSecret: (p) => new Kms.CreateSecretRequest({ secretName: p.SecretName, versionId: p.VersionId, secretData: p.SecretData, encryptionKeyId: p.EncryptionKeyId }),
    PutSecretValue: (p) => new Kms.PutSecretValueRequest({ secretName: p.SecretName, versionId: p.VersionId, secretData: p.SecretData, versionStages: p.VersionStages }),
    GetSecretValue: (p) => new Kms.GetSecretValueRequest({ secretName: p.SecretName, versionStage: p.VersionStage }),
  };
  const kmsCall = async (action, params) => {
    const method = action.charAt(0).toLowerCase() + action.slice(1);
    const r = await kms[method](request[action](params));
    // Its responses name members in lower camel case too.
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), v]));
  };
  await check('@alicloud/kms20160120', kmsCall);
  await secrets('@alicloud/kms20160120', 'js/kms-client', kmsCall);

  const pop = new PopCore({ ...credentials, endpoint: 'http://' + endpoint, apiVersion: '2016-01-20' });
  // A key without a policy of its own answers RAM's default.
  const initial = await pop.request('GetKeyPolicy', { KeyId: keyId }, { method: 'POST' });
  assert.strictEqual(initial.Policy, '{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::' + account +
    ':*"]},"Action":["kms:*"],"Resource":["*"]}]}', 'the default key policy');
  for (const method of ['GET', 'POST']) {
    await check('@alicloud/pop-core ' + method, (action, params) => pop.request(action, params, { method }));
    await secrets('@alicloud/pop-core ' + method, 'js/pop-core-' + method, (action, params) => pop.request(action, params, { method }));
    await keyPolicy('@alicloud/pop-core ' + method, (action, params) => pop.request(action, params, { method }));
    await secretPolicy('@alicloud/pop-core ' + method, (action, params) => pop.request(action, params, { method }), 'js/pop-core-' + method);
  }

  await check('@alicloud/openapi-client ACS3, query', openApi({}, false));
  await check('@alicloud/openapi-client ACS3, form body', openApi({}, true));
  await check('@alicloud/openapi-client 1.0', openApi({ signatureAlgorithm: 'v2' }, false));
  await keyPolicy('@alicloud/openapi-client ACS3, query', openApi({}, false));
  await keyPolicy('@alicloud/openapi-client ACS3, form body', openApi({}, true));
  await secretPolicy('@alicloud/openapi-client ACS3, form body', openApi({}, true), 'js/kms-client');
  console.log('OK');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
