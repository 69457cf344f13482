"""Sends the same request several times in a row through botocore, the AWS
SDK for Python under boto3 and the AWS CLI.

botocore signs no invocation ID, so calls made within one second are
byte-identical: each must still succeed. Arguments: endpoint, region, retry
mode (legacy or standard), key ID, how many times to make each call.
Credentials come from the environment (AWS_NEW_RETRIES_2026 too).
Prints one JSON object: how many distinct answers each call had, how many
retries botocore made for it, and the first error's text.
"""
import base64
import json
import sys

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, region, mode, key_id, times = sys.argv[1:6]
client = botocore.session.get_session().create_client(
    "kms", endpoint_url=endpoint, region_name=region,
    config=Config(retries={"mode": mode}))

calls = {
    "GenerateRandom": lambda: client.generate_random(NumberOfBytes=32),
    "GenerateDataKey": lambda: client.generate_data_key(KeyId=key_id, KeySpec="AES_256"),
}
out = {"distinct": {}, "retries": {}, "error": ""}
for name, call in calls.items():
    seen, retries = set(), 0
    for _ in range(int(times)):
        try:
            answer = call()
            seen.add(base64.b64encode(answer["Plaintext"]).decode())
            retries += answer["ResponseMetadata"]["RetryAttempts"]
        except ClientError as e:
            out["error"] = out["error"] or str(e)
    out["distinct"][name] = len(seen)
    out["retries"][name] = retries
print(json.dumps(out))
