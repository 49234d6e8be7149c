"""The committed E2EE vectors are exactly the independent Python reference's output, and each opens in Python.

No server is started: the Swift side is checked by E2EETests against the same file (see e2ee_reference.py).
"""

import e2ee_reference as ref


def test_committed_vectors_are_the_reference_output():
    assert ref.VECTORS.read_text() == ref.render(ref.generate())


def test_every_vector_opens_for_its_recipient():
    doc = ref.generate()
    w = doc["world"]
    for v in doc["vectors"]:
        _, open_, info, _, _ = ref.SUITES[v["suite"]]
        blob = bytes.fromhex(v["field"])
        assert open_(blob, ref.recipient_secret(w, v), info, v["aad"].encode()).decode() == v["plaintext"], v["name"]


def test_tampering_fails():
    doc = ref.generate()
    w = doc["world"]
    for v in doc["vectors"]:
        _, open_, info, _, _ = ref.SUITES[v["suite"]]
        blob = bytearray.fromhex(v["field"])
        blob[-1] ^= 1
        try:
            open_(bytes(blob), ref.recipient_secret(w, v), info, v["aad"].encode())
        except Exception:
            continue
        raise AssertionError(f"{v['name']}: a flipped tag bit still opened")


def test_ed25519_conversions_agree_with_libsodium():
    # The DV formula for public keys and the clamp for secrets, against libsodium's conversions via PyNaCl.
    w = ref.world()
    for who in ("server", "client"):
        pub = bytes.fromhex(w[f"{who}_ed25519_public"])
        seed = bytes.fromhex(w[f"{who}_ed25519_seed"])
        assert ref.sodium.crypto_sign_ed25519_pk_to_curve25519(pub).hex() == w[f"{who}_x25519_public"]
        sk = ref.sodium.crypto_sign_seed_keypair(seed)[1]
        assert ref.sodium.crypto_sign_ed25519_sk_to_curve25519(sk).hex() == w[f"{who}_x25519_secret"]


def test_body_vectors_open_to_what_is_forwarded():
    # Each sealed request field opens (server side) to the forwarded value: a string, or a list or object sent as
    # its compact JSON text; the answers' expected fields are the plaintext at their paths.
    doc = ref.generate()
    w = doc["world"]
    for body in doc["bodies"]:
        sent = ref.json.loads(body["request"])
        for path in _sealed_paths(sent, body["forwarded"]):
            value = ref.get_path(body["forwarded"], path)
            expected = value if isinstance(value, str) else ref.compact(value)
            assert ref.open_request_field(w, body, path) == expected, (body["name"], path)
        answer = ref.json.loads(body["answer"])
        for field in body["sealed"]:
            value = ref.get_path(answer, field["path"])
            assert field["plaintext"] == (value if isinstance(value, str) else ref.compact(value)), body["name"]
        assert body["sealed"], body["name"]


def _sealed_paths(sent, plain, path=()):
    """Where the sent body differs from the forwarded one: the sealed fields."""
    if isinstance(sent, str) and sent != plain:
        return [list(path)]
    if isinstance(sent, dict) and isinstance(plain, dict):
        return [p for key in sent for p in _sealed_paths(sent[key], plain[key], path + (key,))]
    if isinstance(sent, list) and isinstance(plain, list):
        return [p for i, item in enumerate(sent) for p in _sealed_paths(item, plain[i], path + (i,))]
    return [] if sent == plain else [list(path)]
