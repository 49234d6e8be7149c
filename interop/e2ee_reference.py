"""An independent client and server for the E2EE dialects, with `cryptography` and PyNaCl (test-only).

Each rule is written from the dialects' own documents and reference clients (docs/E2EE.md of this repository
summarises them), not from the Swift code. `python interop/e2ee_reference.py --write` regenerates
`Fixtures/e2ee/vectors.json`: deterministic keys, ephemeral keys and nonces, so the file is exactly this
module's output, and `interop/test_e2ee_reference.py` checks that it still is. The Swift suite E2EETests
opens every request vector through its dialect parser and reproduces every ciphertext byte for byte from the
same ephemeral key and nonce, which proves both directions: what Python seals Swift opens, and what Swift
seals is what Python seals (and opens).
"""

import hashlib
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl import bindings as sodium
from nacl.public import Box, PrivateKey, PublicKey

VECTORS = Path(__file__).resolve().parent.parent / "Fixtures" / "e2ee" / "vectors.json"
P = 2**255 - 19


def det(label: str, n: int = 32) -> bytes:
    """Deterministic test bytes (never keys outside tests)."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"e2ee-vectors/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


# ---- keys -----------------------------------------------------------------------------------------------------


def secp_private(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256K1())


def secp_public_uncompressed(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def ed25519_public(seed: bytes) -> bytes:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed25519_seed_to_x25519(seed: bytes) -> bytes:
    """clamp(SHA-512(seed)[:32]), as the DV and NEAR servers derive their X25519 secret."""
    s = bytearray(hashlib.sha512(seed).digest()[:32])
    s[0] &= 248
    s[31] &= 127
    s[31] |= 64
    return bytes(s)


def ed25519_pub_to_x25519(pub: bytes) -> bytes:
    """Birational map u = (1 + y) / (1 - y) mod p (RFC 7748), as DV's client scripts compute it."""
    y = int.from_bytes(pub, "little") & ((1 << 255) - 1)
    u = 0 if y == 1 else ((1 + y) * pow((1 - y) % P, P - 2, P)) % P
    return u.to_bytes(32, "little")


def x25519_public(secret: bytes) -> bytes:
    return (
        x25519.X25519PrivateKey.from_private_bytes(secret)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def hkdf(shared: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


# ---- suites: seal(plaintext, recipient public, aad, ephemeral secret, nonce) / open(blob, recipient secret, aad) ---


def ecies_seal(pt: bytes, recipient_pub65: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    eph_key = secp_private(eph)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), recipient_pub65)
    key = hkdf(eph_key.exchange(ec.ECDH(), peer), info)
    return secp_public_uncompressed(eph_key) + nonce + AESGCM(key).encrypt(nonce, pt, aad or None)


def ecies_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), blob[:65])
    key = hkdf(secp_private(secret).exchange(ec.ECDH(), peer), info)
    return AESGCM(key).decrypt(blob[65:77], blob[77:], aad or None)


def x25519_gcm_seal(pt: bytes, recipient_u: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    eph_key = x25519.X25519PrivateKey.from_private_bytes(eph)
    key = hkdf(eph_key.exchange(x25519.X25519PublicKey.from_public_bytes(recipient_u)), info)
    return x25519_public(eph) + nonce + AESGCM(key).encrypt(nonce, pt, aad or None)


def x25519_gcm_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    shared = x25519.X25519PrivateKey.from_private_bytes(secret).exchange(
        x25519.X25519PublicKey.from_public_bytes(blob[:32])
    )
    return AESGCM(hkdf(shared, info)).decrypt(blob[32:44], blob[44:], aad or None)


def x25519_xchacha_seal(pt: bytes, recipient_u: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    eph_key = x25519.X25519PrivateKey.from_private_bytes(eph)
    key = hkdf(eph_key.exchange(x25519.X25519PublicKey.from_public_bytes(recipient_u)), info)
    return x25519_public(eph) + nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, aad or None, nonce, key)


def x25519_xchacha_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    shared = x25519.X25519PrivateKey.from_private_bytes(secret).exchange(
        x25519.X25519PublicKey.from_public_bytes(blob[:32])
    )
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[56:], aad or None, blob[32:56], hkdf(shared, info))


