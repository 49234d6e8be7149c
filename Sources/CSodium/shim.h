#ifndef SIGNING_PROXY_CSODIUM_SHIM_H
#define SIGNING_PROXY_CSODIUM_SHIM_H

// libsodium (Debian libsodium-dev): the NaCl box, XChaCha20-Poly1305 and the ed25519 -> X25519 conversions
// that swift-crypto lacks (the E2EE target).
#include <sodium.h>

#endif
