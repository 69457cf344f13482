#!/usr/bin/env python3
"""Prints template.yaml as CloudFormation sees it after the SAM transform.

Usage: scripts/sam-translate.py template.yaml > template.json

Offline: local CodeUri folders become placeholder S3 locations (what
`sam package` would upload), managed policy names resolve from a fixed table,
and the region defaults to us-east-1. Needs aws-sam-translator
(pip install aws-sam-translator).
"""
import json
import os
import sys

from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class ManagedPolicies:
    """The managed policies SAM may attach by name, without asking IAM."""

    def load(self):
        names = [
            "AWSLambdaBasicExecutionRole",
            "AWSLambdaVPCAccessExecutionRole",
            "AWSLambdaSQSQueueExecutionRole",
        ]
        return {n: "arn:aws:iam::aws:policy/service-role/" + n for n in names}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(sys.argv[1]) as f:
        template = yaml_parse(f.read())
    for res in template.get("Resources", {}).values():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = "s3://placeholder-bucket/" + props["CodeUri"]
    try:
        out = transform(template, {}, ManagedPolicies())
    except InvalidDocumentException as e:
        sys.exit("\n".join(str(c) for c in e.causes))
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