def box_seal(pt: bytes, recipient_u: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    assert not aad
    sealed = Box(PrivateKey(eph), PublicKey(recipient_u)).encrypt(pt, nonce)  # nonce || MAC || ciphertext
    return x25519_public(eph) + bytes(sealed)


def box_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    assert not aad
    return Box(PrivateKey(secret), PublicKey(blob[:32])).decrypt(blob[56:], blob[32:56])


SUITES = {
    # name: (seal, open, info, curve, nonce length)
    "legacy-ecdsa": (ecies_seal, ecies_open, b"ecdsa_encryption", "secp256k1", 12),
    "dv-ed25519": (x25519_gcm_seal, x25519_gcm_open, b"ed25519_encryption", "x25519", 12),
    "near-ed25519-v1-box": (box_seal, box_open, b"", "x25519", 24),
    "near-ed25519-v2": (x25519_xchacha_seal, x25519_xchacha_open, b"ed25519_encryption", "x25519", 24),
    "aci-x25519": (x25519_gcm_seal, x25519_gcm_open, b"aci.e2ee.v2.x25519", "x25519", 12),
    "aci-secp256k1": (ecies_seal, ecies_open, b"aci.e2ee.v2.secp256k1", "secp256k1", 12),
}

# ---- AAD ------------------------------------------------------------------------------------------------------


def dv_request_aad(algo, model, m, c, nonce, ts) -> bytes:
    return f"v2|req|algo={algo}|model={model}|m={m}|c={'-' if c is None else c}|n={nonce}|ts={ts}".encode()


def dv_response_aad(algo, model, rid, choice, field, nonce, ts) -> bytes:
    return f"v2|resp|algo={algo}|model={model}|id={rid}|choice={choice}|field={field}|n={nonce}|ts={ts}".encode()


def jcs(obj: dict) -> bytes:
    """RFC 8785 for flat objects of ASCII names, strings and integers: json's escaping matches ECMAScript's."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def aci_request_aad(algo, model, field, nonce, ts) -> bytes:
    return jcs({"purpose": "aci.e2ee.request.v2", "algo": algo, "model": model, "field": field, "nonce": nonce, "ts": ts})


def aci_response_aad(algo, model, rid, field, nonce, ts) -> bytes:
    return jcs(
        {"purpose": "aci.e2ee.response.v2", "algo": algo, "model": model, "id": rid, "field": field,
         "nonce": nonce, "ts": ts}
    )


# ---- the fixed world ------------------------------------------------------------------------------------------

SERVER_ECDSA = det("server-ecdsa")
SERVER_ED25519_SEED = det("server-ed25519-seed")
CLIENT_ECDSA = det("client-ecdsa")
CLIENT_ED25519_SEED = det("client-ed25519-seed")
ACI_X25519 = bytes([0x03]) * 32  # the key of ACI's published vectors
CLIENT_X25519 = det("client-x25519")
MODEL = 'tiny "model"\u00e9\n'  # exercises escaping in the JCS AAD and raw bytes in DV's pipe AAD
DV_NONCE = "n1750000000abcd1234abcd"
TS = 1750000000
ACI_NONCE = "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f"  # mixed case on purpose
ACI_SECP_ALGO = "secp256k1-aes-256-gcm-hkdf-sha256"
ACI_X_ALGO = "x25519-aes-256-gcm-hkdf-sha256"


def world() -> dict:
    server_secp_pub = secp_public_uncompressed(secp_private(SERVER_ECDSA))
    client_secp_pub = secp_public_uncompressed(secp_private(CLIENT_ECDSA))
    server_ed_pub = ed25519_public(SERVER_ED25519_SEED)
    client_ed_pub = ed25519_public(CLIENT_ED25519_SEED)
    return {
        "server_ecdsa_secret": SERVER_ECDSA.hex(),
        "server_ecdsa_public": server_secp_pub.hex(),
        "server_ed25519_seed": SERVER_ED25519_SEED.hex(),
        "server_ed25519_public": server_ed_pub.hex(),
        "server_x25519_secret": ed25519_seed_to_x25519(SERVER_ED25519_SEED).hex(),
        "server_x25519_public": ed25519_pub_to_x25519(server_ed_pub).hex(),
        "client_ecdsa_secret": CLIENT_ECDSA.hex(),
        "client_ecdsa_public": client_secp_pub.hex(),
        "client_ed25519_seed": CLIENT_ED25519_SEED.hex(),
        "client_ed25519_public": client_ed_pub.hex(),
        "client_x25519_secret": ed25519_seed_to_x25519(CLIENT_ED25519_SEED).hex(),
        "client_x25519_public": ed25519_pub_to_x25519(client_ed_pub).hex(),
        "aci_x25519_secret": ACI_X25519.hex(),
        "aci_x25519_public": x25519_public(ACI_X25519).hex(),
        "aci_client_x25519_secret": CLIENT_X25519.hex(),
        "aci_client_x25519_public": x25519_public(CLIENT_X25519).hex(),
        "model": MODEL,
        "dv_nonce": DV_NONCE,
        "aci_nonce": ACI_NONCE,
        "timestamp": TS,
    }


def cases(w: dict) -> list[dict]:
    """(dialect, suite, direction, plaintext, aad, recipient) for every dialect, both directions."""
    srv_secp = bytes.fromhex(w["server_ecdsa_public"])
    cli_secp = bytes.fromhex(w["client_ecdsa_public"])
    srv_u = bytes.fromhex(w["server_x25519_public"])
    cli_u = bytes.fromhex(w["client_x25519_public"])
    aci_u = bytes.fromhex(w["aci_x25519_public"])
    aci_cli_u = bytes.fromhex(w["aci_client_x25519_public"])
    text = "Hello, encrypted world! \u00e9\u4e16\U0001f600"
    out = []

    def add(name, dialect, suite, direction, pt, aad, recipient, **where):
        out.append(dict(name=name, dialect=dialect, suite=suite, direction=direction, plaintext=pt,
                        aad=aad.decode(), recipient=recipient.hex(), where=where))

    for algo, suite, s_pub, c_pub in (("ecdsa", "legacy-ecdsa", srv_secp, cli_secp),
                                      ("ed25519", "dv-ed25519", srv_u, cli_u)):
        add(f"dv-v1-{algo}-request", "dv-v1", suite, "request", text, b"", s_pub, algo=algo, m=0, c=None)
        add(f"dv-v1-{algo}-response", "dv-v1", suite, "response", "v1 answer", b"", c_pub, algo=algo)
        add(f"dv-v2-{algo}-request", "dv-v2", suite, "request", text,
            dv_request_aad(algo, MODEL, 1, None, DV_NONCE, TS), s_pub, algo=algo, m=1, c=None)
        add(f"dv-v2-{algo}-request-part", "dv-v2", suite, "request", "part two",
            dv_request_aad(algo, MODEL, 0, 2, DV_NONCE, TS), s_pub, algo=algo, m=0, c=2)
        add(f"dv-v2-{algo}-response", "dv-v2", suite, "response", "v2 answer",
            dv_response_aad(algo, "served-model", "chatcmpl-1", 0, "reasoning_content", DV_NONCE, TS), c_pub,
            algo=algo, model="served-model", id="chatcmpl-1", choice=0, field="reasoning_content")
    add("near-v1-ecdsa-request", "near-v1", "legacy-ecdsa", "request", text, b"", srv_secp, algo="ecdsa")
    add("near-v2-ecdsa-response", "near-v2", "legacy-ecdsa", "response", "near answer", b"", cli_secp, algo="ecdsa")
    add("near-v1-ed25519-request", "near-v1", "near-ed25519-v1-box", "request", text, b"", srv_u, algo="ed25519")
    add("near-v1-ed25519-response", "near-v1", "near-ed25519-v1-box", "response", "near v1 answer", b"", cli_u,
        algo="ed25519")
    add("near-v2-ed25519-request", "near-v2", "near-ed25519-v2", "request", text, b"", srv_u, algo="ed25519")
    add("near-v2-ed25519-response", "near-v2", "near-ed25519-v2", "response", "[0.25,-1.5]", b"", cli_u,
        algo="ed25519")
    for suite, algo, s_pub, c_pub in (("aci-x25519", ACI_X_ALGO, aci_u, aci_cli_u),
                                      ("aci-secp256k1", ACI_SECP_ALGO, srv_secp, cli_secp)):
        add(f"{suite}-request", "aci-v2", suite, "request", text,
            aci_request_aad(algo, MODEL, "messages.0.content.1.text", ACI_NONCE, TS), s_pub,
            algo=algo, field="messages.0.content.1.text")
        add(f"{suite}-response", "aci-v2", suite, "response", "aci answer",
            aci_response_aad(algo, MODEL, "chatcmpl-123", "choices.0.delta.content", ACI_NONCE, TS), c_pub,
            algo=algo, id="chatcmpl-123", field="choices.0.delta.content")
    return out


def recipient_secret(w: dict, case: dict) -> bytes:
    owner = "server" if case["direction"] == "request" else "client"
    suite = case["suite"]
    if suite.startswith("aci-x25519"):
        return bytes.fromhex(w["aci_x25519_secret"] if owner == "server" else w["aci_client_x25519_secret"])
    if SUITES[suite][3] == "secp256k1":
        return bytes.fromhex(w[f"{owner}_ecdsa_secret"])
    return bytes.fromhex(w[f"{owner}_x25519_secret"])


def generate() -> dict:
    w = world()
    vectors = []
    for case in cases(w):
        seal, open_, info, curve, nonce_len = SUITES[case["suite"]]
        eph = det(f"{case['name']}/ephemeral")
        if curve == "x25519":
            eph = bytearray(eph)  # clamp, so the stored secret is the scalar every library uses unchanged
            eph[0] &= 248
            eph[31] &= 127
            eph[31] |= 64
            eph = bytes(eph)
        nonce = det(f"{case['name']}/nonce", nonce_len)
        aad = case["aad"].encode()
        blob = seal(case["plaintext"].encode(), bytes.fromhex(case["recipient"]), info, aad, eph, nonce)
        assert open_(blob, recipient_secret(w, case), info, aad).decode() == case["plaintext"]
        vectors.append({**case, "ephemeral_secret": eph.hex(), "nonce": nonce.hex(), "field": blob.hex()})
    return {
        "comment": "Generated by interop/e2ee_reference.py --write; test data only, never use these keys elsewhere.",
        "world": w,
        "vectors": vectors,
    }


def render(doc: dict) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        VECTORS.write_text(render(generate()))
        print(f"wrote {VECTORS}")
    else:
        sys.stdout.write(render(generate()))
