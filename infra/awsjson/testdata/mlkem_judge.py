"""OpenSSL's ML-KEM, through Python's cryptography, as a party outside KMS.

  encapsulate <public key DER, hex>: prints a fresh secret and its
      ciphertext, hex, one a line.
  pair <public key DER, hex> <PKCS #8 private key DER, hex>: encapsulates
      under the public key, decapsulates with the private key, and prints
      ok when the secrets agree.
"""
import sys

from cryptography.hazmat.primitives.serialization import load_der_private_key, load_der_public_key

if sys.argv[1] == "encapsulate":
    secret, ciphertext = load_der_public_key(bytes.fromhex(sys.argv[2])).encapsulate()
    print(secret.hex())
    print(ciphertext.hex())
elif sys.argv[1] == "pair":
    secret, ciphertext = load_der_public_key(bytes.fromhex(sys.argv[2])).encapsulate()
    private = load_der_private_key(bytes.fromhex(sys.argv[3]), password=None)
    print("ok" if private.decapsulate(ciphertext) == secret else "the halves disagree")
